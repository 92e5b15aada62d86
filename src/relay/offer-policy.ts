/**
 * The slow-consumer policy at the moment a subscriber is offered a batch, and when its
 * backlog drains: what the hub's fan-out applies to each subscriber, apart from the fan-out
 * itself (hub.ts) so the rules read in one place. The hub holds one OfferPolicy and calls it
 * once per subscriber per batch, as it called its own method before: no closure, no
 * allocation per offer.
 *
 * Slow consumers (a backlog past --max-pending) are handled by the policy:
 * - `disconnect`: the hub's `events.slowConsumer` is told, and closes the subscriber.
 * - `drop`: whole batches are dropped for that subscriber while it is over the bound; an
 *   episode of drops is reported once, with its totals, when it ends: when a batch reaches
 *   the subscriber again, when its backlog drains to the low-water mark (`drained`), or when
 *   it closes (Hub.remove). The drain test keeps the report from waiting for traffic that may
 *   never come; it costs the offer nothing.
 * - `block` and `stall` (the default): a backlog past the high-water mark holds every
 *   publisher (PublisherPacing); under `stall` for at most --stall-timeout per episode, after
 *   which the subscriber is cut at the bound like `disconnect`.
 */
import type { Batch } from "./batch.ts";
import type { HubEvents, HubLimits } from "./hub.ts";
import type { SlowConsumerPolicy } from "./options.ts";
import type { PublisherPacing } from "./pacing.ts";
import type { Counters } from "./relay-stats.ts";
import { Offer, type Subscriber } from "./subscriber.ts";

export class OfferPolicy {
  /**
   * `limits` is the hub's own object (a reload changes it in place); `total` is the hub,
   * whose `pendingBytes` counts the bytes queued across all subscribers.
   */
  constructor(
    private readonly total: { pendingBytes: number },
    private readonly limits: HubLimits,
    private readonly counters: Counters,
    private readonly pacing: PublisherPacing,
    private readonly events: HubEvents,
  ) {}

  /**
   * One subscriber, one batch of `messages` messages: the offer and what follows from it
   * (counters, policy, pacing). Returns the Offer outcome (OverLimit: the slow-consumer
   * event fired).
   */
  offer(subscriber: Subscriber, batch: Batch, messages: number, policy: SlowConsumerPolicy): Offer {
    const counters = this.counters;
    const length = batch.length + batch.tailLength;
    const queuedBefore = subscriber.backlog.length;
    const outcome = subscriber.offer(batch, this.limits.maxPending, policy);
    if (outcome === Offer.Accepted) {
      counters.messagesSent += messages;
      counters.bytesSent += length;
      subscriber.messagesSent += messages;
      const queued = subscriber.backlog.length;
      this.total.pendingBytes += queued - queuedBefore;
      if (subscriber.episodeDroppedMessages > 0) this.endDropEpisode(subscriber);
      if (queued > this.pacing.highWater && this.pacing.active) this.pacing.update(subscriber);
    } else if (outcome === Offer.Dropped) {
      subscriber.episodeDroppedMessages += messages;
      subscriber.episodeDroppedBytes += length;
      subscriber.droppedMessages += messages;
      counters.messagesDropped += messages;
    } else if (outcome === Offer.OverLimit) {
      counters.slowConsumerDisconnects++;
      this.events.slowConsumer(subscriber, queuedBefore + length);
    }
    return outcome;
  }

  /**
   * After a drain wrote some of `subscriber`'s backlog. Policy `drop`: a drop episode ends
   * here once the backlog is at or below the low-water mark (the mark at which `stall`
   * releases publishers, at most a quarter of --max-pending): the subscriber caught up far
   * enough that a batch of up to three quarters of the bound is accepted again. The
   * backlog's own bound would not do: drops start when backlog plus batch pass it, so the
   * backlog alone is nearly always under it and every drain would end (and log) an episode
   * while drops go on; the mark gives hysteresis.
   */
  drained(subscriber: Subscriber): void {
    if (
      subscriber.episodeDroppedMessages > 0 &&
      subscriber.backlog.length <= this.pacing.lowWater
    ) {
      this.endDropEpisode(subscriber);
    }
    if (subscriber.holdingPublishers || subscriber.stallExpired) this.pacing.update(subscriber);
  }

  /** Reports a drop episode of `subscriber` that is under way (none: nothing). */
  endDropEpisode(subscriber: Subscriber): void {
    const messages = subscriber.episodeDroppedMessages;
    if (messages === 0) return;
    const bytes = subscriber.episodeDroppedBytes;
    subscriber.episodeDroppedMessages = 0;
    subscriber.episodeDroppedBytes = 0;
    this.events.dropEpisode(subscriber, messages, bytes);
  }
}
