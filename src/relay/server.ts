/**
 * The relay: two listeners (src/net), publishers on one port and subscribers on the other,
 * joined by a Hub; its lifecycle (start, STATS, write timeouts, shutdown) and the decisions
 * that close connections. Opening the ports is in relay-ports.ts, what each port does per
 * connection in port-handlers.ts; line splitting, framing, queuing and fan-out live in their
 * own modules.
 */
import type { Socket } from "bun";
import { Backplane } from "../cluster/backplane.ts";
import { randomNodeId } from "../cluster/wire.ts";
import { CloseReason } from "../errors.ts";
import { NetAccess } from "../net/access.ts";
import { closeGracefully, LINGER_MS, LingerGroup } from "../net/graceful-close.ts";
import { BODY_OFFSET } from "../protocol/frame-codec.ts";
import { ConnectionRegistry } from "./connection-registry.ts";
import type { RelayEvent, RelayEventListener, StatsSnapshot } from "./events.ts";
import { TokenCheck } from "./frame-auth.ts";
import type { FramePublisherEvents } from "./frame-publisher.ts";
import { Hub } from "./hub.ts";
import type { NatsPort } from "./nats-port.ts";
import type { RelayOptions } from "./options.ts";
import type { PortHost } from "./port-handlers.ts";
import type { PublisherConnection } from "./publisher.ts";
import { PublisherSockets } from "./publisher-sockets.ts";
import { RelayPorts } from "./relay-ports.ts";
import { RelayStats } from "./relay-stats.ts";
import { routerOfStream } from "./stream-bridge.ts";
import type { RoutedSubscription, SubjectRouter } from "./subject-router.ts";
import { StatusTails, type TailMessage } from "./subject-tail.ts";
import type { Subscriber } from "./subscriber.ts";
import type { WsListener } from "./ws-port.ts";
import { closeRelaySocket, type RelaySocket } from "./ws-socket.ts";

export interface ShutdownReport {
  /** Bytes still queued for subscribers when --shutdown-timeout ran out. */
  unflushedBytes: number;
  totals: StatsSnapshot;
}

export class Relay {
  readonly hub: Hub;
  /** With --cluster: the NATS backplane joining this relay to the other nodes. */
  readonly backplane: Backplane | undefined;
  /** Sockets the relay closed that still drain their peer's input (src/net/graceful-close.ts). */
  readonly lingerGroup = new LingerGroup();
  /** Every open connection of every port, under its cid (for /connz, /varz, the status page). */
  readonly connections = new ConnectionRegistry();
  private readonly publishers = new PublisherSockets((socket) =>
    closeGracefully(socket, this.lingerGroup),
  );
  /** The open ports; a listener is undefined when its port is off. */
  private readonly ports: RelayPorts;
  /** With --nats-port or --ws-port: the NATS clients, their subject router and handlers. */
  readonly nats: NatsPort | undefined;
  /**
   * TLS, mutual TLS and --allow-from of both ports (src/net), with their counters; reload()
   * on it (SIGHUP) swaps certificates and allow-lists without closing connections.
   */
  readonly access: NetAccess;
  private readonly stats: RelayStats = new RelayStats(this);
  /** The NATS port's INFO server_id, or one of the same form without --nats-port (/varz). */
  readonly serverId: string;
  /** The status page's tails (--status-tail). */
  private readonly tails: StatusTails;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private writeTimer: ReturnType<typeof setInterval> | undefined;
  private shutdownPromise: Promise<ShutdownReport> | undefined;
  /** Resolves the shutdown's wait once every backlog is empty. */
  private onFlushed: (() => void) | undefined;
  /** --token, kept as its SHA-256; undefined when frame clients need none. */
  private readonly tokenCheck: TokenCheck | undefined;
  private readonly framePublisherEvents: FramePublisherEvents = {
    notLines: (publisher, messages) =>
      this.emit({ type: "not_lines", peer: publisher.peer, messages }),
  };

