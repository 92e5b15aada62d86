/**
 * The status page's tail (--status-tail): a subscription of the relay's own in the subject
 * router, that passes a few of the messages on one subject (or wildcard) to a watcher. The
 * line/frame stream is the subject --subject there (the stream bridge routes it), so one
 * mechanism serves every port.
 *
 * Rate-limited to `perSecond` messages a second, counting what it skipped; each message is
 * copied (at most PREVIEW_BYTES of its payload) only when it is passed on. Its UNSUB max is
 * set, so the router never puts it in a shared run (subject-router.ts); while it exists, line
 * publishers leave their zero-copy path for the messages it matches, as for any NATS
 * subscriber of --subject.
 */
import type {
  RoutedMessage,
  RoutedSubscription,
  RouteTarget,
  SubjectRouter,
} from "./subject-router.ts";

/** Payload bytes kept of a tailed message; the rest is counted in `size` only. */
export const PREVIEW_BYTES = 1024;

const encoder = new TextEncoder();

/** A tailed message as the watcher gets it. */
export interface TailMessage {
  subject: string;
  /** The first PREVIEW_BYTES of the payload (NATS headers excluded), a copy. */
  payload: Uint8Array;
  /** The payload's whole length in bytes. */
  size: number;
  /** Messages on the subject skipped by the rate limit since the previous one. */
  skipped: number;
}

export class SubjectTail implements RouteTarget, RoutedSubscription {
  readonly target = this;
  readonly queue = undefined;
  readonly sid = "status-tail";
  readonly sidBytes = encoder.encode(this.sid);
  /** Never reached: set only so the router keeps it out of shared runs. */
  readonly max = Number.MAX_SAFE_INTEGER;
  delivered = 0;
  flushPending = false;
  readonly echo = true;
  private open = true;
  private windowStart = 0;
  private inWindow = 0;
  private skipped = 0;

  /**
   * Subscribes at once. `subject` must be a valid subject or wildcard (subjects.ts
   * hasValidStructure); `send` is called synchronously from the routing of a message.
   */
  constructor(
    private readonly router: SubjectRouter<RoutedSubscription>,
    readonly subject: string,
    private readonly perSecond: number,
    private readonly send: (message: TailMessage) => void,
  ) {
    router.add(this);
  }

  /** Unsubscribes (idempotent). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.router.remove(this);
  }

  get accepting(): boolean {
    return this.open;
  }

  deliver(_subscription: RoutedSubscription, message: RoutedMessage): boolean {
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.skipped++;
      return true;
    }
    this.inWindow++;
    const body = message.payload.subarray(Math.max(0, message.headerSize));
    const skipped = this.skipped;
    this.skipped = 0;
    this.send({
      subject: message.subject,
      payload: body.slice(0, PREVIEW_BYTES),
      size: body.length,
      skipped,
    });
    return true;
  }

  /** Never in a shared run (see `max`). */
  deliverShared(): boolean {
    return false;
  }

  filters(): boolean {
    return false;
  }

  /** Nothing is queued: `send` already had it. */
  flushOutbound(): void {}
}

/**
 * The status page's open tails and the router they sit in: the NATS port's router, or
 * (without --nats-port) one made by `streamRouter` on the first tail and kept after.
 */
export class StatusTails {
  /** Tails open now: their subscriptions are not the clients' (natsSubscriptionCount). */
  open = 0;
  private router: SubjectRouter<RoutedSubscription> | undefined;

  constructor(
    natsRouter: SubjectRouter<RoutedSubscription> | undefined,
    private readonly streamRouter: () => SubjectRouter<RoutedSubscription>,
  ) {
    this.router = natsRouter;
  }

  /**
   * Tails `subject` (a subject or wildcard): `send` gets at most `perSecond` of its messages
   * a second until the returned tail is closed (closing twice counts once).
   */
  tail(
    subject: string,
    perSecond: number,
    send: (message: TailMessage) => void,
  ): { close(): void } {
    this.router ??= this.streamRouter();
    const tail = new SubjectTail(this.router, subject, perSecond, send);
    this.open++;
    return {
      close: () => {
        if (!tail.accepting) return;
        tail.close();
        this.open--;
      },
    };
  }
}
