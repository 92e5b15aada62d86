/**
 * The fan-out: the set of subscribers, the batch of messages being published, and the
 * relay's counters.
 *
 * A publisher's chunk goes through its LineSplitter into this hub (the hub is the splitter's
 * SegmentSink). The segments are gathered into one batch; `deliver` then hands the batch to
 * every subscriber with a single write each, so a chunk of a thousand messages costs one
 * syscall per subscriber, not a thousand. The batch is zero-copy when the chunk yields one
 * segment (the usual case) and is copied once into a reusable scratch buffer otherwise.
 * Every subscriber gets the same bytes, so the batch is built once, whatever their number.
 */
import type { SegmentSink } from "./line-splitter.ts";
import { Offer, type Subscriber } from "./subscriber.ts";

const EMPTY = new Uint8Array(0);

/** Running totals since the relay started. */
export interface Counters {
  messagesReceived: number;
  /** Message deliveries: one message to three subscribers counts three. */
  messagesSent: number;
  bytesReceived: number;
  /** Bytes handed to subscribers (written, or queued in their backlog). */
  bytesSent: number;
  slowConsumerDisconnects: number;
  linesTooLong: number;
}

export class Hub implements SegmentSink {
  readonly subscribers: Subscriber[] = [];
  readonly counters: Counters = {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    slowConsumerDisconnects: 0,
    linesTooLong: 0,
  };
  /** Bytes queued in the relay across all subscribers. */
  pendingBytes = 0;

  private batch: Uint8Array = EMPTY;
  private batchStart = 0;
  private batchLength = 0;
  private scratch = new Uint8Array(64 * 1024);

  /**
   * @param maxPending bytes one subscriber may have queued.
   * @param onSlowConsumer called for a subscriber that passed the bound; it must close it.
   */
  constructor(
    private readonly maxPending: number,
    private readonly onSlowConsumer: (subscriber: Subscriber, wanted: number) => void,
  ) {}

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
    return dropped;
  }

  /** SegmentSink: adds bytes to the batch being built. */
  segment(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.batchLength === 0) {
      this.batch = bytes;
      this.batchStart = start;
      this.batchLength = length;
      return;
    }
    if (this.batch !== this.scratch) {
      // A second segment: from here on the batch is built by copying into the scratch buffer.
      this.ensureScratch(this.batchLength + length);
      this.scratch.set(this.batch.subarray(this.batchStart, this.batchStart + this.batchLength));
      this.batch = this.scratch;
      this.batchStart = 0;
    } else {
      this.ensureScratch(this.batchLength + length);
    }
    this.scratch.set(bytes.subarray(start, end), this.batchLength);
    this.batchLength += length;
  }

  /**
   * Hands the batch, which holds `messages` complete messages, to every subscriber: one
   * write each, or a queue append for those with a backlog. Subscribers past the bound are
   * handed to `onSlowConsumer`.
   */
  deliver(messages: number): void {
    const bytes = this.batch;
    const start = this.batchStart;
    const length = this.batchLength;
    this.batch = EMPTY;
    this.batchLength = 0;
    this.counters.messagesReceived += messages;
    if (length === 0) return;

    const subscribers = this.subscribers;
    const maxPending = this.maxPending;
    let delivered = 0;
    // Backwards, because closing a slow consumer moves the last subscriber into its place.
    for (let i = subscribers.length - 1; i >= 0; i--) {
      const subscriber = subscribers[i] as Subscriber;
      const queuedBefore = subscriber.backlog.length;
      const outcome = subscriber.offer(bytes, start, length, maxPending);
      if (outcome === Offer.Accepted) {
        delivered++;
        this.pendingBytes += subscriber.backlog.length - queuedBefore;
      } else if (outcome === Offer.OverLimit) {
        this.counters.slowConsumerDisconnects++;
        this.onSlowConsumer(subscriber, queuedBefore + length);
      }
    }
    this.counters.messagesSent += messages * delivered;
    this.counters.bytesSent += length * delivered;
  }

  /** Drain: writes what the socket takes of a subscriber's backlog. */
  flush(subscriber: Subscriber): void {
    this.pendingBytes -= subscriber.flush();
  }

  private ensureScratch(needed: number): void {
    if (needed <= this.scratch.length) return;
    const grown = new Uint8Array(Math.max(needed, this.scratch.length * 2));
    if (this.batch === this.scratch) {
      grown.set(this.scratch.subarray(0, this.batchLength));
      this.batch = grown;
    }
    this.scratch = grown;
  }
}