  /**
   * Starts listening on both ports. Throws a RelayError (RELAY_ERR_ADDRESS_IN_USE or
   * RELAY_ERR_LISTEN_FAILED) when either port cannot be opened; nothing is left listening then.
   * `access` (NetAccess.load) brings TLS and --allow-from; without it both ports are plaintext
   * and open to every address.
   */
  constructor(
    readonly config: RelayOptions,
    private readonly emit: RelayEventListener = () => {},
    access?: NetAccess,
  ) {
    this.access = access ?? NetAccess.open((event) => this.emit(event));
    this.tokenCheck = config.token === undefined ? undefined : new TokenCheck(config.token);
    this.hub = new Hub(
      {
        maxPending: config.maxPending,
        policy: config.slowConsumer,
        stallTimeoutMs: config.stallTimeout * 1000,
      },
      {
        slowConsumer: (subscriber, wanted) => this.closeSlowConsumer(subscriber, wanted),
        dropEpisode: (subscriber, messages, bytes) =>
          this.emit({
            type: "drop_episode",
            peer: subscriber.peer,
            messages,
            bytes,
            totalMessages: subscriber.droppedMessages,
          }),
        pressure: () => this.holdPublishers(),
        stallExpired: (subscriber, heldMs) =>
          this.emit({
            type: "stall_expired",
            peer: subscriber.peer,
            heldMs: Math.round(heldMs),
            pendingBytes: subscriber.backlog.length,
          }),
      },
    );
    this.ports = new RelayPorts(config, this.access, this.lingerGroup, this.portHost());
    this.nats = this.ports.natsClients;
    this.tails = new StatusTails(
      // The tail is one more RoutedSubscription; the router never assumes NATS ones.
      this.nats?.router as unknown as SubjectRouter<RoutedSubscription> | undefined,
      () => routerOfStream<RoutedSubscription>(this.hub, this.config),
    );
    this.serverId =
      (this.nats?.info.server_id as string | undefined) ??
      `BUNRELAY${randomNodeId().toUpperCase()}`;
    this.ports.announce(this.emit);
    if (config.cluster.length > 0) {
      this.backplane = new Backplane(
        this.hub,
        {
          servers: config.cluster,
          subject: config.clusterSubject ?? this.ports.defaultClusterSubject(),
          nodeId: config.nodeId ?? randomNodeId(),
          policy: config.slowConsumer,
          stallTimeoutMs: config.stallTimeout * 1000,
          largestFrame: Math.max(config.maxFrame, BODY_OFFSET + config.maxLine),
          router: this.nats?.router,
        },
        { emit: (event) => this.emit(event), holdChanged: () => this.holdPublishers() },
      );
      this.backplane.start();
    }
    if (config.statsInterval > 0) {
      this.statsTimer = setInterval(
        () => this.emit({ type: "stats", stats: this.stats.interval() }),
        config.statsInterval * 1000,
      );
    }
    if (config.writeTimeout > 0) {
      // Sweep a few times per timeout: a stall is caught between 3/4 and 1 timeout late.
      const sweepMs = Math.min(1000, (config.writeTimeout * 1000) / 4);
      const sweeps = Math.ceil((config.writeTimeout * 1000) / sweepMs);
      this.writeTimer = setInterval(() => this.closeStalled(sweeps), sweepMs);
    }
  }

  /** The bound publisher port; 0 when it is off. */
  get pubPort(): number {
    return this.ports.pub?.port ?? 0;
  }

  /** The bound subscriber port; 0 when it is off. */
  get subPort(): number {
    return this.ports.sub?.port ?? 0;
  }

  /** The NATS port, or undefined without --nats-port. */
  get natsPort(): number | undefined {
    return this.ports.nats?.port;
  }

  get publisherCount(): number {
    return this.publishers.size;
  }

  /** Line and frame subscribers (a NATS client's output side is in the hub's list too). */
  get subscriberCount(): number {
    return this.hub.subscribers.length - this.natsClientCount;
  }

  /** With --ws-port: its listener (NATS over WebSocket), or undefined. */
  get wsListener(): WsListener | undefined {
    return this.ports.ws;
  }

  /** The WebSocket port, or undefined without --ws-port. */
  get wsPort(): number | undefined {
    return this.ports.ws?.port;
  }

  /** Clients of the WebSocket port (also counted in natsClientCount). */
  get natsWsClientCount(): number {
    return this.nats?.wsClientCount ?? 0;
  }

  /** Upgrades the WebSocket port accepted (also counted in natsClientsAccepted). */
  get wsClientsAccepted(): number {
    return this.nats?.wsAccepted ?? 0;
  }

