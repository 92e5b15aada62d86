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
 * - A publish not settled within its timeout (`timeoutMs`, else `publishTimeoutMs`, counted
 *   from the call) rejects with CLIENT_ERR_TIMEOUT. A waiting one leaves the queue (never
 *   sent); one in flight keeps its place in the window until its ack (or the kernel) frees it,
 *   since the relay still has it, so it counts in `inFlight` but no longer holds up `idle()`.
 *   One timer per window, armed for the earliest deadline, finds them (no timer per publish).
 *
 * The waiting queue is bounded only by the callers: each waiting call holds its own payload,
 * so a caller that awaits its publishes (or keeps its own window) bounds memory; nothing is
 * encoded or buffered for a publish before it enters the window.
 */

import { Fifo } from "../util/fifo.ts";
import type { Connection, Link, Session } from "./connection.ts";
import { type ClientError, ClientErrorCode } from "./errors.ts";
import { MAX_TIMEOUT_MS } from "./options.ts";

const encoder = new TextEncoder();

/** Per-call options of `publish`. */
export interface PublishOptions {
  /**
   * Milliseconds this publish may take before it rejects with CLIENT_ERR_TIMEOUT (0: never),
   * instead of the client's `publishTimeoutMs`.
   */
  timeoutMs?: number;
}

/** What every publish carries until it settles: how to settle it and its deadline. */
interface Pending {
  resolve: () => void;
  reject: (error: ClientError) => void;
  /** performance.now() at which it times out; Infinity: never. */
  deadline: number;
  /** Its timeout, for the error's reason. */
  timeoutMs: number;
}

/** A publish in the window: how to settle it, and what a subclass tracks of it. */
export interface InFlight extends Pending {
  /** Frame: the Submit's ID. */
  id: Uint8Array | undefined;
  /** Line: the Outbox's bytesQueued once its line was queued. */
  end: number;
  /** Already rejected by its timeout; its ack (or the kernel) only frees its place. */
  timedOut: boolean;
}

interface Waiting extends Pending {
  payload: Uint8Array;
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
  /** Entries of inFlight already rejected by their timeout. */
  private timedOutInFlight = 0;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline deadlineTimer is armed for; Infinity when it is not armed. */
  private timerDeadline = Number.POSITIVE_INFINITY;

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
  publish(data: Uint8Array | string, options?: PublishOptions): Promise<void> {
    if (this.isClosed) return Promise.reject(this.closedError());
    const timeoutMs = options?.timeoutMs ?? this.connection.options.publishTimeoutMs;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      const reason = `timeoutMs must be a number from 0 to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`;
      return Promise.reject(this.clientError(ClientErrorCode.BadOption, reason));
    }
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
    const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Number.POSITIVE_INFINITY;
    return new Promise<void>((resolve, reject) => {
      const link = this.link;
      const pending = { resolve, reject, deadline, timeoutMs };
      if (link && this.waiting.length === 0 && this.inFlight.length < this.maxInFlight) {
        this.send(link, payload, inFlight(pending));
      } else {
        this.waiting.push({ ...pending, payload });
      }
      if (deadline < this.timerDeadline) this.armTimer(deadline);
    });
  }

  /** Resolves once no publish is unsettled (in flight and not timed out, or waiting). */
  idle(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
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
    const dropped = this.takeInFlight();
    if (dropped.length > 0) {
      const disconnected =
        error.code === ClientErrorCode.Disconnected
          ? error
          : this.clientError(
              ClientErrorCode.Disconnected,
              `connection lost: ${error.reason}`,
              error,
            );
      for (const publish of dropped) publish.reject(disconnected);
      this.checkIdle();
    }
    return dropped.length;
  }

  closed(error: ClientError | undefined): void {
    this.link = undefined;
    this.isClosed = true;
    this.closedWith = error;
    clearTimeout(this.deadlineTimer);
    this.timerDeadline = Number.POSITIVE_INFINITY;
    const closed = this.closedError();
    for (const publish of this.takeInFlight()) publish.reject(closed);
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
        this.send(link, next.payload, inFlight(next));
      }
    } finally {
      this.admitting = false;
    }
  }

  /**
   * Settles a publish that left inFlight (its ack came, or the kernel took it): resolves it,
   * or rejects it with `error`; one its timeout already rejected only frees its place.
   */
  protected complete(publish: InFlight, error?: ClientError): void {
    if (publish.timedOut) this.timedOutInFlight--;
    else if (error === undefined) publish.resolve();
    else publish.reject(error);
  }

  /** Call after settling publishes: admits waiting ones and wakes idle(). */
  protected settled(): void {
    this.admit();
    this.checkIdle();
  }

  /** The reason of CLIENT_ERR_TIMEOUT for a publish in flight, in this framing's words. */
  protected abstract inFlightTimeout(publish: InFlight): string;

  protected clientError(code: ClientErrorCode, reason: string, cause?: unknown): ClientError {
    return this.connection.error(code, reason, cause);
  }

  /** Publishes not settled yet: in flight and not timed out, or waiting. */
  private get unsettled(): number {
    return this.inFlight.length - this.timedOutInFlight + this.waiting.length;
  }

  /** Takes every publish out of inFlight; returns those not yet rejected by their timeout. */
  private takeInFlight(): InFlight[] {
    const all = this.inFlight.takeAll();
    if (this.timedOutInFlight === 0) return all;
    this.timedOutInFlight = 0;
    return all.filter((publish) => !publish.timedOut);
  }

  private armTimer(deadline: number): void {
    clearTimeout(this.deadlineTimer);
    this.timerDeadline = deadline;
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, deadline - performance.now()));
  }

  /**
   * The timer: rejects every publish past its deadline with CLIENT_ERR_TIMEOUT, then arms
   * for the earliest deadline left. O(inFlight + waiting), once per earliest deadline.
   */
  private expire(): void {
    this.deadlineTimer = undefined;
    this.timerDeadline = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (let index = 0; index < this.inFlight.length; index++) {
      const publish = this.inFlight.at(index) as InFlight;
      if (publish.timedOut) continue;
      if (publish.deadline > now) {
        next = Math.min(next, publish.deadline);
        continue;
      }
      publish.timedOut = true;
      this.timedOutInFlight++;
      publish.reject(this.clientError(ClientErrorCode.Timeout, this.inFlightTimeout(publish)));
    }
    for (const publish of this.waiting.takeAll()) {
      if (publish.deadline > now) {
        next = Math.min(next, publish.deadline);
        this.waiting.push(publish);
        continue;
      }
      const reason = `not sent within ${publish.timeoutMs} ms (waiting for a connection or for room under maxInFlight): not delivered`;
      publish.reject(this.clientError(ClientErrorCode.Timeout, reason));
    }
    if (next !== Number.POSITIVE_INFINITY) this.armTimer(next);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.unsettled > 0 || this.idleWaiters.length === 0) {
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

function inFlight(pending: Pending): InFlight {
  return {
    resolve: pending.resolve,
    reject: pending.reject,
    deadline: pending.deadline,
    timeoutMs: pending.timeoutMs,
    id: undefined,
    end: 0,
    timedOut: false,
  };
}
