/**
 * The NATS backplane (issue 15): relay nodes joined through a NATS subject, so that a message
 * published to any node reaches the subscribers of every node. It is one more source and sink
 * of the hub's batches, not a second hub:
 *
 * - Sink: while it is attached, the hub counts it as a reader of the frame format, so
 *   publishers encode every local message as a seed 003 Submit frame; each delivered frame
 *   batch of local messages is published as one NATS message (wire.ts: a 22-byte header,
 *   then the frames; split at frame boundaries past the server's max_payload). Nothing is
 *   held beyond the hub's delivery (end of the event-loop turn or 64 KiB).
 * - Source: a NATS message from another node is checked whole, then its frames go into the
 *   hub's batches the way a frame publisher's do (`submitToBatches`) and are delivered at
 *   once with the same policies and counters, never sent back out.
 *
 * Delivery across nodes is at most once. Nothing is re-sent; every loss is counted by cause
 * (events.ts, LostCause): a sender drops a batch while NATS is not connected without advancing
 * its count, and a receiver counts a jump in a sender's count as a gap. So for each pair of
 * nodes A -> B: received by B from A + B's gap for A + A's own drops = published by A.
 *
 * The connection is the official NATS client (nats.js v3). It reconnects by itself, forever,
 * with backoff; the first connection is retried here (so each failure can be reported). Our
 * connection uses `noEcho` and batches carrying our own node id are dropped besides.
 */
import { connect, type NatsConnection, type Status } from "@nats-io/transport-node";
import { BODY_OFFSET } from "../protocol/frame-codec.ts";
import type { Batch } from "../relay/batch.ts";
import { submitToBatches } from "../relay/frame-publisher.ts";
import { type Hub, WireFormat } from "../relay/hub.ts";
import type { SlowConsumerPolicy } from "../relay/options.ts";
import {
  type ClusterCounters,
  type ClusterEvent,
  type ClusterState,
  type ClusterStats,
  emptyClusterCounters,
  type LostCause,
} from "./events.ts";
import { parseNatsUrl, sharedSettings } from "./servers.ts";
import {
  checkFrames,
  forEachFrame,
  HEADER_BYTES,
  parseNodeId,
  readHeader,
  sourceKey,
  sourceText,
  splitFrames,
  writeHeader,
} from "./wire.ts";

/** Published bytes between two flush round trips (PING/PONG) that confirm NATS took them. */
const FLUSH_EVERY_BYTES = 256 * 1024;
/** Unconfirmed bytes past which the backplane holds local publishers (or drops, see below). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Unconfirmed bytes at or below which it lets them go again. */
const LOW_WATER_BYTES = 1024 * 1024;
/** The first connection: retry delays double from this up to the maximum, with jitter. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/** Reconnects (nats.js): delays double from this up to 2 s, plus up to 100 ms of jitter. */
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 2000;
/** A malformed batch is logged at most this often (all are counted). */
const MALFORMED_LOG_INTERVAL_MS = 10_000;
/** How long shutdown waits for NATS to take our last batches. */
const CLOSE_FLUSH_MS = 1000;

export interface BackplaneOptions {
  /** --cluster URLs (nats://[user:pass@|token@]host:port, tls://…). */
  servers: readonly string[];
  subject: string;
  /** 16 hex digits. */
  nodeId: string;
  /** The relay's slow-consumer policy: whether the backplane may hold publishers, how long. */
  policy: SlowConsumerPolicy;
  stallTimeoutMs: number;
  /** The largest Submit frame this node can produce, to warn when NATS max_payload is lower. */
  largestFrame: number;
}

/** What the backplane asks of the relay. */
export interface BackplaneEvents {
  emit(event: ClusterEvent): void;
  /** The backplane started (true) or stopped (false) holding local publishers. */
  holdChanged(): void;
}

