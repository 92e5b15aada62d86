/**
 * One line publisher connection's protocol state: its line splitter, how its messages reach
 * the hub's batches, and what happens when it goes away. No socket here: the server feeds
 * chunks in and closes the socket when told to.
 *
 * While no frame subscriber is connected and no NATS client subscribes to --subject, the
 * splitter writes straight into the line batch (the zero-copy fast path). Otherwise a
 * LineMessages sits between the splitter and the batches: with frame subscribers each message
 * is also encoded as a seed 003 Submit frame with a relay-assigned ID (8 ASCII digits, a
 * counter per publisher; issue 12), and with NATS interest each goes to the NATS bridge
 * (stream-bridge.ts).
 */
import { CloseReason } from "../errors.ts";
import { BODY_OFFSET, ID_BYTES, SUBMIT } from "../protocol/frame-codec.ts";
import { writeHeader } from "../protocol/frame-encoder.ts";
import { FrameIdCounter } from "../protocol/frame-id.ts";
import { LineSplitter, type SegmentSink } from "../protocol/line-splitter.ts";
import type { BatchBuilder } from "./batch.ts";
import { type Hub, WireFormat } from "./hub.ts";
import type { PublisherConnection } from "./publisher.ts";
import type { StreamBridge } from "./stream-bridge.ts";

const NEWLINE = 10;

/**
 * Passes a line publisher's output to the line batch (when anyone reads lines), and splits it
 * into messages for those that need each one: the frame batch (each message as a Submit frame
 * with a relay-assigned ID) and the NATS bridge (each message to the subscriptions of
 * --subject). The splitter's segments hold whole messages in total, but one message may span
 * two segments (a `\r\n` line, a carried-over line), so the start of an unfinished message is
 * kept until its `\n`.
 */
class LineMessages implements SegmentSink {
  private readonly ids = new FrameIdCounter();
  private partial = new Uint8Array(256);
  private partialLength = 0;
  lineBatch: BatchBuilder | undefined;
  frameBatch: BatchBuilder | undefined;
  bridge: StreamBridge | undefined;

  segment(bytes: Uint8Array, start: number, end: number, stable: boolean): void {
    this.lineBatch?.segment(bytes, start, end, stable);
    let at = start;
    while (at < end) {
      const newline = bytes.indexOf(NEWLINE, at);
      if (newline === -1 || newline >= end) {
        this.hold(bytes, at, end);
        return;
      }
      if (this.partialLength > 0) {
        // The rest of a carried-over message: whole in `partial` from here.
        this.hold(bytes, at, newline);
        this.message(this.partial, 0, this.partialLength);
        this.partialLength = 0;
      } else {
        this.message(bytes, at, newline);
      }
      at = newline + 1;
    }
  }

  /** One whole message `bytes[start, end)`, its `\n` excluded. */
  private message(bytes: Uint8Array, start: number, end: number): void {
    const batch = this.frameBatch;
    if (batch !== undefined) {
      const payload = end - start;
      const offset = batch.reserve(BODY_OFFSET + payload);
      const out = batch.scratchBuffer();
      const at = this.ids.write(out, writeHeader(out, offset, SUBMIT, ID_BYTES + payload));
      out.set(bytes.subarray(start, end), at);
      batch.commit(BODY_OFFSET + payload);
      batch.messages++;
    }
    this.bridge?.fromLine(bytes, start, end);
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
  /** Created when the first frame subscriber or NATS subscription to --subject is seen. */
  private splitMessages: LineMessages | undefined;
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  readonly selfPaused = false;
  cid = 0;
  bytesIn = 0;
  messagesIn = 0;

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
    this.bytesIn += chunk.length;
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

  /**
   * The line batch itself while nobody reads frames and no NATS client subscribes to
   * --subject (the zero-copy path); else a splitter of messages in front of them all. With
   * --sub-subject not matching --subject, line and frame subscribers get none of it.
   */
  private sinkFor(hub: Hub): SegmentSink {
    const bridge = hub.bridge;
    const local = bridge?.streamLocal ?? true;
    const lineBatch = hub.batches[WireFormat.Line];
    const nats = bridge?.natsInterest === true;
    const frames = local && hub.readers[WireFormat.Frame] > 0;
    if (local && !frames && !nats) return lineBatch;
    this.splitMessages ??= new LineMessages();
    const sink = this.splitMessages;
    sink.frameBatch = frames ? hub.batches[WireFormat.Frame] : undefined;
    sink.lineBatch = local && hub.readers[WireFormat.Line] > 0 ? lineBatch : undefined;
    sink.bridge = nats ? bridge : undefined;
    return sink;
  }

  private published(messages: number, hub: Hub): void {
    if (messages === 0) return;
    this.messagesIn += messages;
    const local = hub.bridge?.streamLocal ?? true;
    if (local && (hub.readers[WireFormat.Frame] === 0 || hub.readers[WireFormat.Line] > 0)) {
      hub.batches[WireFormat.Line].messages += messages;
    }
    hub.publish(messages);
  }
}
