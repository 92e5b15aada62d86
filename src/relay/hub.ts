/**
 * The fan-out: the set of subscribers, one batch of encoded messages per wire format, the
 * slow-consumer policy, and the relay's counters (relay-stats.ts). The hub knows no protocol: publishers'
 * codecs append already-encoded bytes (lines, or seed 003 Submit frames) to the batch of each
 * format that has subscribers, and the hub hands each subscriber its format's batch.
 *
 * `deliver` hands a batch to every subscriber of its format with a single write each, so a
 * chunk of a thousand messages costs one syscall per subscriber, not a thousand. Small
 * batches wait for the end of the event-loop turn (`setImmediate`), so the one-message chunks
 * of a hundred publishers that are read in the same turn also leave in one write per
 * subscriber. Every subscriber of a format gets the same bytes, so a batch is built once,
 * whatever their number (see BatchBuilder for when it is zero-copy).
 *
 * Slow consumers (a backlog past --max-pending) are handled by the --slow-consumer policy
 * (`disconnect`, `drop`, `block`, `stall`), applied at each offer and drain by OfferPolicy
 * (offer-policy.ts).
 *
 * With --cluster, the NATS backplane is one more reader of the frame format (a BatchSink):
 * each delivered frame batch of local messages is also handed to it, and batches from other
 * nodes come in through `publishRemote`, delivered like local ones but never sent back out.
 */
import { type Batch, BatchBuilder } from "./batch.ts";
import { OfferPolicy } from "./offer-policy.ts";
import type { SlowConsumerPolicy } from "./options.ts";
import { type PacingEvents, PublisherPacing } from "./pacing.ts";
import { type Counters, newCounters } from "./relay-stats.ts";
import type { StreamBridge } from "./stream-bridge.ts";
import type { Offer, Subscriber } from "./subscriber.ts";

/**
 * Which encoding a subscriber reads: index into the hub's batches for line and frame
 * subscribers. A NATS connection's outbound side reads no shared batch: the subject router
 * builds its bytes (a `MSG` head per subscription) and hands them over with `offerOwn`.
 */
export const WireFormat = { Line: 0, Frame: 1, Nats: 2 } as const;
export type WireFormat = (typeof WireFormat)[keyof typeof WireFormat];

/**
 * A batch this large is delivered at once rather than at the end of the turn: it already
 * fills a write, and waiting would only copy it into the scratch buffer behind other chunks.
 */
const DELIVER_AT_ONCE_BYTES = 64 * 1024;

export interface HubLimits {
  /** Bytes one subscriber may have queued. */
  maxPending: number;
  policy: SlowConsumerPolicy;
  /** Policy `stall`: milliseconds one subscriber may hold publishers in one episode. */
  stallTimeoutMs: number;
}

/** What the hub asks of the server, which owns the sockets. */
export interface HubEvents extends PacingEvents {
  /** Policy `disconnect` (or `stall` past its timeout): `subscriber` must be closed. */
  slowConsumer(subscriber: Subscriber, wantedBytes: number): void;
  /** Policy `drop`: an episode of drops for `subscriber` ended (or it closed mid-episode). */
  dropEpisode(subscriber: Subscriber, messages: number, bytes: number): void;
}

/**
 * Where the hub sends each frame batch of local messages besides its frame subscribers: the
 * NATS backplane. It counts as a reader of the frame format, so publishers encode their
 * messages as Submit frames while it is attached.
 */
export interface BatchSink {
  /** `batch` holds `messages` whole Submit frames; copy what is kept before returning. */
  send(batch: Batch, messages: number): void;
}

/** A publisher with acks that may leave only once its messages were delivered. */
export interface AckSource {
  /** Writes the acks gathered since the last call (one write). */
  flushAcks(): void;
}

