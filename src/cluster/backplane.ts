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
 *
 * This file owns the connection: its state, first connection and reconnect bookkeeping (down
 * time, slow consumer cuts), and pausing input for cross-node backpressure; the client's
 * options and the retry delays are in servers.ts. The sink side is
 * outbound.ts, the source side inbound.ts: one concept per file.
 */
import {
  connect,
  type NatsConnection,
  type NodeConnectionOptions,
  type Status,
} from "@nats-io/transport-node";
import { BODY_OFFSET } from "../protocol/frame-codec.ts";
import type { Batch } from "../relay/batch.ts";
import type { Hub } from "../relay/hub.ts";
import type { SlowConsumerPolicy } from "../relay/options.ts";
import type { SubjectRouter } from "../relay/subject-router.ts";
import {
  type ClusterCounters,
  type ClusterEvent,
  type ClusterState,
  type ClusterStats,
  emptyClusterCounters,
} from "./events.ts";
import { Inbound } from "./inbound.ts";
import { Outbound, type OutboundLink } from "./outbound.ts";
import { clusterConnectOptions, firstRetryDelay, parseNatsUrl, reconnectDelay } from "./servers.ts";
import { SubjectLink } from "./subject-link.ts";
import { HEADER_BYTES, parseNodeId, sourceKey } from "./wire.ts";

/** How long shutdown waits for NATS to take our last batches. */
const CLOSE_FLUSH_MS = 1000;

/** How a node joins the backplane (from the relay's options). */
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
  /** With --nats-port: the router whose subjects the nodes share (subject-link.ts). */
  router?: SubjectRouter | undefined;
}

/** What the backplane asks of the relay. */
export interface BackplaneEvents {
  emit(event: ClusterEvent): void;
  /** The backplane started (true) or stopped (false) holding local publishers. */
  holdChanged(): void;
}

/**
 * One node's membership of the backplane: a BatchSink of the hub (local batches out, see
 * Outbound) and a source of other nodes' batches (see Inbound), over one NATS connection.
 */
export class Backplane {
  readonly counters: ClusterCounters = emptyClusterCounters();
  readonly nodeId: string;
  readonly subject: string;
  /** The connection as the outbound side reads it: state, client, max_payload. */
  private readonly link: OutboundLink = {
    state: "connecting",
    nc: undefined,
    maxPayload: 1024 * 1024,
  };
  private readonly outbound: Outbound;
  private readonly inbound: Inbound;
  /** With --nats-port: NATS subjects across the nodes. */
  readonly subjects: SubjectLink | undefined;
  private readonly displayServers: string[];
  private readonly connectOptions: NodeConnectionOptions;
  private serverId: string | undefined;
  private disconnectedAt = 0;
  /** An -ERR or stale connection since the last connect: the disconnect had a known cause. */
  private errorSinceConnect: string | undefined;
  private reconnectAttempts = 0;
  private closing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeRetry: (() => void) | undefined;
  /** Reading from NATS is paused because local subscribers hold this node's publishers. */
  private inputHeld = false;

  /** @throws Error when a --cluster URL or the node id is bad (checked by the CLI first). */
  constructor(
    hub: Hub,
    private readonly options: BackplaneOptions,
    private readonly events: BackplaneEvents,
  ) {
    this.nodeId = options.nodeId.toLowerCase();
    this.subject = options.subject;
    const nodeIdBytes = parseNodeId(this.nodeId);
    const outboundOptions = { ...options, nodeIdBytes };
    this.outbound = new Outbound(hub, this.link, this.counters, outboundOptions, events);
    this.inbound = new Inbound(hub, this.counters, this.subject, sourceKey(nodeIdBytes), events);
    this.subjects =
      options.router === undefined
        ? undefined
        : new SubjectLink(
            options.router,
            this.link,
            this.counters,
            this.outbound,
            { subject: this.subject, nodeId: this.nodeId, nodeIdBytes },
            (event) => events.emit(event),
          );
    const servers = options.servers.map(parseNatsUrl);
    this.displayServers = servers.map((s) => s.display);
    this.connectOptions = clusterConnectOptions(servers, this.nodeId, () =>
      reconnectDelay(this.reconnectAttempts),
    );
    hub.attachSink(this);
  }

