/**
 * StreamReader: a Stream read as an async iterator, a thin layer over the stream's push
 * interface (`onData` + `pause`/`resume`).
 *
 * The stream stays paused except while a `next()` waits, and the handler pauses it again as
 * soon as it has one chunk for that `next()`. So the reader never holds a chunk nobody asked
 * for, and a chunk counts as read (budget returned, v2 UPD) exactly when `next()` resolves
 * with it; the chunks not asked for wait in the stream, counted against the session's
 * receive budget, as in Go where bytes wait in the stream's buffers until Read takes them.
 *
 * One Promise per chunk: for the hot path (a tunnel piping streams into sockets), use
 * `onData` directly.
 */

import type { MuxError } from "./errors.ts";
import type { Stream } from "./stream.ts";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

interface Waiter {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: unknown): void;
}

export class StreamReader implements AsyncIterableIterator<Uint8Array> {
  private waiter: Waiter | undefined;
  /** A chunk delivered with no next() waiting; cannot happen while the stream is paused. */
  private held: Uint8Array | undefined;
  private ended = false;
  /** The session's cause, thrown by the next next() and then done. */
  private failure: MuxError | undefined;

  constructor(private readonly stream: Stream) {
    stream.pause();
    stream.onData(
      (chunk) => this.onChunk(chunk),
      (cause) => this.onEnd(cause),
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next chunk; done after the peer's FIN or close(). Rejects with the session's cause
   * when the session closed before the FIN (once; done after). Calls must not overlap.
   */
  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.held !== undefined) {
      const value = this.held;
      this.held = undefined;
      return Promise.resolve({ done: false, value });
    }
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve(DONE);
    if (this.waiter !== undefined) {
      return Promise.reject(new TypeError("StreamReader.next() called while one is pending"));
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      // May deliver a waiting chunk (or the end) synchronously, settling this Promise.
      this.stream.resume();
    });
  }

  /** Ends iteration (a `break` out of `for await`): detaches the reader, leaves the stream open. */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.ended = true;
    this.stream.detachReader();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(DONE);
    return Promise.resolve(DONE);
  }

  private onChunk(chunk: Uint8Array): void {
    this.stream.pause();
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.held = chunk;
      return;
    }
    this.waiter = undefined;
    waiter.resolve({ done: false, value: chunk });
  }

  private onEnd(cause: MuxError | undefined): void {
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) {
      this.failure = cause;
    } else if (cause === undefined) {
      waiter.resolve(DONE);
    } else {
      waiter.reject(cause);
    }
  }
}