export class Hub {
  readonly subscribers: Subscriber[] = [];
  readonly counters: Counters = newCounters();
  /** Frame errors by code (FRAME_ERR_*), for the metrics' label. */
  readonly frameErrors = new Map<string, number>();
  /** Bytes queued in the relay across all subscribers. */
  pendingBytes = 0;
  /** The batch being built for each wire format, indexed by WireFormat. */
  readonly batches: readonly [BatchBuilder, BatchBuilder] = [
    new BatchBuilder(),
    new BatchBuilder(),
  ];
  /**
   * Subscribers of each wire format: a publisher encodes its messages into a format's batch
   * only when someone reads that format (a line publisher's fast path is untouched while no
   * frame subscriber exists).
   */
  readonly readers: [number, number, number] = [0, 0, 0];
  readonly pacing: PublisherPacing;
  /** The slow-consumer policy at each offer and drain. */
  private readonly offers: OfferPolicy;
  /** Messages received since the last delivery. */
  private received = 0;
  /**
   * Set by the backplane while NATS has not confirmed enough of our batches: publishers are
   * held as they are for a slow subscriber (see `holdingPublishers`).
   */
  sinkHolding = false;
  private sink: BatchSink | undefined;
  /** True while `deliver` hands out a batch that came from the backplane. */
  private remote = false;
  /** Publishers whose acks wait for the next delivery. */
  private ackSources: AckSource[] = [];
  private deliveryScheduled = false;
  /**
   * With --nats-port: the bridge between the line/frame stream and NATS subjects; publishers
   * hand it their messages while a NATS client subscribes to --subject.
   */
  bridge: StreamBridge | undefined;
  /** Called at the end of every delivery: the subject router flushes NATS connections. */
  afterDeliver: (() => void) | undefined;

  constructor(
    private readonly limits: HubLimits,
    readonly events: HubEvents,
  ) {
    this.pacing = new PublisherPacing(
      limits.maxPending,
      limits.policy,
      limits.stallTimeoutMs,
      this.counters,
      events,
    );
    this.offers = new OfferPolicy(this, limits, this.counters, this.pacing, events);
  }

  /**
   * New --max-pending and --stall-timeout while running (SIGHUP with --config); the policy
   * stays. A subscriber's backlog is judged against the new bound at its next message.
   */
  resize(maxPending: number, stallTimeoutMs: number): void {
    this.limits.maxPending = maxPending;
    this.limits.stallTimeoutMs = stallTimeoutMs;
    this.pacing.resize(maxPending, stallTimeoutMs);
  }

  /** A new --slow-consumer policy (SIGHUP with --config): see PublisherPacing.setPolicy. */
  setPolicy(policy: SlowConsumerPolicy): void {
    this.limits.policy = policy;
    this.pacing.setPolicy(policy);
  }

  /** True while publishers are held: policies `block` and `stall`, or the backplane. */
  get holdingPublishers(): boolean {
    return this.pacing.holding || this.sinkHolding;
  }

  /** Attaches the backplane: from now on every frame batch of local messages goes to it too. */
  attachSink(sink: BatchSink): void {
    this.sink = sink;
    this.readers[WireFormat.Frame]++;
  }

  /** Subscribers of `format` on this node (the backplane not counted). */
  localReaders(format: WireFormat): number {
    return this.readers[format] - (format === WireFormat.Frame && this.sink ? 1 : 0);
  }

  /**
   * Delivers what local publishers put in the batches so far, so that a batch from the
   * backplane can be built alone next (it must not go back out to NATS).
   */
  flushLocal(): void {
    if (this.received > 0 || this.batches[0].length > 0 || this.batches[1].length > 0) {
      this.deliver();
    }
  }

  /**
   * `messages` messages from another node (via the backplane) were put in the batches, after
   * `flushLocal`: delivers them now, with the same policies and counters as local ones, but
   * not to the backplane. Under `block` they are dropped for a subscriber over --max-pending
   * instead of queued: the backplane cannot be held, so that queue would have no bound.
   */
  publishRemote(messages: number): void {
    this.received += messages;
    this.remote = true;
    try {
      this.deliver();
    } finally {
      this.remote = false;
    }
  }

  /** Stops the stall timer (shutdown). */
  stop(): void {
    this.pacing.stop();
  }

  add(subscriber: Subscriber): void {
    subscriber.index = this.subscribers.length;
    this.subscribers.push(subscriber);
    this.readers[subscriber.format]++;
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
    this.readers[subscriber.format]--;
    const dropped = subscriber.backlog.clear();
    subscriber.droppedBytes += dropped;
    this.pendingBytes -= dropped;
    this.offers.endDropEpisode(subscriber);
    if (this.pacing.active) this.pacing.update(subscriber);
    return dropped;
  }

