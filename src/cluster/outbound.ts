/**
 * The backplane's outbound side: local frame batches out to NATS. It owns what happens to a
 * batch from the hub's delivery to the NATS client: the 22-byte header and this node's count
 * (wire.ts), splitting at frame boundaries past the server's max_payload, flow control by
 * PING/PONG (holding local publishers, or dropping, per the slow-consumer policy), and the
 * batches this node drops itself, counted by cause and reported once per episode. Kept apart
 * from the connection (backplane.ts), which it only reads through `OutboundLink`, and from
 * the inbound side (inbound.ts), with which it shares nothing but the counters.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Batch } from "../relay/batch.ts";
import type { Hub } from "../relay/hub.ts";
import type { SlowConsumerPolicy } from "../relay/options.ts";
import type { ClusterCounters, ClusterEvent, ClusterState, LostCause } from "./events.ts";
import { HEADER_BYTES, splitFrames, writeHeader } from "./wire.ts";

/** Published bytes between two flush round trips (PING/PONG) that confirm NATS took them. */
const FLUSH_EVERY_BYTES = 256 * 1024;
/** Unconfirmed bytes past which the backplane holds local publishers (or drops, see below). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Unconfirmed bytes at or below which it lets them go again. */
const LOW_WATER_BYTES = 1024 * 1024;

/** A loss cause the sender counts itself (a `gap` is counted by a receiver). */
export type DropCause = Exclude<LostCause, "gap" | "no_member">;

/** The NATS connection as the backplane keeps it (and updates); the outbound side reads it. */
export interface OutboundLink {
  state: ClusterState;
  nc: NatsConnection | undefined;
  /** The server's max_payload, from its INFO. */
  maxPayload: number;
}

/** What the outbound side needs of the relay: its events and the hold notification. */
export interface OutboundEvents {
  emit(event: ClusterEvent): void;
  /** The backplane started (true) or stopped (false) holding local publishers. */
  holdChanged(): void;
}

/** The outbound side's settings: the slow-consumer policy decides hold or drop. */
export interface OutboundOptions {
  subject: string;
  /** This node's id, 8 bytes, written into every batch header. */
  nodeIdBytes: Uint8Array;
  policy: SlowConsumerPolicy;
  stallTimeoutMs: number;
}

/**
 * Publishes local batches to NATS and bounds what NATS has not confirmed. Every message
 * either leaves (advancing this node's count) or is dropped and counted by cause.
 */
export class Outbound {
  /** Messages published to NATS so far: the `before` of the next batch. */
  private published = 0;
  // Flow control: bytes handed to the client, and how many of them NATS has confirmed.
  private bytesPublished = 0;
  private bytesConfirmed = 0;
  private flushing = false;
  /** Bumped at each disconnect, so a late flush answer of an old connection is ignored. */
  private epoch = 0;
  private holdingNow = false;
  private holdStart = 0;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  /** Past the hold the policy allows: batches are dropped (`slow_nats`) until NATS catches up. */
  private droppingNow = false;
  private readonly episodes = new Map<DropCause, { messages: number; batches: number }>();

  constructor(
    private readonly hub: Hub,
    private readonly link: OutboundLink,
    private readonly counters: ClusterCounters,
    private readonly options: OutboundOptions,
    private readonly events: OutboundEvents,
  ) {}

  /** True while local publishers are held (NATS is behind on our batches). */
  get holding(): boolean {
    return this.holdingNow;
  }

  /** Publishes a delivered frame batch of local messages (copied here), or drops it. */
  send(batch: Batch, messages: number): void {
    const nc = this.link.nc;
    if (this.link.state !== "connected" || nc === undefined) {
      this.drop("not_connected", messages, 1);
      return;
    }
    if (this.droppingNow) {
      this.drop("slow_nats", messages, 1);
      return;
    }
    const length = batch.length + batch.tailLength;
    const out = new Uint8Array(HEADER_BYTES + length);
    out.set(batch.bytes.subarray(batch.start, batch.start + batch.length), HEADER_BYTES);
    if (batch.tailLength > 0) {
      out.set(
        batch.tail.subarray(batch.tailStart, batch.tailStart + batch.tailLength),
        HEADER_BYTES + batch.length,
      );
    }
    const maxPayload = this.link.maxPayload;
    if (out.length <= maxPayload) {
      this.publish(nc, out, messages);
    } else {
      for (const piece of splitFrames(out, HEADER_BYTES, length, maxPayload)) {
        if (!piece.fits) {
          this.drop("too_large", 1, 1);
          this.endEpisode("too_large");
          continue;
        }
        const part = new Uint8Array(HEADER_BYTES + piece.end - piece.start);
        part.set(out.subarray(piece.start, piece.end), HEADER_BYTES);
        this.publish(nc, part, piece.frames);
      }
    }
    this.checkFlow();
  }

