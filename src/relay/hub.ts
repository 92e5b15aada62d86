/**
 * The fan-out: the set of subscribers, the batch of messages being published, the
 * slow-consumer policy, and the relay's counters.
 *
 * A publisher's chunk goes through its LineSplitter into this hub (the hub is the splitter's
 * SegmentSink). The segments are gathered into one batch; `deliver` then hands the batch to
 * every subscriber with a single write each, so a chunk of a thousand messages costs one
 * syscall per subscriber, not a thousand. Small batches wait for the end of the event-loop
 * turn (`setImmediate`), so the one-message chunks of a hundred publishers that are read in
 * the same turn also leave in one write per subscriber. The batch is zero-copy when it is
 * one segment of one chunk, or the end of a carried-over line followed by a large run of a
 * chunk (then it leaves in two writes: the usual case at volume); it is copied once into a
 * reusable scratch buffer otherwise. Every subscriber gets the same bytes, so the batch is built
 * once, whatever their number.
 *
 * Slow consumers (a backlog past --max-pending) are handled by the policy:
 * - `disconnect`: the hub reports the subscriber to `events.slowConsumer`, which closes it.
 * - `drop`: whole batches are dropped for that subscriber while it is over the bound; an
 *   episode of drops is reported once, with its totals, when it ends.
 * - `block`: a backlog past the high-water mark (3/4 of the bound, at most 1 MiB) holds every
 *   publisher (`events.pressure`) until it falls below a third of that. Nothing is dropped.
 * - `stall` (the default): as `block`, but one subscriber holds publishers for at most
 *   `stallTimeoutMs` per episode. Then it stops holding them (`events.stallExpired`), its
 *   backlog grows while the others are served, and it is cut at the bound like `disconnect`;
 *   if it falls back to the low-water mark first, it is an ordinary subscriber again.
 */
import type { SegmentSink } from "./line-splitter.ts";
import type { SlowConsumerPolicy } from "./options.ts";
import { type Batch, Offer, type Subscriber } from "./subscriber.ts";

const EMPTY = new Uint8Array(0);
/**
 * A run of a read chunk at least this long, following the batch's first segment, is sent as
 * a second write instead of being copied behind it: one more small write per subscriber
 * costs less than copying a read of up to 512 KiB (1 -> 3 saturation: +6% delivered).
 */
const TAIL_MIN_BYTES = 32 * 1024;

function emptyBatch(): Batch {
  return {
    bytes: EMPTY,
    start: 0,
    length: 0,
    retainable: false,
    tail: EMPTY,
    tailStart: 0,
    tailLength: 0,
  };
}

/** Forgets the batch's bytes (so delivered chunks can be collected) and empties it. */
function clearBatch(batch: Batch): void {
  batch.bytes = EMPTY;
  batch.start = 0;
  batch.length = 0;
  batch.retainable = false;
  batch.tail = EMPTY;
  batch.tailStart = 0;
  batch.tailLength = 0;
}
/**
 * A batch this large is delivered at once rather than at the end of the turn: it already
 * fills a write, and waiting would only copy it into the scratch buffer behind other chunks.
 */
const DELIVER_AT_ONCE_BYTES = 64 * 1024;
/**
 * Policy `block`: the largest backlog before publishers are held. Two read chunks are enough
 * to keep a subscriber's socket busy; measured at 4 -> 16 saturation, 1 MiB instead of 6 MiB
 * (3/4 of the default bound) cut the relay's RSS from ~280-440 MB to ~80-95 MB and its CPU
 * from ~88% to ~68%, with more messages delivered, not fewer.
 */
const BLOCK_HIGH_WATER_MAX = 1024 * 1024;