  /**
   * `messages` more messages were received and encoded into the batches. Large batches go
   * out at once; small ones wait for the end of this event-loop turn, so the chunks of many
   * publishers that arrive together leave in one write per subscriber.
   */
  publish(messages: number): void {
    this.received += messages;
    const [line, frame] = this.batches;
    if (line.length >= DELIVER_AT_ONCE_BYTES || frame.length >= DELIVER_AT_ONCE_BYTES) {
      this.deliver();
    } else if (!this.deliveryScheduled) {
      this.deliveryScheduled = true;
      setImmediate(this.deliverScheduled);
    }
  }

  /** `source` has acks for messages in the batches: they leave after the next delivery. */
  ackAfterDelivery(source: AckSource): void {
    this.ackSources.push(source);
    if (!this.deliveryScheduled) {
      this.deliveryScheduled = true;
      setImmediate(this.deliverScheduled);
    }
  }

  private readonly deliverScheduled = (): void => {
    this.deliveryScheduled = false;
    this.deliver();
  };

  /**
   * Hands each format's batch to every subscriber of that format now: one write each, or a
   * queue append for those with a backlog; applies the policy to subscribers past the bound;
   * then lets the publishers whose messages these were send their acks.
   */
  deliver(): void {
    const counters = this.counters;
    counters.messagesReceived += this.received;
    this.received = 0;
    const [lineBuilder, frameBuilder] = this.batches;
    const lineMessages = lineBuilder.messages;
    const frameMessages = frameBuilder.messages;
    const lines = lineBuilder.take();
    const frames = frameBuilder.take();
    const lineLength = lines.length + lines.tailLength;
    const frameLength = frames.length + frames.tailLength;
    if (frameLength > 0 && this.sink && !this.remote) this.sink.send(frames, frameMessages);

    if (lineLength > 0 || frameLength > 0) {
      const subscribers = this.subscribers;
      const policy = this.remote && this.limits.policy === "block" ? "drop" : this.limits.policy;
      // Backwards, because closing a slow consumer moves the last subscriber into its place.
      for (let i = subscribers.length - 1; i >= 0; i--) {
        const subscriber = subscribers[i] as Subscriber;
        const format = subscriber.format;
        if (format === WireFormat.Line) {
          if (lineLength > 0) this.offers.offer(subscriber, lines, lineMessages, policy);
        } else if (format === WireFormat.Frame) {
          if (frameLength > 0) this.offers.offer(subscriber, frames, frameMessages, policy);
        } // NATS connections are fed by offerOwn
      }
    }
    lineBuilder.release(lines);
    frameBuilder.release(frames);

    // NATS connections that routed messages gathered them in their own buffers: one write each.
    this.afterDeliver?.();
    if (this.ackSources.length > 0) {
      const sources = this.ackSources;
      this.ackSources = [];
      for (const source of sources) source.flushAcks();
    }
  }

  /**
   * Hands one subscriber bytes of its own (a NATS connection's `MSG`s and replies, built for
   * it alone), with the same policy, counters and pacing as a shared batch. `messages` counts
   * the deliveries in it. Returns the Offer outcome (OverLimit: the slow-consumer event fired).
   */
  offerOwn(subscriber: Subscriber, batch: Batch, messages: number): Offer {
    return this.offers.offer(subscriber, batch, messages, this.limits.policy);
  }

  /**
   * Drain: writes what the socket takes of a subscriber's backlog, then applies the policy
   * (a drop episode may end, publishers may be released: OfferPolicy.drained).
   */
  flush(subscriber: Subscriber): void {
    this.pendingBytes -= subscriber.flush();
    this.offers.drained(subscriber);
  }

  /** Counts one ConnAck or SubmitAck sent, whichever side sent it: OK or FAILED. */
  countAck(ok: boolean): void {
    if (ok) this.counters.acksOk++;
    else this.counters.acksFailed++;
  }

  /** Counts a frame error of `code` (FRAME_ERR_*). */
  countFrameError(code: string): void {
    this.counters.frameErrors++;
    this.frameErrors.set(code, (this.frameErrors.get(code) ?? 0) + 1);
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
}
