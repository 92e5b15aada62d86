/**
 * A soak publisher: one connection to the relay's publisher port, sending numbered messages
 * (`pubId,seq,timestampNs,` padded, the bench's format) at a steady rate, open-loop, and
 * remembering when it stamped each seq so accounting can tell which messages a subscriber
 * was owed.
 */
import type { Socket } from "bun";
import { encodeMessage, prefixLength } from "../bench/lib/message.ts";
import { RateSchedule } from "../bench/lib/rate-schedule.ts";
import type { PublisherHistory } from "./accounting.ts";

/** Stop building messages while this much is waiting for the kernel (policy block holds us). */
const MAX_UNSENT_BYTES = 32 * 1024 * 1024;

/**
 * When each seq was stamped: one entry per distinct millisecond, (last seq stamped, ms).
 * Stamps come from Date.now(), the clock the relay's log lines use, kept non-decreasing
 * here so a clock step back cannot make the lookup lie.
 */
export class SendTimeline {
  private lastSeqs = new Float64Array(1024);
  private stamps = new Float64Array(1024);
  private length = 0;

  /** Seqs up to `lastSeq` were stamped at `stampMs` or before. */
  record(lastSeq: number, stampMs: number): void {
    const n = this.length;
    if (n > 0) {
      const previous = this.stamps[n - 1] as number;
      if (stampMs <= previous) {
        this.lastSeqs[n - 1] = lastSeq;
        return;
      }
    }
    if (n === this.stamps.length) {
      this.lastSeqs = grow(this.lastSeqs);
      this.stamps = grow(this.stamps);
    }
    this.lastSeqs[n] = lastSeq;
    this.stamps[n] = stampMs;
    this.length = n + 1;
  }

  /** The highest seq stamped at or before `ms` (0 if none). */
  lastSeqStampedBy(ms: number): number {
    let low = 0;
    let high = this.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.stamps[middle] as number) <= ms) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : (this.lastSeqs[found] as number);
  }
}

function grow(array: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(array.length * 2);
  grown.set(array);
  return grown;
}

export class SoakPublisher implements PublisherHistory {
  readonly timeline = new SendTimeline();
  /** The last seq built (written to the kernel, or waiting in `unsent`). */
  lastSent = 0;
  private readonly unsent: Uint8Array[] = [];
  private unsentBytes = 0;
  private scratch = new Uint8Array(0);
  private readonly maxMessageBytes: number;
  private schedule: RateSchedule | undefined;
  private socket!: Socket<SoakPublisher>;
  private closed = false;
  private resolveClosed: (() => void) | undefined;
  private readonly closedPromise = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });
  private onFlushed: (() => void) | undefined;

  private constructor(
    readonly id: number,
    readonly msgSize: number,
    readonly rate: number,
  ) {
    this.maxMessageBytes = Math.max(msgSize, prefixLength(id, 1e12, Date.now() * 1e3) + 1);
  }

  static async connect(port: number, id: number, msgSize: number, rate: number) {
    const publisher = new SoakPublisher(id, msgSize, rate);
    publisher.socket = await Bun.connect<SoakPublisher>({
      hostname: "127.0.0.1",
      port,
      data: publisher,
      socket: {
        data() {},
        drain(socket) {
          socket.data.flush();
        },
        close(socket) {
          socket.data.closed = true;
          socket.data.resolveClosed?.();
        },
        error() {},
      },
    });
    return publisher;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  lastSeqStampedBy(ms: number): number {
    return this.timeline.lastSeqStampedBy(ms);
  }

  /** Sends, in one write, every message due by now. Message 1 is due at the first call. */
  pump(): void {
    if (this.closed || this.unsentBytes > MAX_UNSENT_BYTES) return;
    const stampMs = Date.now();
    this.schedule ??= new RateSchedule(stampMs, this.rate);
    const upTo = this.schedule.dueThrough(stampMs);
    const count = upTo - this.lastSent;
    if (count <= 0) return;
    const needed = count * this.maxMessageBytes;
    if (this.scratch.length < needed) this.scratch = new Uint8Array(needed);
    let end = 0;
    for (let seq = this.lastSent + 1; seq <= upTo; seq++) {
      end = encodeMessage(this.scratch, end, this.id, seq, stampMs, this.msgSize);
    }
    // Stamped before the write: a message is never in the kernel earlier than its stamp says.
    this.timeline.record(upTo, stampMs);
    this.lastSent = upTo;
    this.write(this.scratch, end);
  }

  /** Stops sending: flushes what the kernel did not take yet, then closes cleanly (FIN). */
  async finish(timeoutMs: number): Promise<void> {
    if (!this.closed && this.unsentBytes > 0) {
      const flushed = new Promise<void>((resolve) => {
        this.onFlushed = resolve;
      });
      await Promise.race([flushed, this.closedPromise, Bun.sleep(timeoutMs)]);
    }
    if (!this.closed) this.socket.end();
    await Promise.race([this.closedPromise, Bun.sleep(timeoutMs)]);
  }

  /** Bytes built but not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.unsentBytes;
  }

  private write(bytes: Uint8Array, length: number): void {
    if (this.unsent.length > 0) {
      this.unsent.push(bytes.slice(0, length));
      this.unsentBytes += length;
      return;
    }
    const written = this.socket.write(bytes, 0, length);
    if (written < 0) return; // closed: the close handler has marked it
    if (written < length) {
      this.unsent.push(bytes.slice(written, length));
      this.unsentBytes += length - written;
    }
  }

  private flush(): void {
    while (this.unsent.length > 0) {
      const head = this.unsent[0] as Uint8Array;
      const written = this.socket.write(head, 0, head.length);
      if (written <= 0) return;
      this.unsentBytes -= written;
      if (written < head.length) {
        this.unsent[0] = head.subarray(written);
        return;
      }
      this.unsent.shift();
    }
    this.onFlushed?.();
  }
}
