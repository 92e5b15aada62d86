/**
 * The NATS port (`--nats-port`): the socket handlers of the relay's third listener, and what
 * it announces in INFO. Each client is a NatsConnection (nats-connection.ts): a publisher
 * whose reads are held with the others under the `stall` and `block` policies, and a
 * subscriber whose output is in the hub's list, so write timeouts, slow-consumer policies and
 * the shutdown flush treat it as they treat line subscribers.
 */
import type { SocketHandler } from "bun";
import pkg from "../../package.json" with { type: "json" };
import { randomNodeId } from "../cluster/wire.ts";
import { CloseReason, formatPeer } from "../errors.ts";
import { NATS_ERR } from "../protocol/nats-errors.ts";
import { natsFigures } from "./connection-figures.ts";
import type { Hub } from "./hub.ts";
import { linePortSubjects, lineUserProblem } from "./line-user.ts";
import { NatsAuth } from "./nats-auth.ts";
import { NatsConnection, type NatsHost } from "./nats-connection.ts";
import type { NatsSubscription } from "./nats-subscription.ts";
import { loadUsersFile } from "./nats-users.ts";
import type { RelayOptions } from "./options.ts";
import type { PortHost } from "./port-handlers.ts";
import { routerOfStream } from "./stream-bridge.ts";
import type { SubjectRouter } from "./subject-router.ts";
import { type RelaySocket, WsSocket } from "./ws-socket.ts";

/** What the NATS port needs of the relay: the part of the line/frame ports' host it uses. */
export type NatsPortHost = Pick<
  PortHost,
  | "hub"
  | "config"
  | "access"
  | "emit"
  | "shuttingDown"
  | "refuseOverLimit"
  | "closeGracefully"
  | "backlogShrank"
  | "connections"
>;

/** The NATS side of one relay: the subject router, the credentials and the open clients. */
export class NatsPort implements NatsHost {
  readonly router: SubjectRouter<NatsSubscription>;
  readonly auth: NatsAuth;
  readonly info: Record<string, unknown>;
  /** Every client of the NATS and WebSocket ports. */
  readonly connections = new Set<NatsConnection>();
  private wsClients = 0;
  /** Clients accepted by the WebSocket port (upgraded), refused ones included. */
  wsAccepted = 0;
  /** Publishers are held (pacing): new clients start paused too. */
  private held = false;

  /** NatsHost: every client's reads are held (pacing). */
  get holding(): boolean {
    return this.held;
  }

  constructor(private readonly host: NatsPortHost) {
    const { config } = host;
    this.router = routerOfStream<NatsSubscription>(host.hub, config);
    this.auth = new NatsAuth({
      token: config.token,
      user: config.user,
      pass: config.pass,
      users:
        config.users ??
        (config.usersFile === undefined ? undefined : loadUsersFile(config.usersFile)),
    });
    // nats.js parses `version` as x.y.z; proto 1 is what nats-server 2.9 announces.
    this.info = {
      server_id: `BUNRELAY${randomNodeId().toUpperCase()}`,
      server_name: "bun-relay",
      version: pkg.version,
      proto: 1,
      go: `bun ${Bun.version}`,
      host: config.host,
      port: config.natsPort,
      headers: true,
      max_payload: config.maxPayload,
    };
  }

  get hub(): Hub {
    return this.host.hub;
  }

  get config(): RelayOptions {
    return this.host.config;
  }

  closeGracefully(socket: RelaySocket): void {
    this.host.closeGracefully(socket);
  }

  /**
   * INFO's TLS fields: with --tls-cert the port speaks TLS from its first byte (clients need
   * handshake-first: nats.js `tls.handshakeFirst`, nats.go `TLSHandshakeFirst()`), and with
   * --tls-client-ca it verifies their certificates.
   */
  get tlsInfo(): Record<string, boolean> {
    const tls = this.host.access.tls;
    if (tls === undefined) return {};
    return { tls_required: true, ...(tls.mutual ? { tls_verify: true } : {}) };
  }

  /**
   * SIGHUP: reads --users-file again. New CONNECTs use the new users at once; connections
   * already admitted keep the permissions they were admitted with (nothing is re-checked). A
   * file that cannot be used keeps the old users. Reported as a `reload` event (the file's
   * error line, never a password). A file in which --line-user is missing or lacks the rights
   * the line/frame ports use (line-user.ts) is not used either. Returns true when the new users are in force; false, and
   * no event, without --users-file.
   */
  reloadUsers(): boolean {
    const path = this.host.config.usersFile;
    if (path === undefined) return false;
    try {
      const users = loadUsersFile(path);
      const { lineUser } = this.host.config;
      const problem =
        lineUser === undefined
          ? undefined
          : lineUserProblem(users, lineUser, linePortSubjects(this.host.config));
      if (problem !== undefined) throw new Error(`--users-file ${path}: ${problem}`);
      this.auth.setUsers(users);
      this.host.emit({
        type: "reload",
        ok: true,
        detail: `--users-file ${path}: ${users.length} users`,
      });
      return true;
    } catch (error) {
      this.host.emit({ type: "reload", ok: false, detail: (error as Error).message });
      return false;
    }
  }

