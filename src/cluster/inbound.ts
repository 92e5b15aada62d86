/**
 * The backplane's inbound side: other nodes' batches in from NATS. It owns what happens to a
 * NATS message from the subject, from the subscription's callback (errors reported, nothing
 * thrown into the client) on: the whole-batch check (wire.ts), per-source-node accounting
 * (the count each sender's next batch should carry, so a jump is counted as a gap and a
 * restart is noticed), and delivery into the hub's batches the way a frame publisher's
 * messages go (`submitToBatches`), never sent back out. Kept apart from the connection
 * (backplane.ts) and the outbound side (outbound.ts): it shares only the counters.
 *
 * The batches of one socket read are delivered together: the NATS client parses a read and
 * calls back once per NATS message, all within one microtask, so a microtask queued by the
 * first callback runs right after the last one and hands all of them to the local
 * subscribers in one write each. When this node fell behind (a read holding many batches,
 * exactly the latency tail), that is one write per subscriber instead of one per batch.
 */
import { BODY_OFFSET } from "../protocol/frame-codec.ts";
import type { BatchBuilder } from "../relay/batch.ts";
import { submitToBatches } from "../relay/frame-publisher.ts";
import { type Hub, WireFormat } from "../relay/hub.ts";
import type { ClusterCounters, ClusterEvent } from "./events.ts";
import { checkFrames, forEachFrame, readHeader, sourceText } from "./wire.ts";

/** A malformed batch is logged at most this often (all are counted). */
const MALFORMED_LOG_INTERVAL_MS = 10_000;
/** Checked batches held for delivery up to this many bytes; more are delivered at once. */
const DELIVER_AT_ONCE_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * Checks, accounts and delivers the batches of other nodes. Malformed messages and this
 * node's own batches are dropped (the former counted).
 */
export class Inbound {
  /** Per other node (8-byte key): the `before` its next batch should carry. */
  private readonly expected = new Map<string, number>();
  private lastMalformedLogAt = Number.NEGATIVE_INFINITY;
  /** Shutdown began: messages still in the client's hands are not delivered. */
  private closing = false;
  /** Checked batches of other nodes not yet delivered (this read's), and their size. */
  private readonly pending: Uint8Array[] = [];
  private pendingMessages = 0;
  private pendingBytes = 0;
  private deliveryQueued = false;
  /** The batch `submitFrame` reads from (a field, so that no closure is made per batch). */
  private current: Uint8Array = EMPTY;
  private frames: BatchBuilder | undefined = undefined;
  private lines: BatchBuilder | undefined = undefined;

  /**
   * @param ownKey this node's source key (wire.ts `sourceKey`): its own batches are ignored.
   */
  constructor(
    private readonly hub: Hub,
    private readonly counters: ClusterCounters,
    private readonly subject: string,
    private readonly ownKey: string,
    private readonly events: { emit(event: ClusterEvent): void },
  ) {}

  /** Other nodes heard from so far. */
  get sources(): number {
    return this.expected.size;
  }

  /** Shutdown: from now on, messages from the subscription are ignored. */
  close(): void {
    this.closing = true;
  }

  /**
   * The subscription's callback (nats.js): a NATS message goes to `receive`; nothing thrown
   * escapes into the client's reader, it is reported as a warning instead.
   */
  readonly onMessage = (error: Error | null, msg: { data: Uint8Array }): void => {
    if (error) {
      this.warn(`subscription error: ${error.message}`);
      return;
    }
    if (this.closing) return;
    try {
      this.receive(msg.data);
    } catch (thrown) {
      // Never let an exception escape into the NATS client's reader.
      this.warn(`a batch could not be delivered: ${(thrown as Error).message}`);
    }
  };

  /**
   * One NATS message from the subject: checked whole and accounted now, delivered like local
   * messages at the end of this microtask (with the other batches of the same read), or at
   * once past 64 KiB held.
   */
  receive(data: Uint8Array): void {
    const c = this.counters;
    const header = readHeader(data);
    if (typeof header === "string") {
      this.malformed(header, data.length);
      return;
    }
    if (header.source === this.ownKey) return; // our own (noEcho should already stop it)
    const bad = checkFrames(data, header.count);
    if (bad !== undefined) {
      this.malformed(bad, data.length);
      return;
    }
    c.batchesIn++;
    c.bytesIn += data.length;
    c.messagesIn += header.count;
    const expected = this.expected.get(header.source);
    if (expected === undefined || header.before < expected) {
      this.events.emit({
        type: "cluster_source",
        source: sourceText(header.source),
        restarted: expected !== undefined,
      });
    } else if (header.before > expected) {
      const lost = header.before - expected;
      c.lost.gap += lost;
      this.events.emit({ type: "cluster_gap", source: sourceText(header.source), messages: lost });
    }
    this.expected.set(header.source, header.before + header.count);

    this.pending.push(data);
    this.pendingMessages += header.count;
    this.pendingBytes += data.length;
    if (this.pendingBytes >= DELIVER_AT_ONCE_BYTES) {
      this.deliverPending();
    } else if (!this.deliveryQueued) {
      this.deliveryQueued = true;
      queueMicrotask(this.deliverQueued);
    }
  }

  private readonly deliverQueued = (): void => {
    this.deliveryQueued = false;
    try {
      this.deliverPending();
    } catch (thrown) {
      this.warn(`batches could not be delivered: ${(thrown as Error).message}`);
    }
  };

  /**
   * Hands the held batches to the hub: what local publishers put in its batches first (so
   * that the next delivery holds only other nodes' messages, never sent back out), then
   * these, in the order they came.
   */
  private deliverPending(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    const messages = this.pendingMessages;
    this.pendingMessages = 0;
    this.pendingBytes = 0;
    const hub = this.hub;
    hub.flushLocal();
    this.frames =
      hub.localReaders(WireFormat.Frame) > 0 ? hub.batches[WireFormat.Frame] : undefined;
    this.lines = hub.localReaders(WireFormat.Line) > 0 ? hub.batches[WireFormat.Line] : undefined;
    try {
      if (this.frames || this.lines) {
        for (let i = 0; i < pending.length; i++) {
          this.current = pending[i] as Uint8Array;
          forEachFrame(this.current, this.submitFrame);
        }
      }
    } finally {
      // Never twice, even after a throw: delivery across nodes is at most once.
      pending.length = 0;
      this.current = EMPTY;
      this.frames = undefined;
      this.lines = undefined;
    }
    hub.publishRemote(messages);
  }

  /** Each message's bytes are its own (the client never reuses them): kept by reference. */
  private readonly submitFrame = (start: number, end: number): void => {
    submitToBatches(
      this.hub,
      this.frames,
      this.lines,
      this.current,
      start,
      end,
      start + BODY_OFFSET,
      true,
    );
  };

  private malformed(why: string, bytes: number): void {
    this.counters.malformed++;
    const now = performance.now();
    if (now - this.lastMalformedLogAt < MALFORMED_LOG_INTERVAL_MS) return;
    this.lastMalformedLogAt = now;
    this.warn(
      `dropped a NATS message on ${this.subject} that is no version 1 batch (${why}, ${bytes} B; ${this.counters.malformed} so far): another program publishes there?`,
    );
  }

  private warn(message: string): void {
    this.events.emit({ type: "cluster_warning", message });
  }
}