export class Backplane {
  readonly counters: ClusterCounters = emptyClusterCounters();
  readonly nodeId: string;
  readonly subject: string;
  private stateNow: ClusterState = "connecting";
  private nc: NatsConnection | undefined;
  private readonly nodeIdBytes: Uint8Array;
  private readonly ownKey: string;
  private readonly displayServers: string[];
  private readonly connectOptions: Parameters<typeof connect>[0];
  /** Messages published to NATS so far: the `before` of the next batch. */
  private published = 0;
  /** Per other node (8-byte key): the `before` its next batch should carry. */
  private readonly expected = new Map<string, number>();
  private maxPayload = 1024 * 1024;
  private serverId: string | undefined;
  private disconnectedAt = 0;
  /** An -ERR or stale connection since the last connect: the disconnect had a known cause. */
  private errorSinceConnect: string | undefined;
  private reconnectAttempts = 0;
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
  private dropping = false;
  private readonly episodes = new Map<
    Exclude<LostCause, "gap">,
    { messages: number; batches: number }
  >();
  private closing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeRetry: (() => void) | undefined;
  private lastMalformedLogAt = Number.NEGATIVE_INFINITY;
  /** Reading from NATS is paused because local subscribers hold this node's publishers. */
  private inputHeld = false;

  /** @throws Error when a --cluster URL or the node id is bad (checked by the CLI first). */
  constructor(
    private readonly hub: Hub,
    private readonly options: BackplaneOptions,
    private readonly events: BackplaneEvents,
  ) {
    this.nodeId = options.nodeId.toLowerCase();
    this.subject = options.subject;
    this.nodeIdBytes = parseNodeId(this.nodeId);
    this.ownKey = sourceKey(this.nodeIdBytes);
    const servers = options.servers.map(parseNatsUrl);
    this.displayServers = servers.map((s) => s.display);
    const { tls, ...credentials } = sharedSettings(servers);
    this.connectOptions = {
      servers: servers.map((s) => s.hostport),
      name: `bun-relay ${this.nodeId}`,
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => this.reconnectDelay(),
      reconnectJitter: 100,
      pingInterval: 10_000,
      maxPingOut: 3,
      timeout: 5000,
      ...credentials,
      ...(tls ? { tls: {} } : {}),
    };
    hub.attachSink(this);
  }

  get state(): ClusterState {
    return this.stateNow;
  }

  /** True while the backplane holds local publishers (NATS is behind on our batches). */
  get holding(): boolean {
    return this.holdingNow;
  }

  /** Starts connecting; the relay serves locally meanwhile. */
  start(): void {
    this.events.emit({
      type: "cluster_starting",
      nodeId: this.nodeId,
      subject: this.subject,
      servers: this.displayServers,
    });
    void this.connectFirst();
  }

  stats(): ClusterStats {
    return {
      ...this.counters,
      lost: { ...this.counters.lost },
      state: this.stateNow,
      nodeId: this.nodeId,
      sources: this.expected.size,
    };
  }

