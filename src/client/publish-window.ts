/**
 * What both kinds of publisher share: the window of at most `maxInFlight` publishes in flight,
 * the publishes waiting for room in it, and what happens to each on a drop or a close.
 *
 * ```text
 * publish() -> waiting (no link yet, or window full) -> in flight (sent) -> settled
 *                 FIFO, holds the caller's payload       frame: until its SubmitAck
 *                                                         line: until the kernel took it
 * ```
 *
 * - Publishes enter the window in call order, and a new one queues behind waiting ones.
 * - A drop rejects every publish in flight with CLIENT_ERR_DISCONNECTED and re-sends none
 *   (at-most-once: the relay may or may not have delivered them). Waiting ones were never on
 *   the wire: they stay queued and go out on the next connection.
 * - A close rejects what is left: in flight and waiting, CLIENT_ERR_CLOSED.
 *
 * The waiting queue is bounded only by the callers: each waiting call holds its own payload,
 * so a caller that awaits its publishes (or keeps its own window) bounds memory; nothing is
 * encoded or buffered for a publish before it enters the window.
 */

import { Fifo } from "../util/fifo.ts";
import type { Connection, Link, Session } from "./connection.ts";
import { type ClientError, ClientErrorCode } from "./errors.ts";

const encoder = new TextEncoder();

/** A publish in the window: how to settle it, and what a subclass tracks of it. */
export interface InFlight {
  resolve: () => void;
  reject: (error: ClientError) => void;
  /** Frame: the Submit's ID. */
  id: Uint8Array | undefined;
  /** Line: the Outbox's bytesQueued once its line was queued. */
  end: number;
}

interface Waiting {
  payload: Uint8Array;
  resolve: () => void;
  reject: (error: ClientError) => void;
}

export abstract class PublishWindow implements Session {
  protected readonly inFlight = new Fifo<InFlight>();
  private readonly waiting = new Fifo<Waiting>();
  /** Frame: the ID of the last Submit put in the Outbox. */
  lastSubmitId: Uint8Array | undefined;
  /** The ready link, or undefined while connecting, reconnecting or closed. */
  protected link: Link | undefined;
  private connection!: Connection;
  private closedWith: ClientError | undefined;
  private isClosed = false;
  private idleWaiters: (() => void)[] = [];
  private admitting = false;

  constructor(protected readonly maxInFlight: number) {}

  /** Joins the connection this window sends through (set once, before it starts). */
  bind(connection: Connection): void {
    this.connection = connection;
  }

  /** Publishes sent and not settled yet. */
  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Publishes waiting for room in the window or for a connection. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** See Publisher.publish. */
  publish(data: Uint8Array | string): Promise<void> {
    if (this.isClosed) return Promise.reject(this.closedError());
    const payload = typeof data === "string" ? encoder.encode(data) : data;
    if (!(payload instanceof Uint8Array)) {
      const error = this.clientError(
        ClientErrorCode.BadOption,
        "publish takes a Uint8Array or a string",
      );
      return Promise.reject(error);
    }
    const max = this.connection.options.maxPayload;
    if (payload.length > max) {
      const reason = `payload of ${payload.length} B is above maxPayload ${max} B`;
      return Promise.reject(this.clientError(ClientErrorCode.TooLong, reason));
    }
    const refused = this.check(payload);
    if (refused) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      const link = this.link;
      if (link && this.waiting.length === 0 && this.inFlight.length < this.maxInFlight) {
        this.send(link, payload, { resolve, reject, id: undefined, end: 0 });
      } else {
        this.waiting.push({ payload, resolve, reject });
      }
    });
  }

  /** Resolves once nothing is in flight or waiting (now or later). */
  idle(): Promise<void> {
    if (this.inFlight.length === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // Session

  abstract opened(link: Link): void;
  abstract data(chunk: Uint8Array): void;

  ready(): void {
    this.link = this.connection.link;
    this.admit();
  }

  lost(error: ClientError): number {
    this.link = undefined;
    const rejected = this.inFlight.takeAll();
    if (rejected.length > 0) {
      const disconnected =
        error.code === ClientErrorCode.Disconnected
          ? error
          : this.clientError(
              ClientErrorCode.Disconnected,
              `connection lost: ${error.reason}`,
              error,
            );
      for (const publish of rejected) publish.reject(disconnected);
      this.checkIdle();
    }
    return rejected.length;
  }

  closed(error: ClientError | undefined): void {
    this.link = undefined;
    this.isClosed = true;
    this.closedWith = error;
    const closed = this.closedError();
    for (const publish of this.inFlight.takeAll()) publish.reject(closed);
    for (const publish of this.waiting.takeAll()) publish.reject(closed);
    this.checkIdle();
  }

  /** Why `payload` cannot be published in this framing, or undefined when it can. */
  protected abstract check(payload: Uint8Array): ClientError | undefined;

  /** Puts `payload` on `link`'s Outbox and `publish` in `inFlight`. */
  protected abstract send(link: Link, payload: Uint8Array, publish: InFlight): void;

  /** Moves waiting publishes into the window while there is room and a link. */
  protected admit(): void {
    // A send can settle publishes re-entrantly (a line write flushed inline reports what the
    // kernel took); the loop below re-checks its conditions, so a nested call has nothing to do.
    if (this.admitting) return;
    this.admitting = true;
    try {
      const link = this.link;
      while (link && this.link === link && this.inFlight.length < this.maxInFlight) {
        const next = this.waiting.shift();
        if (next === undefined) break;
        this.send(link, next.payload, {
          resolve: next.resolve,
          reject: next.reject,
          id: undefined,
          end: 0,
        });
      }
    } finally {
      this.admitting = false;
    }
  }

  /** Call after settling publishes: admits waiting ones and wakes idle(). */
  protected settled(): void {
    this.admit();
    this.checkIdle();
  }

  protected clientError(code: ClientErrorCode, reason: string, cause?: unknown): ClientError {
    return this.connection.error(code, reason, cause);
  }

  private checkIdle(): void {
    if (this.inFlight.length > 0 || this.waiting.length > 0 || this.idleWaiters.length === 0) {
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private closedError(): ClientError {
    const cause = this.closedWith;
    return cause
      ? this.clientError(ClientErrorCode.Closed, `publisher closed: ${cause.reason}`, cause)
      : this.clientError(ClientErrorCode.Closed, "publisher closed");
  }
}
