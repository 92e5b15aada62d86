/**
 * FrameWriter: the one writer of a session's transport. It batches the frames of every stream
 * into as few socket writes as possible, puts control frames first, shares the socket fairly
 * between streams and keeps the unwritten tail of a short write for the next `drain`.
 *
 * Mirrors smux's `shaperLoop` + `sendLoop` (session.go, Debian 1.5.16) without their
 * goroutines and per-frame result channels:
 *
 * - Go's shaper orders requests by priority: control frames (SYN, FIN, UPD, NOP) go with
 *   priority 0, data frames with the stream's bytes written so far, so the least-served
 *   stream goes next. Here each batch starts with every queued control frame, then takes one
 *   data frame (<= maxFrameSize) from each stream with data and window, round robin.
 * - Go's sendLoop makes one write per frame. Here frames queue until the end of the event-loop
 *   turn (setImmediate), or until 64 KiB are queued, and leave in one write per batch.
 * - Bun's write is one non-blocking send that keeps nothing (transport.ts): the rest of a
 *   short write stays in the batch and goes on `onDrain`; no new batch is built meanwhile,
 *   so the batch buffer can be reused and each stream's bytes leave in order.
 *
 * A stream's FIN is ordered after its data: a stream with nothing queued puts it with the
 * control frames, one with data queued writes it after its last byte (Outbox.fill).
 * Nothing here allocates per frame; each write() Promise settles once its last byte is taken
 * by the transport.
 */

import {
  HEADER_SIZE,
  type SmuxCmd,
  UPD_BODY_SIZE,
  writeHeader,
  writeUpd,
} from "../protocol/smux-frame.ts";
import { Fifo } from "../util/fifo.ts";
import type { SessionCounters } from "./counters.ts";
import type { MuxError } from "./errors.ts";
import type { Outbox, PendingWrite } from "./outbox.ts";
import type { MuxTransport } from "./transport.ts";

/** A stream that owes its peer a v2 UPD: built at flush time, with the latest count. */
export interface UpdateSource {
  readonly id: number;
  /** Bytes the stream's reader has consumed so far, mod 2^32 (stream.go `numRead`). */
  readonly numRead: number;
  /** True while queued here; the writer clears it when the UPD is in a batch. */
  updateQueued: boolean;
  /** Called when the UPD is in a batch (for counters). */
  onUpdateSent(): void;
}

/** Queued bytes that trigger a flush before the end of the turn. */
export const FLUSH_THRESHOLD = 64 * 1024;
/** The batch buffer starts this small (most sessions carry small frames) ... */
const BATCH_MIN = 16 * 1024;
/**
 * ... and grows to this once a batch fills up while more waits. 1 MiB rather than 256 KiB:
 * bench:tunnel bulk with 32 streams went from 535-583 to 597-658 MB/s (3 A/B pairs; 2 MiB
 * did no better), as each send then moves more frames for the same per-call cost.
 */
const BATCH_MAX = 1024 * 1024;
const UPD_FRAME_SIZE = HEADER_SIZE + UPD_BODY_SIZE;

export class FrameWriter {
  private batch = new Uint8Array(BATCH_MIN);
  /** The unwritten part of `batch`: `[tailStart, tailEnd)`. Empty when both are equal. */
  private tailStart = 0;
  private tailEnd = 0;
  /** Writes whose last byte is in the unwritten batch. */
  private settling: PendingWrite[] = [];
  /** SYN, FIN and NOP frames as (cmd, streamId) pairs, in order. */
  private control: number[] = [];
  private readonly updates = new Fifo<UpdateSource>();
  /** Outboxes with something sendable, round robin. */
  private readonly ready = new Fifo<Outbox>();
  private queuedSinceFlush = 0;
  /** The last batch ran out of room while frames still waited: the next one may grow. */
  private lastBatchFull = false;
  private scheduled = false;
  private flushing = false;
  private closed = false;
  private readonly runScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * @param window the window our UPD frames announce (config.maxStreamBuffer).
   * @param onWriteFailed called once when the transport refuses a write (-1: closed).
   */
  constructor(
    private readonly transport: MuxTransport,
    private readonly version: 1 | 2,
    private readonly window: number,
    private readonly counters: SessionCounters,
    private readonly onWriteFailed: () => void,
  ) {}

  /** Bytes taken by the writer but not yet by the transport (the short write's tail). */
  get unwrittenBytes(): number {
    return this.tailEnd - this.tailStart;
  }

  /** Queues a SYN, FIN or NOP frame (no body) ahead of all data. */
  queueControl(cmd: typeof SmuxCmd.SYN | typeof SmuxCmd.FIN | typeof SmuxCmd.NOP, id: number) {
    if (this.closed) return;
    this.control.push(cmd, id);
    this.queued(HEADER_SIZE);
  }

