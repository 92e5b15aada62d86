/**
 * Publisher pacing for the slow-consumer policies `stall` and `block`: which subscribers are
 * holding publishers, when publishers are held and released (always as a group, so none is
 * starved while others run), and, under `stall`, the timer that leaves behind a subscriber
 * that has held them for --stall-timeout.
 *
 * Anchor: nats-server stalls producers while a consumer's pending bytes are above 3/4 of its
 * max_pending, for a bounded time, and cuts a consumer that stays behind at max_pending.
 *
 * A clock is read when a hold starts and ends, never per message; the timer is armed only
 * while publishers are held.
 */

import type { SlowConsumerPolicy } from "./options.ts";
import type { Counters } from "./relay-stats.ts";
import type { Subscriber } from "./subscriber.ts";

/**
 * The largest backlog before publishers are held. Two read chunks are enough to keep a
 * subscriber's socket busy; measured at 4 -> 16 saturation, 1 MiB instead of 6 MiB (3/4 of
 * the default bound) cut the relay's RSS from ~280-440 MB to ~80-95 MB and its CPU from ~88%
 * to ~68%, with more messages delivered, not fewer.
 */
const HIGH_WATER_MAX = 1024 * 1024;

/** What pacing tells the server, which owns the publisher sockets. */
export interface PacingEvents {
  /** Hold (true) or release (false) every publisher. */
  pressure(hold: boolean): void;
  /**
   * Policy `stall`: `subscriber` held publishers for `heldMs` (at least --stall-timeout);
   * they no longer wait for it, and it will be cut if its backlog reaches the bound.
   */
  stallExpired(subscriber: Subscriber, heldMs: number): void;
}

export class PublisherPacing {
  /** Backlog above which a subscriber holds publishers: 3/4 of the bound, at most 1 MiB. */
  highWater = 0;
  /** Backlog at or below which it releases them: a third of the high-water mark. */
  lowWater = 0;
  /** Whether the policy paces publishers at all (`stall`, `block`). */
  active: boolean;
  /** The subscribers over the high-water mark; publishers are held while it is not empty. */
  private readonly holders = new Set<Subscriber>();
  /** performance.now() when publishers were last held. */
  private heldSince = 0;
  /** Policy `stall`: the timer looking for holders past --stall-timeout, while armed. */
  private stallTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param maxPending bytes one subscriber may have queued (--max-pending).
   * @param stallTimeoutMs policy `stall`: how long one subscriber may hold publishers per
   *   episode (from passing the high-water mark to falling to the low).
   */
  constructor(
    maxPending: number,
    private policy: SlowConsumerPolicy,
    private stallTimeoutMs: number,
    private readonly counters: Counters,
    private readonly events: PacingEvents,
  ) {
    this.resize(maxPending, stallTimeoutMs);
    this.active = policy === "block" || policy === "stall";
  }

  /**
   * New bounds (SIGHUP with --config): the water marks follow --max-pending, and the next
   * stall episode has the new --stall-timeout. Holders are judged against the new marks at
   * their next write or drain, as always.
   */
  resize(maxPending: number, stallTimeoutMs: number): void {
    this.highWater = Math.min(Math.floor((maxPending * 3) / 4), HIGH_WATER_MAX);
    this.lowWater = Math.floor(this.highWater / 3);
    this.stallTimeoutMs = stallTimeoutMs;
  }

  /**
   * A new --slow-consumer policy (SIGHUP with --config). Leaving `stall`/`block` for `drop` or
   * `disconnect` releases the publishers at once (the new policy handles each backlog at its
   * next message); `stall` arms its timer for whoever holds them now, `block` disarms it.
   */
  setPolicy(policy: SlowConsumerPolicy): void {
    if (policy === this.policy) return;
    this.policy = policy;
    this.active = policy === "block" || policy === "stall";
    this.stop();
    if (!this.active) {
      for (const subscriber of [...this.holders]) this.release(subscriber);
    } else if (policy === "stall" && this.holders.size > 0) {
      this.armStallTimer(this.stallTimeoutMs);
    }
  }

  /**
   * Milliseconds publishers have been held since start, the episode under way included (read
   * by /connz: a publisher's held time is this now less this when it connected).
   */
  heldMsNow(): number {
    const episode = this.holders.size > 0 ? performance.now() - this.heldSince : 0;
    return this.counters.publishersHeldMs + episode;
  }

  /** True while publishers are held. */
  get holding(): boolean {
    return this.holders.size > 0;
  }

  /**
   * Re-judges one subscriber after its backlog changed (or it left: `index < 0`): above the
   * high-water mark it holds publishers; at the low-water mark, or gone, it releases them. A
   * subscriber left behind by the stall timer holds them no more until it is back at the
   * low-water mark. Call only when `active`.
   */
  update(subscriber: Subscriber): void {
    const backlog = subscriber.backlog.length;
    if (subscriber.index < 0 || backlog <= this.lowWater) {
      subscriber.stallExpired = false;
      if (subscriber.holdingPublishers) this.release(subscriber);
    } else if (
      backlog > this.highWater &&
      !subscriber.holdingPublishers &&
      !subscriber.stallExpired
    ) {
      const now = performance.now();
      subscriber.holdingPublishers = true;
      subscriber.holdingSince = now;
      this.holders.add(subscriber);
      if (this.holders.size === 1) {
        this.heldSince = now;
        this.counters.publisherPauses++;
        this.events.pressure(true);
      }
      if (this.policy === "stall" && this.stallTimer === undefined) {
        this.armStallTimer(this.stallTimeoutMs);
      }
    }
  }

  /** Stops the stall timer (shutdown). */
  stop(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** `subscriber` holds publishers no more; they resume when no one else holds them. */
  private release(subscriber: Subscriber): void {
    subscriber.holdingPublishers = false;
    subscriber.heldPublishersMs += performance.now() - subscriber.holdingSince;
    this.holders.delete(subscriber);
    if (this.holders.size > 0) return;
    this.counters.publishersHeldMs += performance.now() - this.heldSince;
    this.events.pressure(false);
  }

  private armStallTimer(delayMs: number): void {
    this.stallTimer = setTimeout(this.checkStalls, delayMs);
  }

  /**
   * Policy `stall`, on a timer armed while anyone holds publishers: a holder past
   * --stall-timeout is left behind. Re-arms for the next holder's deadline.
   */
  private readonly checkStalls = (): void => {
    this.stallTimer = undefined;
    const now = performance.now();
    const timeoutMs = this.stallTimeoutMs;
    let nextDeadline = Number.POSITIVE_INFINITY;
    for (const subscriber of this.holders) {
      const heldMs = now - subscriber.holdingSince;
      // A timer may fire a little early; a millisecond of slack avoids a second, tiny timer.
      if (heldMs >= timeoutMs - 1) {
        subscriber.stallExpired = true;
        this.counters.stallTimeouts++;
        this.release(subscriber);
        this.events.stallExpired(subscriber, heldMs);
      } else {
        nextDeadline = Math.min(nextDeadline, subscriber.holdingSince + timeoutMs);
      }
    }
    if (nextDeadline !== Number.POSITIVE_INFINITY) this.armStallTimer(nextDeadline - now);
  };
}