  /** The connection's state. */
  get state(): ClusterState {
    return this.link.state;
  }

  /** True while the backplane holds local publishers (NATS is behind on our batches). */
  get holding(): boolean {
    return this.outbound.holding;
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

  /** The counters, the state and how many other nodes were heard from. */
  stats(): ClusterStats {
    return {
      ...this.counters,
      lost: { ...this.counters.lost },
      state: this.link.state,
      nodeId: this.nodeId,
      // With the subject channel, the nodes alive now (they announce themselves every 2 s);
      // without it, every node whose batches arrived since start.
      sources: this.subjects?.remoteNodes ?? this.inbound.sources,
    };
  }

  /**
   * Shutdown: publishes nothing more, gives NATS up to a second to take what was published,
   * closes the connection.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.inbound.close();
    this.subjects?.close();
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    this.outbound.close();
    const nc = this.link.nc;
    this.link.state = "closed";
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

  /** BatchSink: publishes a delivered frame batch of local messages (copied here). */
  send(batch: Batch, messages: number): void {
    this.outbound.send(batch, messages);
  }

  /** One NATS message from the subject: checked whole, then delivered like local messages. */
  receive(data: Uint8Array): void {
    this.inbound.receive(data);
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
    this.subjects?.inputHeld(hold);
    this.applyInputHold();
  }

  private applyInputHold(): void {
    const transport = (
      this.link.nc as unknown as
        | { protocol?: { transport?: { socket?: { pause?(): void; resume?(): void } } } }
        | undefined
    )?.protocol?.transport;
    const socket = transport?.socket;
    if (this.inputHeld) socket?.pause?.();
    else socket?.resume?.();
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
        const retryMs = firstRetryDelay(attempt);
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
      this.link.nc = nc;
      nc.subscribe(this.subject, { callback: this.inbound.onMessage });
      void this.watch(nc);
      this.subjects?.start(nc);
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
          this.link.state = "closed";
          this.warn("the NATS client closed the connection for good: no more cross-node delivery");
        }
        break;
      default:
        break;
    }
  }

  private connected(reconnect: boolean): void {
    const nc = this.link.nc as NatsConnection;
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
    const previousMaxPayload = this.link.maxPayload;
    this.link.maxPayload = info?.max_payload ?? previousMaxPayload;
    this.link.state = "connected";
    if (this.inputHeld) this.applyInputHold(); // a new connection reads from the start
    this.outbound.endEpisode("not_connected");
    this.subjects?.connected();
    this.events.emit({
      type: "cluster_connected",
      server: nc.getServer(),
      maxPayload: this.link.maxPayload,
      reconnect,
      ...(reconnect ? { downMs: Math.round(performance.now() - this.disconnectedAt) } : {}),
    });
    this.reportMaxPayload(nc.getServer(), reconnect ? previousMaxPayload : undefined);
  }

  /**
   * Reports the server's max_payload (just taken from its INFO) when it matters: at the first
   * connection if it is below what this node can produce, and at every reconnect that finds
   * another limit (the server restarted with another config, or another server of the list
   * answered), so a new limit never applies silently. `previous`: the limit before this
   * reconnect; undefined at the first connection.
   */
  private reportMaxPayload(server: string, previous: number | undefined): void {
    const maxPayload = this.link.maxPayload;
    const limiting = maxPayload < this.options.largestFrame + HEADER_BYTES;
    if (previous === undefined ? !limiting : previous === maxPayload) return;
    this.events.emit({
      type: "cluster_max_payload",
      server,
      maxPayload,
      ...(previous === undefined ? {} : { previous }),
      largestMessage: maxPayload - HEADER_BYTES - BODY_OFFSET,
      limiting,
    });
  }

  private disconnected(server: string): void {
    if (this.closing) return;
    this.link.state = "disconnected";
    this.counters.disconnects++;
    this.disconnectedAt = performance.now();
    this.outbound.resetFlow();
    this.events.emit({
      type: "cluster_disconnected",
      server,
      reason: this.errorSinceConnect ?? "connection closed",
    });
  }

  private warn(message: string): void {
    this.events.emit({ type: "cluster_warning", message });
  }
}
