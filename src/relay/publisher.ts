/**
 * One publisher connection's protocol state: its line splitter, and what happens to its
 * bytes as they arrive and when it goes away. No socket here: the server feeds chunks in and
 * closes the socket when told to.
 */
import { CloseReason } from "../errors.ts";
import type { Hub } from "./hub.ts";
import { LineSplitter } from "./line-splitter.ts";

export class Publisher {
  private readonly splitter: LineSplitter;
  /** Set when the relay itself closes the connection, so the close handler reports why. */
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;

  constructor(
    readonly peer: string,
    private readonly maxLine: number,
  ) {
    this.splitter = new LineSplitter(maxLine);
  }

  /**
   * Publishes every message `chunk` completes. Returns false when a line passed --max-line:
   * nothing of it was published, and the caller must close the connection.
   */
  receive(chunk: Uint8Array, hub: Hub): boolean {
    if (this.closeReason) return true; // closing: late bytes are ignored
    hub.counters.bytesReceived += chunk.length;
    const splitter = this.splitter;
    const messages = splitter.push(chunk, hub);
    if (messages > 0) hub.publish(messages);
    if (!splitter.tooLong) return true;
    hub.counters.linesTooLong++;
    this.closeReason = CloseReason.LineTooLong;
    this.closeDetail = `line longer than --max-line ${this.maxLine} B`;
    return false;
  }

  /**
   * The connection is gone (`reset` when by RST). A clean close publishes the unfinished last
   * line as a message; otherwise it is dropped. Returns the close reason and the bytes lost.
   */
  closed(reset: boolean, hub: Hub): { reason: CloseReason; droppedBytes: number } {
    const reason = this.closeReason ?? (reset ? CloseReason.PeerReset : CloseReason.PeerClosed);
    const splitter = this.splitter;
    if (reason !== CloseReason.PeerClosed) {
      const droppedBytes = splitter.discard();
      if (droppedBytes > 0) this.closeDetail ??= "unfinished line dropped";
      return { reason, droppedBytes };
    }
    const held = splitter.pendingBytes;
    const messages = splitter.finish(hub);
    if (messages > 0) hub.publish(messages);
    if (!splitter.tooLong) return { reason, droppedBytes: 0 };
    hub.counters.linesTooLong++;
    this.closeDetail = `last line longer than --max-line ${this.maxLine} B`;
    return { reason, droppedBytes: held };
  }
}