  /** Queues a v2 UPD for `source`, once however often it is asked before the flush. */
  queueUpdate(source: UpdateSource): void {
    if (this.closed || source.updateQueued) return;
    source.updateQueued = true;
    this.updates.push(source);
    this.queued(UPD_FRAME_SIZE);
  }

  /** `outbox` got `bytes` more data (or a FIN): it joins the round robin if it can send. */
  dataQueued(outbox: Outbox, bytes: number): void {
    this.markReady(outbox);
    this.queued(bytes);
  }

  /** `outbox` may be able to send again (its window opened). */
  markReady(outbox: Outbox): void {
    if (this.closed || outbox.inReady || !outbox.sendable) return;
    outbox.inReady = true;
    this.ready.push(outbox);
    this.schedule();
  }

  /** The transport can take more: writes the tail, then new batches. */
  onDrain(): void {
    this.flush();
  }

  /**
   * Writes the unwritten tail, then builds and writes batches until nothing is queued or the
   * transport takes less than offered (the rest waits for `onDrain`). Safe to call any time.
   */
  flush(): void {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    this.queuedSinceFlush = 0;
    try {
      for (;;) {
        if (this.tailEnd > this.tailStart) {
          const length = this.tailEnd - this.tailStart;
          const written = this.transport.write(this.batch, this.tailStart, length);
          this.counters.transportWrites++;
          if (written < 0) {
            this.closed = true;
            this.onWriteFailed();
            return;
          }
          this.counters.bytesOut += written;
          this.tailStart += written;
          if (written < length) return;
          this.tailStart = this.tailEnd = 0;
          this.settle();
        }
        const end = this.build();
        if (end === 0) return;
        this.tailEnd = end;
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Stops for good: the writes in the unwritten batch are rejected with `cause` (their bytes
   * may have partly left), queued frames are dropped. The streams reject their own queues.
   */
  close(cause: MuxError): void {
    if (this.closed && this.settling.length === 0) return;
    this.closed = true;
    const settling = this.settling;
    this.settling = [];
    for (const write of settling) write.reject(cause);
    this.control = [];
    for (const source of this.updates.takeAll()) source.updateQueued = false;
    for (const outbox of this.ready.takeAll()) outbox.inReady = false;
    this.tailStart = this.tailEnd = 0;
  }

  private queued(bytes: number): void {
    // With a tail pending the transport is full: the drain flushes, nothing earlier helps.
    if (this.tailEnd > this.tailStart) return;
    this.queuedSinceFlush += bytes;
    if (this.queuedSinceFlush >= FLUSH_THRESHOLD) this.flush();
    else this.schedule();
  }

  private schedule(): void {
    // With a tail pending the next flush comes from onDrain; flushing earlier would only
    // make the transport refuse again.
    if (this.scheduled || this.closed || this.tailEnd > this.tailStart) return;
    this.scheduled = true;
    setImmediate(this.runScheduled);
  }

  private settle(): void {
    if (this.settling.length === 0) return;
    const settling = this.settling;
    this.settling = [];
    for (const write of settling) write.resolve();
  }

  /** Lays out the next batch in `batch`; returns its length (0: nothing to send). */
  private build(): number {
    if (this.lastBatchFull && this.batch.length < BATCH_MAX) {
      // The last batch was full and more waited: bulk traffic, which big writes serve best.
      this.batch = new Uint8Array(BATCH_MAX);
    }
    const out = this.batch;
    let at = 0;
    const control = this.control;
    let i = 0;
    for (; i < control.length && out.length - at >= HEADER_SIZE; i += 2) {
      at = writeHeader(out, at, this.version, control[i] as number, 0, control[i + 1] as number);
    }
    this.counters.framesOut += i / 2;
    this.control = i === control.length ? [] : control.slice(i);
    while (this.updates.length > 0 && out.length - at >= UPD_FRAME_SIZE) {
      const source = this.updates.shift() as UpdateSource;
      source.updateQueued = false;
      at = writeUpd(out, at, source.id, source.numRead, this.window);
      this.counters.framesOut++;
      source.onUpdateSent();
    }
    // One frame per stream per round; a stream leaves the round when it has nothing it may
    // send (queue empty, or v2 window shut: an UPD brings it back through markReady).
    while (this.ready.length > 0 && out.length - at > HEADER_SIZE) {
      const outbox = this.ready.shift() as Outbox;
      outbox.inReady = false;
      at = outbox.fill(out, at, this.settling);
      if (outbox.sendable) {
        outbox.inReady = true;
        this.ready.push(outbox);
      }
    }
    this.lastBatchFull = out.length - at <= HEADER_SIZE && this.hasPending();
    return at;
  }

  private hasPending(): boolean {
    return this.control.length > 0 || this.updates.length > 0 || this.ready.length > 0;
  }
}
