/**
 * One line publisher connection's protocol state: its line splitter, how its messages reach
 * the hub's batches, and what happens when it goes away. No socket here: the server feeds
 * chunks in and closes the socket when told to.
 *
 * While no frame subscriber is connected, the splitter writes straight into the line batch
 * (the zero-copy fast path). With frame subscribers, each message is also encoded as a seed
 * 003 Submit frame with a relay-assigned ID (8 ASCII digits, a counter per publisher; issue
 * 12), by a LineFramer that sits between the splitter and the batches.
 */
import { CloseReason } from "../errors.ts";
import { BODY_OFFSET, ID_BYTES, SUBMIT } from "../protocol/frame-codec.ts";
import { writeHeader } from "../protocol/frame-encoder.ts";
import { FrameIdCounter } from "../protocol/frame-id.ts";
import { LineSplitter, type SegmentSink } from "../protocol/line-splitter.ts";
import type { BatchBuilder } from "./batch.ts";
import { type Hub, WireFormat } from "./hub.ts";
import type { PublisherConnection } from "./publisher.ts";

const NEWLINE = 10;

/**
 * Passes a line publisher's output to the line batch (when anyone reads lines) and encodes
 * every message as a Submit frame into the frame batch. The splitter's segments hold whole
 * messages in total, but one message may span two segments (a `\r\n` line, a carried-over
 * line), so the start of an unfinished message is kept until its `\n`.
 */
class LineFramer implements SegmentSink {
  private readonly ids = new FrameIdCounter();
  private partial = new Uint8Array(256);
  private partialLength = 0;
  lineBatch: BatchBuilder | undefined;
  frameBatch!: BatchBuilder;

  segment(bytes: Uint8Array, start: number, end: number, stable: boolean): void {
    this.lineBatch?.segment(bytes, start, end, stable);
    let at = start;
    while (at < end) {
      const newline = bytes.indexOf(NEWLINE, at);
      if (newline === -1 || newline >= end) {
        this.hold(bytes, at, end);
        return;
      }
      this.encode(bytes, at, newline);
      at = newline + 1;
    }
  }

  /** Writes Submit(next ID, held bytes + `bytes[start, end)`) into the frame batch. */
  private encode(bytes: Uint8Array, start: number, end: number): void {
    const held = this.partialLength;
    const payload = held + end - start;
    const batch = this.frameBatch;
    const offset = batch.reserve(BODY_OFFSET + payload);
    const out = batch.scratchBuffer();
    let at = this.ids.write(out, writeHeader(out, offset, SUBMIT, ID_BYTES + payload));
    if (held > 0) {
      out.set(this.partial.subarray(0, held), at);
      at += held;
      this.partialLength = 0;
    }
    out.set(bytes.subarray(start, end), at);
    batch.commit(BODY_OFFSET + payload);
    batch.messages++;
  }

  private hold(bytes: Uint8Array, start: number, end: number): void {
    const needed = this.partialLength + end - start;
    if (needed > this.partial.length) {
      const grown = new Uint8Array(Math.max(needed, this.partial.length * 2));
      grown.set(this.partial.subarray(0, this.partialLength));
      this.partial = grown;
    }
    this.partial.set(bytes.subarray(start, end), this.partialLength);
    this.partialLength = needed;
  }
}

export class LinePublisher implements PublisherConnection {
  private readonly splitter: LineSplitter;
  /** Created when the first frame subscriber is seen. */
  private framer: LineFramer | undefined;
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  readonly selfPaused = false;

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
    const messages = splitter.push(chunk, this.sinkFor(hub));
    this.published(messages, hub);
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
    this.published(splitter.finish(this.sinkFor(hub)), hub);
    if (!splitter.tooLong) return { reason, droppedBytes: 0 };
    hub.counters.linesTooLong++;
    this.closeDetail = `last line longer than --max-line ${this.maxLine} B`;
    return { reason, droppedBytes: held };
  }

  /** Line publishers get no acks, so there is never anything of theirs to drain. */
  drain(): void {}

  /** The line batch itself while nobody reads frames; else the framer in front of both. */
  private sinkFor(hub: Hub): SegmentSink {
    const lineBatch = hub.batches[WireFormat.Line];
    if (hub.readers[WireFormat.Frame] === 0) return lineBatch;
    this.framer ??= new LineFramer();
    this.framer.frameBatch = hub.batches[WireFormat.Frame];
    this.framer.lineBatch = hub.readers[WireFormat.Line] > 0 ? lineBatch : undefined;
    return this.framer;
  }

  private published(messages: number, hub: Hub): void {
    if (messages === 0) return;
    if (hub.readers[WireFormat.Frame] === 0 || hub.readers[WireFormat.Line] > 0) {
      hub.batches[WireFormat.Line].messages += messages;
    }
    hub.publish(messages);
  }
}