/** Running totals since the relay started. */
export interface Counters {
  messagesReceived: number;
  /** Message deliveries: one message to three subscribers counts three. */
  messagesSent: number;
  bytesReceived: number;
  /** Bytes handed to subscribers (written, or queued in their backlog). */
  bytesSent: number;
  slowConsumerDisconnects: number;
  writeTimeouts: number;
  /** Policy `drop`: message deliveries dropped. */
  messagesDropped: number;
  /** Policies `block` and `stall`: times publishers were held. */
  publisherPauses: number;
  /** Policies `block` and `stall`: milliseconds publishers spent held, in total. */
  publishersHeldMs: number;
  /** Policy `stall`: subscribers that held publishers for --stall-timeout and were left behind. */
  stallTimeouts: number;
  linesTooLong: number;
  /** Connections closed at accept because of --max-conns. */
  refusedConnections: number;
  /** Connections accepted by each listener, refused ones included (read by /metrics). */
  publishersAccepted: number;
  subscribersAccepted: number;
}

export interface HubLimits {
  /** Bytes one subscriber may have queued. */
  maxPending: number;
  policy: SlowConsumerPolicy;
  /** Policy `stall`: milliseconds one subscriber may hold publishers in one episode. */
  stallTimeoutMs: number;
}

/** What the hub asks of the server, which owns the sockets. */
export interface HubEvents {
  /** Policy `disconnect`: `subscriber` passed the bound and must be closed. */
  slowConsumer(subscriber: Subscriber, wantedBytes: number): void;
  /** Policy `drop`: an episode of drops for `subscriber` ended (or it closed mid-episode). */
  dropEpisode(subscriber: Subscriber, messages: number, bytes: number): void;
  /** Policies `block` and `stall`: hold (true) or release (false) every publisher. */
  pressure(hold: boolean): void;
  /**
   * Policy `stall`: `subscriber` held publishers for `heldMs` (at least --stall-timeout);
   * they no longer wait for it, and it will be cut if its backlog reaches the bound.
   */
  stallExpired(subscriber: Subscriber, heldMs: number): void;
}

export class Hub implements SegmentSink {
  readonly subscribers: Subscriber[] = [];
  readonly counters: Counters = {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    slowConsumerDisconnects: 0,
    writeTimeouts: 0,
    messagesDropped: 0,
    publisherPauses: 0,
    publishersHeldMs: 0,
    stallTimeouts: 0,
    linesTooLong: 0,
    refusedConnections: 0,
    publishersAccepted: 0,
    subscribersAccepted: 0,
  };
  /** Bytes queued in the relay across all subscribers. */
  pendingBytes = 0;
  /**
   * Policies `block` and `stall`: the subscribers over the high-water mark; publishers are held
   * while it is not empty.
   */
  private readonly holders = new Set<Subscriber>();
  /** performance.now() when publishers were last held. */
  private heldSince = 0;
  /** Policy `stall`: the timer that looks for holders past --stall-timeout, while armed. */
  private stallTimer: ReturnType<typeof setTimeout> | undefined;

  /** The batch being built; `deliver` swaps it with the spare, which is empty. */
  private batch: Batch = emptyBatch();
  private spareBatch: Batch = emptyBatch();
  /** Complete messages in the batch. */
  private batchMessages = 0;
  private deliveryScheduled = false;
  private scratch = new Uint8Array(64 * 1024);
  private readonly highWater: number;
  private readonly lowWater: number;
  /** Policies `block` and `stall` hold publishers; the others never do. */
  private readonly pacesPublishers: boolean;

  constructor(
    private readonly limits: HubLimits,
    private readonly events: HubEvents,
  ) {
    // As nats-server does, push back on producers before the bound (3/4 of it), but never
    // let a backlog pass BLOCK_HIGH_WATER_MAX: a bigger one only adds memory and latency.
    this.highWater = Math.min(Math.floor((limits.maxPending * 3) / 4), BLOCK_HIGH_WATER_MAX);
    this.lowWater = Math.floor(this.highWater / 3);
    this.pacesPublishers = limits.policy === "block" || limits.policy === "stall";
  }

  /** Policies `block` and `stall`: true while publishers are held. */
  get holdingPublishers(): boolean {
    return this.holders.size > 0;
  }