  /** Reports (and forgets) the current drop episode of `cause`, if any. */
  endEpisode(cause: DropCause): void {
    const episode = this.episodes.get(cause);
    if (!episode) return;
    this.episodes.delete(cause);
    this.events.emit({ type: "cluster_dropped", cause, ...episode });
  }

  /** Shutdown: publishers go free and every open drop episode is reported. */
  close(): void {
    this.setHolding(false);
    for (const cause of [...this.episodes.keys()]) this.endEpisode(cause);
  }

  /** The connection is gone: nothing of it is pending any more, publishers go free. */
  resetFlow(): void {
    this.epoch++;
    this.flushing = false;
    this.bytesConfirmed = this.bytesPublished;
    this.setHolding(false);
    if (this.droppingNow) {
      this.droppingNow = false;
      this.endEpisode("slow_nats");
    }
  }

  private publish(nc: NatsConnection, out: Uint8Array, messages: number): void {
    writeHeader(out, this.options.nodeIdBytes, this.published, messages);
    try {
      nc.publish(this.options.subject, out);
    } catch (error) {
      // Closed or draining under us: the batch never left.
      this.drop("not_connected", messages, 1);
      this.events.emit({
        type: "cluster_warning",
        message: `publish failed: ${(error as Error).message}`,
      });
      return;
    }
    this.published += messages;
    const c = this.counters;
    c.messagesOut += messages;
    c.bytesOut += out.length;
    c.batchesOut++;
    this.bytesPublished += out.length;
  }

  /**
   * The subject channel (subject-link.ts) shares this flow control: its batches count
   * towards what NATS has not confirmed, and it drops while the stream channel drops.
   */
  get dropping(): boolean {
    return this.droppingNow;
  }

  /** Bytes another channel handed to the NATS client (see `dropping`). */
  countPublished(bytes: number): void {
    this.bytesPublished += bytes;
    this.checkFlow();
  }

  /** A batch this node drops itself: counted, its count not advanced, reported per episode. */
  drop(cause: DropCause, messages: number, batches: number): void {
    this.counters.lost[cause] += messages;
    const episode = this.episodes.get(cause);
    if (episode) {
      episode.messages += messages;
      episode.batches += batches;
    } else {
      this.episodes.set(cause, { messages, batches });
    }
  }

  /**
   * Bounds what NATS has not confirmed (bytes the client or the kernel still hold): a PING
   * every 256 KiB, and past 4 MiB unconfirmed the backplane holds local publishers like a
   * slow subscriber would: without limit under `block`, for --stall-timeout under `stall`
   * (then it drops), not at all under `disconnect` and `drop` (it drops at once).
   */
  private checkFlow(): void {
    const unconfirmed = this.bytesPublished - this.bytesConfirmed;
    if (!this.flushing && unconfirmed >= FLUSH_EVERY_BYTES) this.requestFlush();
    if (unconfirmed <= HIGH_WATER_BYTES || this.holdingNow || this.droppingNow) return;
    const policy = this.options.policy;
    if (policy === "disconnect" || policy === "drop") {
      this.droppingNow = true;
      return;
    }
    this.setHolding(true);
    if (policy === "stall") {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.setHolding(false);
        this.droppingNow = true;
      }, this.options.stallTimeoutMs);
    }
  }

  private requestFlush(): void {
    const nc = this.link.nc;
    if (!nc) return;
    const mark = this.bytesPublished;
    const epoch = this.epoch;
    this.flushing = true;
    nc.flush().then(
      () => {
        if (epoch !== this.epoch) return;
        this.flushing = false;
        this.bytesConfirmed = Math.max(this.bytesConfirmed, mark);
        this.afterConfirm();
      },
      () => {
        if (epoch === this.epoch) this.flushing = false;
      },
    );
  }

  private afterConfirm(): void {
    const unconfirmed = this.bytesPublished - this.bytesConfirmed;
    if (unconfirmed <= LOW_WATER_BYTES) {
      this.setHolding(false);
      if (this.droppingNow) {
        this.droppingNow = false;
        this.endEpisode("slow_nats");
      }
    }
    const behind = this.holdingNow || this.droppingNow;
    if (unconfirmed >= FLUSH_EVERY_BYTES || (behind && unconfirmed > 0)) this.requestFlush();
  }

  private setHolding(hold: boolean): void {
    if (hold === this.holdingNow) return;
    this.holdingNow = hold;
    this.hub.sinkHolding = hold;
    if (hold) {
      this.holdStart = performance.now();
      this.counters.holds++;
    } else {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      this.counters.heldMs += performance.now() - this.holdStart;
    }
    this.events.holdChanged();
  }
}