  /** Clients of the NATS and WebSocket ports. */
  get natsClientCount(): number {
    return this.nats?.connections.size ?? 0;
  }

  /** Subscriptions of every NATS client (the status page's tails not counted). */
  get natsSubscriptionCount(): number {
    return (this.nats?.router.subscriptions ?? 0) - (this.nats === undefined ? 0 : this.tails.open);
  }

  /** The NATS port asks clients for credentials (/varz auth_required). */
  get authRequired(): boolean {
    return this.nats?.auth.required ?? false;
  }

  /** The relay's ports speak TLS (/varz tls_required). */
  get tlsRequired(): boolean {
    return this.access.tls !== undefined;
  }

  /**
   * Tails `subject` (a subject or wildcard) for the status page (--status-tail): `send` gets
   * at most `perSecond` of its messages a second until the returned tail is closed. Without
   * --nats-port, the first tail sets up a subject router and the stream bridge, so the
   * line/frame stream is tailed as --subject, as NATS clients would see it.
   */
  tail(
    subject: string,
    perSecond: number,
    send: (message: TailMessage) => void,
  ): { close(): void } {
    return this.tails.tail(subject, perSecond, send);
  }

  /** True from the first call to shutdown() on: /healthz answers 503 from then. */
  get shuttingDown(): boolean {
    return this.shutdownPromise !== undefined;
  }

  /** Totals since start. */
  totals(): StatsSnapshot {
    return this.stats.totals();
  }

  /**
   * Stops accepting, closes publishers (their unfinished lines are dropped; frame publishers
   * get their acks first), waits up to `timeoutSeconds` for every subscriber backlog to reach
   * the kernel, then closes subscribers gracefully and resolves once every socket it closed is
   * released: its peer read what the kernel held and closed, or the linger bound (what is left
   * of `timeoutSeconds`, at least LINGER_MS; none for 0) passed. Safe to call more than once: later calls
   * get the same result.
   */
  shutdown(timeoutSeconds = this.config.shutdownTimeout): Promise<ShutdownReport> {
    this.shutdownPromise ??= this.runShutdown(timeoutSeconds);
    return this.shutdownPromise;
  }

  private async runShutdown(timeoutSeconds: number): Promise<ShutdownReport> {
    const deadline = performance.now() + timeoutSeconds * 1000;
    clearInterval(this.statsTimer);
    clearInterval(this.writeTimer);
    this.hub.stop();
    this.ports.stopAccepting();
    this.nats?.stopReading(); // NATS clients: their output is flushed and closed below
    this.hub.deliver(); // what publishers sent this turn goes out before they are closed
    // The backplane takes in nothing more; NATS gets a moment for our last batches.
    const backplaneClosed = this.backplane?.close();
    this.publishers.closeAll(CloseReason.Shutdown);
    this.emit({ type: "shutdown_started", pendingBytes: this.hub.pendingBytes, timeoutSeconds });

    if (this.hub.pendingBytes > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutSeconds * 1000);
        this.onFlushed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onFlushed = undefined;
    }