  /** The bound port, once known (INFO's `port`). */
  set boundPort(port: number) {
    this.info.port = port;
  }

  /** Holds (or releases) every client's input, with the line and frame publishers. */
  hold(hold: boolean): void {
    this.held = hold;
    for (const connection of this.connections) {
      if (connection.closeReason !== undefined || connection.handshake.pending) continue;
      if (hold) connection.socket.pause();
      else connection.socket.resume();
    }
  }

  /** Shutdown: reads nothing more from any client; their output is flushed and closed later. */
  stopReading(): void {
    for (const connection of this.connections) connection.socket.pause();
  }

  /** Clients of the WebSocket port among `connections`. */
  get wsClientCount(): number {
    return this.wsClients;
  }

  /**
   * A client is connected (a TCP client after its TLS handshake, a WebSocket client after its
   * upgrade): refused over --max-conns or during shutdown, else in the hub and sent INFO.
   */
  accept(connection: NatsConnection): void {
    const host = this.host;
    const ws = connection.socket instanceof WsSocket;
    // A WebSocket client is a NATS client (metrics side="nats-client"); wsAccepted tells them apart.
    host.hub.counters.natsClientsAccepted++;
    if (ws) this.wsAccepted++;
    // Over --max-conns: as nats-server (client.go maxConnExceeded), the -ERR, then the close.
    if (host.refuseOverLimit(connection, connection.socket, NATS_ERR.maxConnections.wire)) return;
    this.connections.add(connection);
    if (ws) this.wsClients++;
    connection.cid = host.connections.add(
      ws ? "ws" : "nats",
      undefined,
      connection.socket,
      natsFigures(connection),
    );
    host.hub.add(connection.outbound);
    host.emit({ type: "open", side: sideOf(connection), peer: connection.peer });
    if (host.shuttingDown) {
      connection.closeReason = CloseReason.Shutdown;
      host.closeGracefully(connection.socket);
      return;
    }
    if (this.held) connection.socket.pause();
    // INFO's client_id is the connection's cid, as nats-server's: /connz?cid= finds it.
    connection.start(connection.cid);
  }

  /** Bytes from a client (a TCP read, or one WebSocket message: any part of the protocol). */
  received(connection: NatsConnection, chunk: Uint8Array): void {
    connection.receive(chunk, this.host.hub);
    // What this read caused leaves now, or with the turn's other reads when it reached
    // many clients: one write per receiving client either way.
    this.router.flushRead();
  }

  /** The client's transport can take more: its backlog is written. */
  drained(connection: NatsConnection): void {
    this.host.hub.flush(connection.outbound);
    connection.drained();
    this.host.backlogShrank();
  }

  /** The client's transport closed (`reset`: not cleanly): forgotten, and reported. */
  closed(connection: NatsConnection, reset: boolean): void {
    const host = this.host;
    if (this.connections.delete(connection) && connection.socket instanceof WsSocket) {
      this.wsClients--;
    }
    host.connections.remove(connection.cid);
    host.hub.remove(connection.outbound);
    const { reason } = connection.closed(reset);
    const outbound = connection.outbound;
    const detail = connection.closeDetail ?? outbound.closeDetail;
    host.emit({
      type: "close",
      side: sideOf(connection),
      peer: connection.peer,
      reason: outbound.closeReason ?? reason,
      ...(detail ? { detail } : {}),
      droppedBytes: outbound.droppedBytes,
    });
    host.backlogShrank();
  }

  handlers(): SocketHandler<NatsConnection> {
    const port = this;
    return {
      open(socket) {
        const peer = formatPeer(socket.remoteAddress, socket.remotePort);
        socket.data = new NatsConnection(socket, peer, port);
        port.accept(socket.data);
      },
      data(socket, chunk) {
        port.received(socket.data, chunk);
      },
      drain(socket) {
        port.drained(socket.data);
      },
      close(socket, error) {
        port.closed(socket.data, error !== undefined);
      },
      error() {
        // The close handler follows and reports the connection's end.
      },
    };
  }
}

/** The side a connection's events name: the NATS port or the WebSocket port. */
function sideOf(connection: NatsConnection): "nats-client" | "ws-client" {
  return connection.socket instanceof WsSocket ? "ws-client" : "nats-client";
}
