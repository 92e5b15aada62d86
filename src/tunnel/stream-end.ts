/**
 * An smux Stream as an endpoint of the one byte pipe (src/pipe/pipe.ts `Endpoint`), so a
 * tunnel moves bytes with the same code, and the same guarantees, as `forward`:
 *
 *   pipe call            smux stream
 *   send(chunk)          stream.write(chunk) (a Promise that settles once the frame is on the
 *                        session's socket); beyond the stream's write queue limit the chunk
 *                        waits here
 *   backlogged           the stream holds >= STREAM_HIGH_WATER bytes not yet framed (the
 *                        session's socket is full, or the v2 peer window is shut)
 *   onDrain              the last write settled: everything queued is on the socket
 *   pauseReading/resume  stream.pause()/resume(): unread chunks wait in the stream and hold the
 *                        session's receive budget, so the peer stops (v2: per-stream window;
 *                        v1: the whole session, which is all the protocol offers)
 *   shutWrite            stream.closeWrite(): FIN after the queued bytes
 *   abort(reset)         stream.close(): FIN, unread input dropped. smux has no RST, so a
 *                        reset reaches the far side of the tunnel as a FIN.
 *   onEnd                the peer's FIN, after its data
 *   onClose              the stream finished both ways; with an error when its session died
 *                        (the pipe then resets the TCP side: the bytes in flight are lost)
 *
 * Before a stream is attached (a tunnel client waiting for a session), sent bytes wait here;
 * the pipe pauses its producer past PRECONNECT_HIGH_WATER, as for a socket still connecting.
 */

import { MuxError, type Stream } from "../mux/index.ts";
import type { EndOwner, Endpoint } from "../pipe/endpoint.ts";

/** Bytes queued in a stream, not yet framed, past which the pipe stops reading the other side. */
export const STREAM_HIGH_WATER = 256 * 1024;

const IGNORE = (): void => {};

/** Until a pipe takes the endpoint over (the pipe's constructor replaces it). */
const NO_OWNER: EndOwner = { onData() {}, onDrain() {}, onEnd() {}, onClose() {} };

export class StreamEnd implements Endpoint {
  owner: EndOwner = NO_OWNER;
  peerAddress = "-";
  stream: Stream | undefined;
  /** How the stream travels, for CLOSE details: `session 2 (127.0.0.1:9000)`. */
  via = "-";
  paused = false;
  readEnded = false;
  writeShut = false;
  endAfterFlush = false;
  closed = false;
  /** Chunks not handed to the stream yet: no stream yet, or its write queue was full. */
  private waiting: Uint8Array[] = [];
  private waitingBytes = 0;
  /** The Promise of the newest write(): once it settles, everything queued is on the socket. */
  private lastWrite: Promise<void> | undefined;
  private drainArmed = false;
  private reading = false;
  private readonly drained = (): void => {
    this.drainArmed = false;
    if (!this.closed) this.owner.onDrain(this);
  };

  /**
   * @param writeLimit the stream's write queue limit (MuxConfig.maxStreamWriteQueue): a
   *   write() beyond it would be refused, so chunks wait here instead.
   */
  constructor(private readonly writeLimit: number) {}

  get attached(): boolean {
    return this.stream !== undefined;
  }

  get outboxBytes(): number {
    return this.waitingBytes + (this.stream?.queuedBytes ?? 0);
  }

  get backlogged(): boolean {
    if (this.stream === undefined) return this.waitingBytes > 0;
    return this.waitingBytes > 0 || this.stream.queuedBytes >= STREAM_HIGH_WATER;
  }

  /**
   * Gives this end its stream. `label` names it in logs (`127.0.0.1:9000 session 2 stream 5`),
   * `via` its session. Reading starts with `startReading()`, once a pipe owns this end.
   */
  setStream(stream: Stream, label: string, via: string): void {
    this.stream = stream;
    this.peerAddress = label;
    this.via = via;
  }

  /** Starts handing the stream's chunks, FIN and close to the owner. Call once. */
  startReading(): void {
    const stream = this.stream;
    if (stream === undefined || this.reading) return;
    this.reading = true;
    if (this.paused) stream.pause();
    stream.onData(
      (chunk) => this.owner.onData(this, chunk),
      (cause) => {
        if (cause === undefined) this.owner.onEnd(this);
        else this.lost(cause);
      },
    );
    stream.closed.then((cause) => {
      if (cause !== undefined) this.lost(cause);
      else if (!this.closed) this.owner.onClose(this, undefined);
    });
  }

  send(chunk: Uint8Array): void {
    const stream = this.stream;
    if (this.closed) return;
    if (stream === undefined || this.waitingBytes > 0 || stream.queuedBytes >= this.writeLimit) {
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
    } else {
      this.write(stream, chunk);
    }
    if (stream !== undefined && this.backlogged) this.armDrain();
  }

  flush(): boolean {
    const stream = this.stream;
    if (stream === undefined) return this.waitingBytes === 0;
    if (this.closed || stream.isClosed) return true;
    while (this.waiting.length > 0 && stream.queuedBytes < this.writeLimit) {
      const chunk = this.waiting.shift() as Uint8Array;
      this.waitingBytes -= chunk.length;
      this.write(stream, chunk);
    }
    if (!this.backlogged) return true;
    this.armDrain();
    return false;
  }

  shutWrite(): void {
    this.writeShut = true;
    const stream = this.stream;
    if (stream === undefined || this.closed || this.waitingBytes > 0) return;
    if (this.endAfterFlush) {
      // The other end is gone: nobody will take what this stream still delivers.
      this.readEnded = true;
      stream.detachReader();
      stream.close();
    } else {
      stream.closeWrite();
    }
  }

  pauseReading(): void {
    this.paused = true;
    this.stream?.pause();
  }

  resumeReading(): void {
    this.paused = false;
    if (this.reading) this.stream?.resume();
  }

  /**
   * Closes the stream (FIN; its queued bytes still go, unread input is dropped) and counts
   * this end as closed at once: a v2 stream whose peer stopped reading could otherwise keep
   * the pipe open until its session dies.
   */
  abort(_reset: boolean): void {
    this.waiting = [];
    this.waitingBytes = 0;
    const stream = this.stream;
    if (stream === undefined || this.closed) return;
    this.closed = true;
    stream.detachReader();
    stream.close();
  }

  describeError(error: Error, side: "client" | "upstream"): string {
    if (!(error instanceof MuxError)) return `${side} stream failed (${error.message})`;
    return `tunnel ${this.via} closed: ${error.code} ${error.reason}`;
  }

  private write(stream: Stream, chunk: Uint8Array): void {
    const written = stream.write(chunk);
    this.lastWrite = written;
    // A refused write means the stream or its session is finishing; their close events
    // settle the pipe, so the rejection itself needs no handling.
    written.then(undefined, IGNORE);
  }

  private armDrain(): void {
    if (this.drainArmed || this.lastWrite === undefined) return;
    this.drainArmed = true;
    this.lastWrite.then(this.drained, this.drained);
  }

  private lost(cause: MuxError): void {
    if (!this.closed) this.owner.onClose(this, cause);
  }
}