  /** Stops the stall timer (shutdown). */
  stop(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  add(subscriber: Subscriber): void {
    subscriber.index = this.subscribers.length;
    this.subscribers.push(subscriber);
  }

  /** Removes a subscriber (idempotent). Returns the queued bytes dropped with it. */
  remove(subscriber: Subscriber): number {
    const index = subscriber.index;
    if (index < 0) return 0;
    const last = this.subscribers.pop() as Subscriber;
    if (last !== subscriber) {
      this.subscribers[index] = last;
      last.index = index;
    }
    subscriber.index = -1;
    const dropped = subscriber.backlog.clear();
    subscriber.droppedBytes += dropped;
    this.pendingBytes -= dropped;
    this.endDropEpisode(subscriber);
    this.updatePressure(subscriber);
    return dropped;
  }

  /**
   * SegmentSink: adds bytes to the batch being built. The first segment is kept by
   * reference; a large run of a read chunk right after it becomes the batch's tail, also by
   * reference (a 512 KiB read that finishes a carried-over line is not copied behind that
   * line's first bytes). Anything else is copied into the scratch buffer.
   */
  segment(bytes: Uint8Array, start: number, end: number, stable: boolean): void {
    const batch = this.batch;
    const length = end - start;
    if (batch.length === 0 && batch.tailLength === 0) {
      batch.bytes = bytes;
      batch.start = start;
      batch.length = length;
      batch.retainable = stable;
      return;
    }
    if (stable && length >= TAIL_MIN_BYTES && batch.tailLength === 0) {
      // The first part may be the splitter's own buffer, valid only until its next call.
      if (!batch.retainable) this.moveToScratch(batch.length);
      batch.tail = bytes;
      batch.tailStart = start;
      batch.tailLength = length;
      return;
    }
    this.moveToScratch(batch.length + batch.tailLength + length);
    if (batch.tailLength > 0) {
      this.scratch.set(
        batch.tail.subarray(batch.tailStart, batch.tailStart + batch.tailLength),
        batch.length,
      );
      batch.length += batch.tailLength;
      batch.tail = EMPTY;
      batch.tailLength = 0;
    }
    this.scratch.set(bytes.subarray(start, end), batch.length);
    batch.length += length;
  }

  /** Makes the batch's first part live in the scratch buffer, with room for `needed` bytes. */
  private moveToScratch(needed: number): void {
    const batch = this.batch;
    if (batch.bytes !== this.scratch) {
      this.ensureScratch(needed);
      this.scratch.set(batch.bytes.subarray(batch.start, batch.start + batch.length));
      batch.bytes = this.scratch;
      batch.start = 0;
      batch.retainable = false;
    } else {
      this.ensureScratch(needed);
    }
  }

  /**
   * The segments added since the last delivery complete `messages` more messages. Large
   * batches go out at once; small ones wait for the end of this event-loop turn, so the
   * chunks of many publishers that arrive together leave in one write per subscriber.
   */
  publish(messages: number): void {
    this.batchMessages += messages;
    const length = this.batch.length + this.batch.tailLength;
    if (length >= DELIVER_AT_ONCE_BYTES) {
      this.deliver();
    } else if (!this.deliveryScheduled && length > 0) {
      this.deliveryScheduled = true;
      setImmediate(this.deliverScheduled);
    }
  }

  private readonly deliverScheduled = (): void => {
    this.deliveryScheduled = false;
    this.deliver();
  };

  /**
   * Hands the batch to every subscriber now: one write each, or a queue append for those
   * with a backlog; then applies the policy to subscribers past the bound.
   */
  deliver(): void {
    const batch = this.batch;
    const length = batch.length + batch.tailLength;
    const messages = this.batchMessages;
    this.batch = this.spareBatch;
    this.spareBatch = batch;
    this.batchMessages = 0;
    const counters = this.counters;
    counters.messagesReceived += messages;
    if (length === 0) {
      clearBatch(batch);
      return;
    }

    const subscribers = this.subscribers;
    const { maxPending, policy } = this.limits;
    let delivered = 0;
    // Backwards, because closing a slow consumer moves the last subscriber into its place.
    for (let i = subscribers.length - 1; i >= 0; i--) {
      const subscriber = subscribers[i] as Subscriber;
      const queuedBefore = subscriber.backlog.length;
      const outcome = subscriber.offer(batch, maxPending, policy);
      if (outcome === Offer.Accepted) {
        delivered++;
        const queued = subscriber.backlog.length;
        this.pendingBytes += queued - queuedBefore;
        if (subscriber.episodeDroppedMessages > 0) this.endDropEpisode(subscriber);
        if (queued > this.highWater && this.pacesPublishers) this.updatePressure(subscriber);
      } else if (outcome === Offer.Dropped) {
        subscriber.episodeDroppedMessages += messages;
        subscriber.episodeDroppedBytes += length;
        subscriber.droppedMessages += messages;
        counters.messagesDropped += messages;
      } else if (outcome === Offer.OverLimit) {
        counters.slowConsumerDisconnects++;
        this.events.slowConsumer(subscriber, queuedBefore + length);
      }
    }
    counters.messagesSent += messages * delivered;
    counters.bytesSent += length * delivered;
    clearBatch(batch);
  }

  /** Drain: writes what the socket takes of a subscriber's backlog. */
  flush(subscriber: Subscriber): void {
    this.pendingBytes -= subscriber.flush();
    if (subscriber.holdingPublishers || subscriber.stallExpired) this.updatePressure(subscriber);
  }

  /**
   * Called on a timer: returns the subscribers whose backlog has not moved for
   * `maxStalledSweeps` calls in a row (the write timeout), without removing them.
   */
  stalledSubscribers(maxStalledSweeps: number): Subscriber[] {
    const stalled: Subscriber[] = [];
    for (const subscriber of this.subscribers) {
      if (subscriber.backlog.length === 0 || subscriber.bytesSent !== subscriber.bytesSentAtSweep) {
        subscriber.bytesSentAtSweep = subscriber.bytesSent;
        subscriber.stalledSweeps = 0;
      } else if (++subscriber.stalledSweeps >= maxStalledSweeps) {
        stalled.push(subscriber);
      }
    }
    return stalled;
  }

  /**
   * Policies `block` and `stall`: a subscriber above the high-water mark holds publishers, and
   * releases them at the low-water mark (or when it goes). Under `stall`, a subscriber past
   * --stall-timeout holds them no more until it is back at the low-water mark.
   */
  private updatePressure(subscriber: Subscriber): void {
    const backlog = subscriber.backlog.length;
    const gone = subscriber.index < 0;
    if (gone || backlog <= this.lowWater) {
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
      if (this.limits.policy === "stall" && this.stallTimer === undefined) {
        this.armStallTimer(this.limits.stallTimeoutMs);
      }
    }
  }

  /** `subscriber` holds publishers no more; they resume when no one else holds them. */
  private release(subscriber: Subscriber): void {
    subscriber.holdingPublishers = false;
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
    const timeoutMs = this.limits.stallTimeoutMs;
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

  private endDropEpisode(subscriber: Subscriber): void {
    const messages = subscriber.episodeDroppedMessages;
    if (messages === 0) return;
    const bytes = subscriber.episodeDroppedBytes;
    subscriber.episodeDroppedMessages = 0;
    subscriber.episodeDroppedBytes = 0;
    this.events.dropEpisode(subscriber, messages, bytes);
  }

  private ensureScratch(needed: number): void {
    if (needed <= this.scratch.length) return;
    const grown = new Uint8Array(Math.max(needed, this.scratch.length * 2));
    const batch = this.batch;
    if (batch.bytes === this.scratch) {
      grown.set(this.scratch.subarray(0, batch.length));
      batch.bytes = grown;
    }
    this.scratch = grown;
  }
}
