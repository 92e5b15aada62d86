/**
 * One subscriber connection and its backlog.
 *
 * Bun's `socket.write` is one non-blocking send that returns how many bytes the kernel took;
 * it keeps nothing. Whatever it does not take goes into this subscriber's Backlog and is
 * written from the `drain` handler, in a few large writes. While a backlog exists, new
 * messages join its end so the order on the wire never changes.
 */
import type { CloseReason } from "../errors.ts";
import { Backlog } from "./backlog.ts";
import type { Batch } from "./batch.ts";
import type { FrameSubscriberInput } from "./frame-subscriber.ts";
import type { WireFormat } from "./hub.ts";
import type { SlowConsumerPolicy } from "./options.ts";
import type { RelaySocket } from "./ws-socket.ts";

/** Minimum seconds between two log lines about bytes a subscriber sent us. */
const INPUT_LOG_INTERVAL_MS = 10_000;

/** What became of a batch offered to a subscriber. */
export const Offer = {
  /** Handed to the kernel, or queued. */
  Accepted: 0,
  /**
   * The backlog would pass --max-pending (policy `disconnect`, or `stall` once the subscriber
   * held publishers past --stall-timeout): a slow consumer.
   */
  OverLimit: 1,
  /** The backlog is over --max-pending (policy `drop`): the whole batch was dropped. */
  Dropped: 2,
  /** The socket is already closed. */
  Closed: 3,
} as const;
export type Offer = (typeof Offer)[keyof typeof Offer];

export class Subscriber {
  readonly backlog = new Backlog();
  /** Position in the hub's subscriber array; -1 once removed. */
  index = -1;
  /** Set when the relay itself closes the connection, so the close handler reports why. */
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  /** Bytes the kernel took. */
  bytesSent = 0;
  /** Message deliveries accepted for it (counted per batch by the hub), for /connz. */
  messagesSent = 0;
  /** Milliseconds its backlog held publishers in finished episodes (pacing), for /connz. */
  heldPublishersMs = 0;
  /** Its id in the relay's ConnectionRegistry (0: not registered). */
  cid = 0;
  /** Queued bytes thrown away when the subscriber was removed. */
  droppedBytes = 0;
  /** Policy `drop`: messages and bytes dropped in the current episode (0 when none). */
  episodeDroppedMessages = 0;
  episodeDroppedBytes = 0;
  /** Policy `drop`: messages dropped over the connection's life. */
  droppedMessages = 0;
  /** Policies `block` and `stall`: this subscriber's backlog holds publishers. */
  holdingPublishers = false;
  /** performance.now() when it last began to hold publishers. */
  holdingSince = 0;
  /**
   * Policy `stall`: it held publishers for --stall-timeout in this episode, so they no longer
   * wait for it; it is cut at --max-pending unless it gets back to the low-water mark first.
   */
  stallExpired = false;
  /** Write-timeout bookkeeping: bytesSent at the last sweep, and sweeps without progress. */
  bytesSentAtSweep = 0;
  stalledSweeps = 0;
  inputBytes = 0;
  /** Frame subscribers: what they send (Conn with a token) is decoded here. */
  frameInput: FrameSubscriberInput | undefined;
  private lastInputLogAt = Number.NEGATIVE_INFINITY;
  private inputBytesAtLastLog = 0;

  /**
   * @param format the encoding it reads (line or frame): which of the hub's batches it gets.
   */
  constructor(
    readonly socket: RelaySocket,
    readonly peer: string,
    readonly format: WireFormat,
  ) {}

  /**
   * Sends a batch of whole messages, or queues what the socket does not take (by reference
   * where retainable: see Backlog). When the backlog would pass `maxPending`, `policy`
   * decides: `disconnect` queues nothing and reports OverLimit, and so does `stall` once this
   * subscriber is past --stall-timeout; `drop` drops the whole batch unless part of it
   * already went out (a message is never cut: the rest is queued); `block` (and `stall`
   * within its time) queues anyway, since the hub holds publishers well before this.
   */
  offer(batch: Batch, maxPending: number, policy: SlowConsumerPolicy): Offer {
    const backlog = this.backlog;
    const { length, tailLength } = batch;
    let written = 0;
    if (backlog.length === 0) {
      written = this.socket.write(batch.bytes, batch.start, length);
      if (written === length && tailLength > 0) {
        const tailWritten = this.socket.write(batch.tail, batch.tailStart, tailLength);
        if (tailWritten > 0) written += tailWritten;
      }
      if (written < 0) return Offer.Closed;
      this.bytesSent += written;
      if (written === length + tailLength) return Offer.Accepted;
    }
    if (backlog.length + length + tailLength - written > maxPending) {
      if (policy === "disconnect" || this.stallExpired) return Offer.OverLimit;
      if (policy === "drop" && written === 0) return Offer.Dropped;
    }
    if (written < length) {
      backlog.append(batch.bytes, batch.start + written, batch.start + length, batch.retainable);
      written = length;
    }
    const tailStart = batch.tailStart + written - length;
    backlog.append(batch.tail, tailStart, batch.tailStart + tailLength, true);
    return Offer.Accepted;
  }

  /**
   * Sends a few bytes of its own (a ConnAck) between two batches, in stream order: written at
   * once when nothing is queued, else queued behind the backlog. Returns the bytes queued.
   */
  sendControl(bytes: Uint8Array): number {
    let written = 0;
    if (this.backlog.length === 0) {
      written = this.socket.write(bytes, 0, bytes.length);
      if (written < 0) return 0;
      this.bytesSent += written;
    }
    if (written < bytes.length) this.backlog.append(bytes, written, bytes.length, false);
    return bytes.length - written;
  }

  /**
   * Writes as much of the backlog as the socket takes now. Returns how many bytes left the
   * backlog. Called from `drain`, which also fires when there is nothing to do.
   */
  flush(): number {
    if (this.backlog.length === 0) return 0;
    const written = this.backlog.writeTo(this.socket);
    this.bytesSent += written;
    return written;
  }

  /**
   * Counts bytes the subscriber sent (the protocol ignores them). Returns the bytes to report
   * in a log line (all since the last line), or 0 when it is too soon for another line: the
   * first input is reported at once, later input at most once every 10 seconds.
   */
  noteInput(bytes: number, nowMs: number): number {
    this.inputBytes += bytes;
    if (nowMs - this.lastInputLogAt < INPUT_LOG_INTERVAL_MS) return 0;
    this.lastInputLogAt = nowMs;
    const sinceLastLine = this.inputBytes - this.inputBytesAtLastLog;
    this.inputBytesAtLastLog = this.inputBytes;
    return sinceLastLine;
  }
}
