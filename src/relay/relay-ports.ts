/**
 * The relay's listening ports: publisher, subscriber, NATS and WebSocket, each opened only
 * when configured, with what they share (--host, the access rules, SO_REUSEPORT, the linger
 * group) and the first-bytes check of the two line/frame ports. Kept apart from server.ts
 * because opening ports is all-or-nothing bookkeeping (a port that cannot be opened closes
 * the ones opened before it) that the relay's lifecycle never needs to see again.
 */
import type { SocketHandler } from "bun";
import { CloseReason } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import type { FirstBytesRefusal } from "../net/first-bytes.ts";
import type { LingerGroup } from "../net/graceful-close.ts";
import { type NetListener, openListener } from "../net/listener.ts";
import type { RelayEventListener } from "./events.ts";
import type { NatsConnection } from "./nats-connection.ts";
import { NatsPort } from "./nats-port.ts";
import type { Framing, RelayOptions } from "./options.ts";
import { type PortHost, publisherHandlers, subscriberHandlers } from "./port-handlers.ts";
import type { PublisherConnection } from "./publisher.ts";
import type { Subscriber } from "./subscriber.ts";
import { WsListener } from "./ws-port.ts";

/** The CLOSE reason of a connection the listener refused for its first bytes. */
const REFUSAL_CLOSE_REASONS: Readonly<Record<FirstBytesRefusal, CloseReason>> = {
  tls_client: CloseReason.TlsClient,
  frame_client: CloseReason.FrameClient,
  http_client: CloseReason.HttpClient,
  line_client: CloseReason.LineClient,
  first_bytes_timeout: CloseReason.FirstBytesTimeout,
};

/** The relay's open ports; a listener is undefined when its port is off or not configured. */
export class RelayPorts {
  readonly pub: NetListener<PublisherConnection> | undefined;
  readonly sub: NetListener<Subscriber> | undefined;
  /** With --nats-port or --ws-port: the NATS clients of both, their router and handlers. */
  readonly natsClients: NatsPort | undefined;
  readonly nats: NetListener<NatsConnection> | undefined;
  readonly ws: WsListener | undefined;

  /**
   * Opens every configured port. Throws a RelayError (RELAY_ERR_ADDRESS_IN_USE or
   * RELAY_ERR_LISTEN_FAILED) when one cannot be opened; nothing is left listening then.
   */
  constructor(
    private readonly config: RelayOptions,
    private readonly access: NetAccess,
    private readonly lingerGroup: LingerGroup,
    host: PortHost,
  ) {
    // Each port may be off; a port that cannot be opened closes the ones opened before it.
    const opened: { stop(closeActive: boolean): void }[] = [];
    try {
      if (config.pubPort !== undefined) {
        const handlers = publisherHandlers(host);
        this.pub = this.openPort("publisher", config.pubPort, config.pubFraming, handlers);
        opened.push(this.pub);
      }
      if (config.subPort !== undefined) {
        const handlers = subscriberHandlers(host);
        this.sub = this.openPort("subscriber", config.subPort, config.subFraming, handlers);
        opened.push(this.sub);
      }
      if (config.natsPort !== undefined || config.wsPort !== undefined) {
        this.natsClients = new NatsPort(host);
      }
      if (config.natsPort !== undefined) {
        const natsClients = this.natsClients as NatsPort;
        this.nats = openListener<NatsConnection>({
          what: "nats",
          host: config.host,
          port: config.natsPort,
          access,
          reusePort: config.reusePort,
          // No first-bytes check: the server speaks first (INFO), and a NATS client answers.
          lingerGroup,
          socket: { ...natsClients.handlers(), binaryType: "uint8array" },
        });
        natsClients.boundPort = this.nats.port;
        opened.push(this.nats);
      }
      if (config.wsPort !== undefined) {
        this.ws = new WsListener(this.natsClients as NatsPort, config, access);
      }
    } catch (error) {
      for (const listener of opened) listener.stop(true);
      throw error;
    }
  }

  /** Emits one `listening` event per open port, in the order publisher, subscriber, NATS, WS. */
  announce(emit: RelayEventListener): void {
    for (const [side, listener] of [
      ["publisher", this.pub],
      ["subscriber", this.sub],
      ["nats-client", this.nats],
      ["ws-client", this.ws],
    ] as const) {
      if (listener !== undefined) {
        emit({ type: "listening", side, host: this.config.host, port: listener.port });
      }
    }
  }

  /** Stops accepting on every port; open connections stay (the shutdown closes them). */
  stopAccepting(): void {
    this.pub?.stop(false);
    this.sub?.stop(false);
    this.nats?.stop(false);
    this.ws?.stop(false);
  }

  /**
   * --cluster-subject's default: `bun-relay.PUB_PORT.SUB_PORT` (the bound ports, `off` for a
   * port that is off), or `bun-relay.nats.NATS_PORT` when both line ports are off, so nodes
   * that serve only NATS clients on the same port join without it (docs/cluster.md).
   */
  defaultClusterSubject(): string {
    if (this.pub === undefined && this.sub === undefined && this.nats) {
      return `bun-relay.nats.${this.nats.port}`;
    }
    return `bun-relay.${this.pub?.port || "off"}.${this.sub?.port || "off"}`;
  }

  /**
   * Opens one of the relay's two line/frame ports with what both share: --host, the access
   * rules, SO_REUSEPORT, closing (on a plaintext port) clients whose first bytes speak another
   * protocol than `framing` (src/net/first-bytes.ts), and recording why a socket was refused
   * so its close handler reports it. `handlers`: the side's own handlers.
   */
  private openPort<T extends PublisherConnection | Subscriber>(
    what: "publisher" | "subscriber",
    port: number,
    framing: Framing,
    handlers: SocketHandler<T>,
  ): NetListener<T> {
    return openListener<T>({
      what,
      host: this.config.host,
      port,
      access: this.access,
      reusePort: this.config.reusePort,
      lingerGroup: this.lingerGroup,
      expects: { framing, maxFrame: this.config.maxFrame },
      refused: (connection, reason, detail) => markRefused(connection.data, reason, detail),
      socket: { ...handlers, binaryType: "uint8array" },
    });
  }
}

/** A client speaking the wrong protocol: the listener closes it, its CLOSE line says why. */
function markRefused(
  connection: PublisherConnection | Subscriber,
  reason: FirstBytesRefusal,
  detail: string,
): void {
  connection.closeReason = REFUSAL_CLOSE_REASONS[reason];
  connection.closeDetail = detail;
}