    await backplaneClosed;
    const unflushedBytes = this.hub.pendingBytes;
    // What the kernel holds is the peers' to read: each socket lingers until its peer closes.
    // `--shutdown-timeout 0` asks for no wait at all: released at once (a talking peer may
    // then see a reset).
    const lingerMs = timeoutSeconds === 0 ? 0 : Math.max(LINGER_MS, deadline - performance.now());
    for (const subscriber of [...this.hub.subscribers]) {
      subscriber.closeReason = CloseReason.Shutdown;
      if (subscriber.backlog.length > 0) subscriber.closeDetail = "shutdown timeout ran out";
      this.hub.remove(subscriber);
      closeRelaySocket(subscriber.socket, this.lingerGroup, lingerMs);
    }
    await this.lingerGroup.settled(lingerMs + 100);
    const report = { unflushedBytes, totals: this.totals() };
    this.emit({ type: "shutdown_finished", ...report });
    return report;
  }

  /** What the port handlers (port-handlers.ts) need of this relay, in one object. */
  private portHost(): PortHost {
    const relay = this;
    return {
      hub: this.hub,
      config: this.config,
      access: this.access,
      publishers: this.publishers,
      connections: this.connections,
      tokenCheck: this.tokenCheck,
      framePublisherEvents: this.framePublisherEvents,
      get shuttingDown() {
        return relay.shutdownPromise !== undefined;
      },
      emit: this.emit,
      refuseOverLimit: (connection, socket, farewell) =>
        this.refuseOverLimit(connection, socket, farewell),
      cutSubscriber: (subscriber, reason, detail) => this.cutSubscriber(subscriber, reason, detail),
      publisherClosed: (socket, error) => this.onPublisherClose(socket, error),
      closeGracefully: (socket) => closeRelaySocket(socket, this.lingerGroup),
      backlogShrank: () => {
        if (this.hub.pendingBytes === 0) this.onFlushed?.();
      },
    };
  }

  /** Over --max-conns: closes the just-accepted connection; its close handler reports it. */
  private refuseOverLimit(
    connection: PublisherConnection | Subscriber,
    socket: RelaySocket,
    farewell?: Uint8Array,
  ): boolean {
    const max = this.config.maxConns;
    // A NATS client is in the hub's subscriber list (its output side) but not a publisher here.
    if (max <= 0 || this.publishers.size + this.hub.subscribers.length < max) return false;
    this.hub.counters.refusedConnections++;
    connection.closeReason = CloseReason.MaxConns;
    connection.closeDetail = `--max-conns ${max} reached`;
    if (farewell !== undefined) socket.write(farewell, 0, farewell.length);
    closeRelaySocket(socket, this.lingerGroup);
    return true;
  }

  private onPublisherClose(socket: Socket<PublisherConnection>, error: Error | undefined): void {
    const publisher = socket.data;
    this.publishers.remove(socket);
    this.connections.remove(publisher.cid);
    const { reason, droppedBytes } = publisher.closed(error !== undefined, this.hub);
    this.emit({
      type: "close",
      side: "publisher",
      peer: publisher.peer,
      reason,
      ...(publisher.closeDetail ? { detail: publisher.closeDetail } : {}),
      droppedBytes,
    });
  }

  private closeSlowConsumer(subscriber: Subscriber, wanted: number): void {
    const held = subscriber.stallExpired
      ? `held publishers past --stall-timeout ${this.config.stallTimeout}s, then `
      : "";
    const detail = `${held}backlog would reach ${wanted} B, over --max-pending ${this.config.maxPending} B`;
    this.cutSubscriber(subscriber, CloseReason.SlowConsumer, detail);
  }

  private closeStalled(maxStalledSweeps: number): void {
    for (const subscriber of this.hub.stalledSubscribers(maxStalledSweeps)) {
      this.hub.counters.writeTimeouts++;
      const detail = `took no bytes for ${this.config.writeTimeout}s with ${subscriber.backlog.length} B waiting`;
      this.cutSubscriber(subscriber, CloseReason.WriteTimeout, detail);
    }
  }

  /** Closes a subscriber the relay gave up on; its backlog is dropped and reported. */
  private cutSubscriber(subscriber: Subscriber, reason: CloseReason, detail: string): void {
    subscriber.closeReason = reason;
    subscriber.closeDetail = detail;
    this.hub.remove(subscriber);
    // A graceful close, never a reset: the kernel still delivers what it already holds, so
    // what the subscriber loses is exactly the backlog, `dropped=`. (A reset, which a plain
    // close becomes when the subscriber sends anything, would also throw away the kernel's
    // send buffer, megabytes on loopback, unlogged.)
    closeRelaySocket(subscriber.socket, this.lingerGroup);
  }

  /**
   * Policies `block` and `stall`, or the backplane behind on our batches: stop (or restart)
   * reading every publisher, so TCP pushes back on them. They are held and released as a
   * group, so none is starved while others run.
   */
  private holdPublishers(): void {
    // Local subscribers behind: other nodes' messages wait in NATS too (Backplane.holdInput).
    this.backplane?.holdInput(this.hub.pacing.holding);
    const hold = this.hub.holdingPublishers;
    // While shutting down, publishers are being closed: nothing to pause or resume.
    if (!this.publishers.hold(hold, this.shutdownPromise === undefined)) return;
    if (this.shutdownPromise === undefined) this.nats?.hold(hold);
    this.emit({ type: "publishers_held", held: hold, pendingBytes: this.hub.pendingBytes });
  }
}

export type { RelayEvent };
