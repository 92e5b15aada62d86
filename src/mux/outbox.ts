/**
 * One stream's sending side: the bytes of its `write()` calls not yet framed, the v2 send
 * window, and the FIN that must follow the last byte. The FrameWriter pulls frames out of it.
 *
 * Mirrors stream.go `Write` (v1) and `writeV2` (Debian smux 1.5.16), turned inside out: Go's
 * Write blocks its goroutine until each frame is written and, in v2, until the window opens;
 * here the bytes wait in the outbox, the writer takes one frame at a time when the socket and
 * the window allow, and each `write()` Promise settles once its last byte is on the socket.
 *
 * Nothing is copied on `write()`: the outbox keeps the caller's buffer and copies each frame
 * straight into the writer's batch. So the caller must not change a buffer until its
 * Promise settles. Unlike Go, one frame may carry the end of one write and the start of the
 * next (the wire cannot tell), so many small writes cost few frames.
 */

import { HEADER_SIZE, INITIAL_PEER_WINDOW, SmuxCmd, writeHeader } from "../protocol/smux-frame.ts";
import { inflight, sendWindow, u32Add } from "../protocol/smux-window.ts";
import { Fifo } from "../util/fifo.ts";
import type { SessionCounters, StreamCounters } from "./counters.ts";
import type { MuxError } from "./errors.ts";

/** One `write()` call: its bytes and the settle functions of the Promise it returned. */
export interface PendingWrite {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (cause: MuxError) => void;
}

const FIN_NONE = 0;
/** closeWrite() was called while data was queued: the FIN goes after the last byte. */
const FIN_AFTER_DATA = 1;
/** The FIN is in a batch (or in the writer's control queue). */
const FIN_HANDED = 2;

export class Outbox {
  /** The writer's round-robin bookkeeping: true while this outbox sits in its ready queue. */
  inReady = false;
  /** Bytes of queued writes not yet framed. */
  queuedBytes = 0;
  /** v2 (stream.go): bytes framed so far, mod 2^32. */
  numWritten = 0;
  /** v2: bytes the peer's reader has taken, from its last UPD, mod 2^32. */
  peerConsumed = 0;
  /** v2: bytes the peer holds for this stream, from its last UPD (before: frame.go's slow start). */
  peerWindow = INITIAL_PEER_WINDOW;
  /** Set when the outbox can never send data again (session closed, ErrConsumed); a FIN still can. */
  failure: MuxError | undefined;

  /** Writes not fully framed, oldest first. */
  private readonly writes = new Fifo<PendingWrite>();
  /** Bytes of the oldest write already framed. */
  private headOffset = 0;
  private finState = FIN_NONE;

  /**
   * @param onFinHanded called once, when the FIN has been put in a batch or the control queue.
   */
  constructor(
    readonly streamId: number,
    private readonly version: 1 | 2,
    private readonly maxFrameSize: number,
    private readonly counters: StreamCounters,
    private readonly sessionCounters: SessionCounters,
    private readonly onFinHanded: () => void,
  ) {}

  /** True once the FIN is handed to the writer. */
  get finHanded(): boolean {
    return this.finState === FIN_HANDED;
  }

  /** Queues one write's bytes (non-empty); the caller checked the queue limit. */
  enqueue(write: PendingWrite): void {
    this.writes.push(write);
    this.queuedBytes += write.bytes.length;
  }

  /**
   * Asks for a FIN after the queued bytes. Returns true when nothing is queued, so the FIN can
   * go at once with the control frames (the caller queues it there); false when it will follow
   * the last queued byte, written by `fill`.
   */
  requestFin(): boolean {
    if (this.finState !== FIN_NONE) return false;
    if (this.queuedBytes === 0) {
      this.finState = FIN_HANDED;
      this.onFinHanded();
      return true;
    }
    this.finState = FIN_AFTER_DATA;
    return false;
  }

  /**
   * Bytes the window lets us send now: v1 has no per-stream window (only the socket and the
   * peer's session budget push back); v2 is `int32(peerWindow) - inflight` (stream.go
   * `writeV2`), 0 or less meaning "wait for an UPD".
   */
  window(): number {
    if (this.version === 1) return this.maxFrameSize;
    return sendWindow(this.peerWindow, this.numWritten, this.peerConsumed);
  }

  /** True when `fill` would make progress now: data within the window, or a FIN due. */
  get sendable(): boolean {
    // After a failure the queue is empty, but a FIN asked for still goes (Go's Close sends
    // its FIN after a Write failed with ErrConsumed too).
    if (this.queuedBytes > 0) return this.window() > 0;
    return this.finState === FIN_AFTER_DATA;
  }

  /**
   * v2: a UPD from the peer (stream.go `update`: both values replace ours). Returns false when
   * the peer claims to have read more than we sent (`int32(numWritten - consumed) < 0`), which
   * Go's writer reports as ErrConsumed; the caller then fails the outbox.
   */
  update(consumed: number, window: number): boolean {
    this.peerConsumed = consumed;
    this.peerWindow = window;
    return inflight(this.numWritten, consumed) >= 0;
  }

  /**
   * Writes one PSH frame of at most maxFrameSize bytes (fewer if the window, the queue or the
   * room in `out` is smaller) at `out[at]`, then the FIN if it is due and fits. One frame per
   * call is what makes the writer's round robin fair between streams. Writes whose last byte
   * went into this frame are appended to `settled`: they resolve when the batch is on the
   * socket. Returns the offset after what was written (`at` when nothing was).
   */
  fill(out: Uint8Array, at: number, settled: PendingWrite[]): number {
    let length = Math.min(this.queuedBytes, this.maxFrameSize, out.length - at - HEADER_SIZE);
    if (this.version === 2) length = Math.min(length, this.window());
    if (length > 0) at = this.framePsh(out, at, length, settled);
    if (
      this.finState === FIN_AFTER_DATA &&
      this.queuedBytes === 0 &&
      out.length - at >= HEADER_SIZE
    ) {
      at = writeHeader(out, at, this.version, SmuxCmd.FIN, 0, this.streamId);
      this.sessionCounters.framesOut++;
      this.finState = FIN_HANDED;
      this.onFinHanded();
    }
    return at;
  }

  /**
   * Rejects every queued write with `cause` and stops the outbox for good. The bytes of writes
   * already in a batch belong to the writer, which settles them.
   */
  fail(cause: MuxError): void {
    if (this.failure !== undefined) return;
    this.failure = cause;
    for (const write of this.writes.takeAll()) write.reject(cause);
    this.headOffset = 0;
    this.queuedBytes = 0;
  }

  /** Frames `length` queued bytes (the caller checked window, queue and room). */
  private framePsh(out: Uint8Array, at: number, length: number, settled: PendingWrite[]): number {
    at = writeHeader(out, at, this.version, SmuxCmd.PSH, length, this.streamId);
    let left = length;
    while (left > 0) {
      const write = this.writes.peek() as PendingWrite;
      const bytes = write.bytes;
      const take = Math.min(bytes.length - this.headOffset, left);
      out.set(
        take === bytes.length ? bytes : bytes.subarray(this.headOffset, this.headOffset + take),
        at,
      );
      at += take;
      left -= take;
      this.headOffset += take;
      if (this.headOffset === bytes.length) {
        settled.push(write);
        this.writes.shift();
        this.headOffset = 0;
      }
    }
    this.queuedBytes -= length;
    this.numWritten = u32Add(this.numWritten, length);
    this.counters.framesOut++;
    this.counters.bytesOut += length;
    this.sessionCounters.framesOut++;
    this.sessionCounters.dataBytesOut += length;
    return at;
  }
}
