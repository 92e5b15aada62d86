/**
 * AcceptQueue: the streams a peer opened, on their way to the application (session.go
 * `chAccepts`, `AcceptStream`; Debian smux 1.5.16). A stream goes to the onStream handler if
 * one is set, else to the oldest pending accept(), else into a backlog of ACCEPT_BACKLOG.
 *
 * Go's accept channel holds 1024 streams and its recvLoop blocks once it is full, which stops
 * the session reading its connection. Here a full backlog asks the session to pause reading
 * (`onFull`), and taking a stream out of a full backlog asks it to resume (`onRoom`).
 */

import type { MuxError } from "./errors.ts";
import type { Stream } from "./stream.ts";

/** Streams waiting for accept() before the session stops reading (session.go `defaultAcceptBacklog`). */
export const ACCEPT_BACKLOG = 1024;

interface AcceptWaiter {
  resolve(stream: Stream): void;
  reject(cause: MuxError): void;
}

export class AcceptQueue {
  private readonly backlog: Stream[] = [];
  private readonly waiters: AcceptWaiter[] = [];
  private handler: ((stream: Stream) => void) | undefined;
  private closedWith: MuxError | undefined;

  constructor(
    handler: ((stream: Stream) => void) | undefined,
    private readonly onFull: () => void,
    private readonly onRoom: () => void,
  ) {
    this.handler = handler;
  }

  /**
   * A new stream from the peer. The handler runs synchronously, inside the transport's data
   * event; what it throws propagates to the caller.
   */
  push(stream: Stream): void {
    if (this.handler !== undefined) {
      this.handler(stream);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(stream);
      return;
    }
    this.backlog.push(stream);
    if (this.backlog.length === ACCEPT_BACKLOG) this.onFull();
  }

  /** Sets or clears the handler; streams already in the backlog go to it at once, in order. */
  setHandler(handler: ((stream: Stream) => void) | undefined): void {
    this.handler = handler;
    if (handler === undefined || this.backlog.length === 0) return;
    const waiting = this.backlog.splice(0);
    for (const stream of waiting) handler(stream);
    // After them: resuming may deliver newer SYNs straight to the handler.
    if (waiting.length === ACCEPT_BACKLOG) this.onRoom();
  }

  /** The oldest stream not yet taken, or the next to come; rejects with the close cause. */
  accept(): Promise<Stream> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const stream = this.backlog.shift();
    if (stream !== undefined) {
      if (this.backlog.length === ACCEPT_BACKLOG - 1) this.onRoom();
      return Promise.resolve(stream);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  /** Rejects pending and later accept() calls with `cause`; drops the backlog (already closed). */
  close(cause: MuxError): void {
    this.closedWith = cause;
    this.backlog.length = 0;
    for (const waiter of this.waiters.splice(0)) waiter.reject(cause);
  }
}