  /**
   * Shutdown: publishes nothing more, gives NATS up to a second to take what was published,
   * closes the connection.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    this.setHolding(false);
    for (const cause of [...this.episodes.keys()]) this.endEpisode(cause);
    const nc = this.nc;
    this.stateNow = "closed";
    if (nc && !nc.isClosed()) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_FLUSH_MS);
      });
      await Promise.race([nc.flush().catch(() => {}), timeout]);
      clearTimeout(timer);
      await nc.close().catch(() => {});
    }
    this.events.emit({ type: "cluster_closed" });
  }

  // ---- Sink: local batches out to NATS ----

  /** BatchSink: publishes a delivered frame batch of local messages (copied here). */
  send(batch: Batch, messages: number): void {
    if (this.stateNow !== "connected" || this.nc === undefined) {
      this.drop("not_connected", messages, 1);
      return;
    }
    if (this.dropping) {
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
    if (out.length <= this.maxPayload) {
      this.publish(out, messages);
    } else {
      for (const piece of splitFrames(out, HEADER_BYTES, length, this.maxPayload)) {
        if (!piece.fits) {
          this.drop("too_large", 1, 1);
          this.endEpisode("too_large");
          continue;
        }
        const part = new Uint8Array(HEADER_BYTES + piece.end - piece.start);
        part.set(out.subarray(piece.start, piece.end), HEADER_BYTES);
        this.publish(part, piece.frames);
      }
    }
    this.checkFlow();
  }

  private publish(out: Uint8Array, messages: number): void {
    writeHeader(out, this.nodeIdBytes, this.published, messages);
    try {
      (this.nc as NatsConnection).publish(this.subject, out);
    } catch (error) {
      // Closed or draining under us: the batch never left.
      this.drop("not_connected", messages, 1);
      this.warn(`publish failed: ${(error as Error).message}`);
      return;
    }
    this.published += messages;
    const c = this.counters;
    c.messagesOut += messages;
    c.bytesOut += out.length;
    c.batchesOut++;
    this.bytesPublished += out.length;
  }

  /** A batch this node drops itself: counted, its count not advanced, reported per episode. */
  private drop(cause: Exclude<LostCause, "gap">, messages: number, batches: number): void {
    this.counters.lost[cause] += messages;
    const episode = this.episodes.get(cause);
    if (episode) {
      episode.messages += messages;
      episode.batches += batches;
    } else {
      this.episodes.set(cause, { messages, batches });
    }
  }

  private endEpisode(cause: Exclude<LostCause, "gap">): void {
    const episode = this.episodes.get(cause);
    if (!episode) return;
    this.episodes.delete(cause);
    this.events.emit({ type: "cluster_dropped", cause, ...episode });
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
    if (unconfirmed <= HIGH_WATER_BYTES || this.holdingNow || this.dropping) return;
    const policy = this.options.policy;
    if (policy === "disconnect" || policy === "drop") {
      this.dropping = true;
      return;
    }
    this.setHolding(true);
    if (policy === "stall") {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.setHolding(false);
        this.dropping = true;
      }, this.options.stallTimeoutMs);
    }
  }

  private requestFlush(): void {
    const nc = this.nc;
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
      if (this.dropping) {
        this.dropping = false;
        this.endEpisode("slow_nats");
      }
    }
    const behind = this.holdingNow || this.dropping;
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

  /** The connection is gone: nothing of it is pending any more, publishers go free. */
  private resetFlow(): void {
    this.epoch++;
    this.flushing = false;
    this.bytesConfirmed = this.bytesPublished;
    this.setHolding(false);
    if (this.dropping) {
      this.dropping = false;
      this.endEpisode("slow_nats");
    }
  }

  /**
   * Cross-node backpressure: while a local subscriber holds this node's publishers (policies
   * `stall` and `block`), stop reading from NATS too, so that TCP pushes back on the server,
   * which stalls the other nodes' connections, whose backplanes then hold their publishers.
   * nats-server cuts a connection that does not read for its write_deadline (2.9: 10 s) or
   * past max_pending (64 MiB): a hold longer than that costs a counted slow consumer cut.
   *
   * nats.js has no API for this: it pauses the client's node:net socket (read-only use of
   * an internal field; if a later client version moves it, input is simply never paused).
   */
  holdInput(hold: boolean): void {
    if (hold === this.inputHeld) return;
    this.inputHeld = hold;
    this.applyInputHold();
  }

  private applyInputHold(): void {
    const transport = (
      this.nc as unknown as
        | { protocol?: { transport?: { socket?: { pause?(): void; resume?(): void } } } }
        | undefined
    )?.protocol?.transport;
    const socket = transport?.socket;
    if (this.inputHeld) socket?.pause?.();
    else socket?.resume?.();
  }

  // ---- Source: other nodes' batches in ----

  private readonly onMessage = (error: Error | null, msg: { data: Uint8Array }): void => {
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

  /** One NATS message from the subject: checked whole, then delivered like local messages. */
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

    const hub = this.hub;
    hub.flushLocal();
    const frames =
      hub.localReaders(WireFormat.Frame) > 0 ? hub.batches[WireFormat.Frame] : undefined;
    const lines = hub.localReaders(WireFormat.Line) > 0 ? hub.batches[WireFormat.Line] : undefined;
    if (frames || lines) {
      // Each message's bytes are its own (the client never reuses them): kept by reference.
      forEachFrame(data, (start, end) => {
        submitToBatches(hub, frames, lines, data, start, end, start + BODY_OFFSET, true);
      });
    }
    hub.publishRemote(header.count);
  }

  private malformed(why: string, bytes: number): void {
    this.counters.malformed++;
    const now = performance.now();
    if (now - this.lastMalformedLogAt < MALFORMED_LOG_INTERVAL_MS) return;
    this.lastMalformedLogAt = now;
    this.warn(
      `dropped a NATS message on ${this.subject} that is no version 1 batch (${why}, ${bytes} B; ${this.counters.malformed} so far): another program publishes there?`,
    );
  }

  // ---- The connection ----

  private async connectFirst(): Promise<void> {
    let attempt = 0;
    let lastReason = "";
    while (!this.closing) {
      let nc: NatsConnection;
      try {
        nc = await connect(this.connectOptions);
      } catch (error) {
        if (this.closing) return;
        attempt++;
        const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
        const retryMs = Math.round(base * (0.8 + 0.4 * Math.random()));
        const reason = (error as Error).message;
        if (attempt === 1 || reason !== lastReason) {
          this.events.emit({
            type: "cluster_unreachable",
            servers: this.displayServers,
            reason,
            attempt,
            retryMs,
          });
        }
        lastReason = reason;
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, retryMs);
        });
        this.wakeRetry = undefined;
        continue;
      }
      if (this.closing) {
        await nc.close().catch(() => {});
        return;
      }
      this.nc = nc;
      nc.subscribe(this.subject, { callback: this.onMessage });
      void this.watch(nc);
      // Connected means subscribed: the server has our SUB once it answers this PING.
      await nc.flush().catch(() => {});
      if (this.closing) return;
      this.connected(false);
      return;
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) this.onStatus(status);
  }

  private onStatus(status: Status): void {
    switch (status.type) {
      case "disconnect":
        this.disconnected(status.server);
        break;
      case "reconnecting":
        this.reconnectAttempts++;
        break;
      case "reconnect":
        this.connected(true);
        break;
      case "error":
        this.errorSinceConnect = status.error.message;
        if (!this.closing) this.warn(`NATS server error: ${status.error.message}`);
        break;
      case "staleConnection":
        this.errorSinceConnect = "stale connection (no PONG to our PINGs)";
        this.warn(`NATS connection is stale (no answer to PING): reconnecting`);
        break;
      case "ldm":
        this.warn(
          `NATS server ${status.server} entered lame duck mode: it will close our connection soon`,
        );
        break;
      case "close":
        if (!this.closing) {
          this.stateNow = "closed";
          this.warn("the NATS client closed the connection for good: no more cross-node delivery");
        }
        break;
      default:
        break;
    }
  }

  private connected(reconnect: boolean): void {
    const nc = this.nc as NatsConnection;
    const info = nc.info;
    const serverId = info?.server_id;
    if (reconnect) {
      this.counters.reconnects++;
      if (
        serverId !== undefined &&
        serverId === this.serverId &&
        this.errorSinceConnect === undefined
      ) {
        // nats-server closes a slow consumer's connection without a word; the same server
        // (same id: it did not restart) taking us back right away is its mark.
        this.counters.slowConsumerCuts++;
        this.warn(
          `NATS server ${nc.getServer()} closed our connection without an error and is still up: a slow consumer cut (this node read too slowly); messages lost meanwhile are counted as gaps`,
        );
      }
    }
    this.serverId = serverId;
    this.errorSinceConnect = undefined;
    this.reconnectAttempts = 0;
    this.maxPayload = info?.max_payload ?? this.maxPayload;
    this.stateNow = "connected";
    if (this.inputHeld) this.applyInputHold(); // a new connection reads from the start
    this.endEpisode("not_connected");
    this.events.emit({
      type: "cluster_connected",
      server: nc.getServer(),
      maxPayload: this.maxPayload,
      reconnect,
      ...(reconnect ? { downMs: Math.round(performance.now() - this.disconnectedAt) } : {}),
    });
    const needed = this.options.largestFrame + HEADER_BYTES;
    if (!reconnect && this.maxPayload < needed) {
      const largest = this.maxPayload - HEADER_BYTES - BODY_OFFSET;
      this.warn(
        `NATS max_payload is ${this.maxPayload} B: a message longer than ${largest} B cannot cross the backplane (dropped by the sender, counted as too_large; --max-line/--max-frame allow more here)`,
      );
    }
  }

  private disconnected(server: string): void {
    if (this.closing) return;
    this.stateNow = "disconnected";
    this.counters.disconnects++;
    this.disconnectedAt = performance.now();
    this.resetFlow();
    this.events.emit({
      type: "cluster_disconnected",
      server,
      reason: this.errorSinceConnect ?? "connection closed",
    });
  }

  /** nats.js asks before each reconnect attempt: 100 ms doubling to 2 s (it adds jitter). */
  private reconnectDelay(): number {
    return Math.min(
      RECONNECT_MAX_MS,
      RECONNECT_BASE_MS * 2 ** Math.max(0, this.reconnectAttempts - 1),
    );
  }

  private warn(message: string): void {
    this.events.emit({ type: "cluster_warning", message });
  }
}
