/**
 * The NATS port (`--nats-port`): the socket handlers of the relay's third listener, and what
 * it announces in INFO. Each client is a NatsConnection (nats-connection.ts): a publisher
 * whose reads are held with the others under the `stall` and `block` policies, and a
 * subscriber whose output is in the hub's list, so write timeouts, slow-consumer policies and
 * the shutdown flush treat it as they treat line subscribers.
 */
import type { Socket, SocketHandler } from "bun";
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
import { StreamBridge } from "./stream-bridge.ts";
import { SubjectRouter } from "./subject-router.ts";

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
  readonly sockets = new Set<Socket<NatsConnection>>();
  /** Publishers are held (pacing): new clients start paused too. */
  private held = false;

  /** NatsHost: every client's reads are held (pacing). */
  get holding(): boolean {
    return this.held;
  }

  constructor(private readonly host: NatsPortHost) {
    const { config } = host;
    // No backlog anywhere means no bytes of the router's shared buffer are kept by anyone.
    this.router = new SubjectRouter<NatsSubscription>(() => host.hub.pendingBytes === 0);
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
    host.hub.afterDeliver = () => this.router.flush();
    host.hub.bridge = new StreamBridge(
      host.hub,
      this.router,
      config.subject,
      config.subSubject ?? config.subject,
      config.maxPayload,
    );
  }

  get hub(): Hub {
    return this.host.hub;
  }

  get config(): RelayOptions {
    return this.host.config;
  }

  closeGracefully(socket: Socket<unknown>): void {
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
    for (const socket of this.sockets) {
      if (socket.data.closeReason !== undefined || socket.data.authPending) continue;
      if (hold) socket.pause();
      else socket.resume();
    }
  }

  /** Shutdown: reads nothing more from any client; their output is flushed and closed later. */
  stopReading(): void {
    for (const socket of this.sockets) socket.pause();
  }

  handlers(): SocketHandler<NatsConnection> {
    const port = this;
    const host = this.host;
    const hub = host.hub;
    const router = this.router;
    return {
      open(socket) {
        hub.counters.natsClientsAccepted++;
        const connection = new NatsConnection(
          socket,
          formatPeer(socket.remoteAddress, socket.remotePort),
          port,
        );
        socket.data = connection;
        // Over --max-conns: as nats-server (client.go maxConnExceeded), the -ERR, then the close.
        if (host.refuseOverLimit(connection, socket, NATS_ERR.maxConnections.wire)) return;
        connection.cid = host.connections.add("nats", undefined, socket, natsFigures(connection));
        port.sockets.add(socket);
        hub.add(connection.outbound);
        host.emit({ type: "open", side: "nats-client", peer: connection.peer });
        if (host.shuttingDown) {
          connection.closeReason = CloseReason.Shutdown;
          host.closeGracefully(socket);
          return;
        }
        if (port.held) socket.pause();
        // INFO's client_id is the connection's cid, as nats-server's: /connz?cid= finds it.
        connection.start(connection.cid);
      },
      data(socket, chunk) {
        socket.data.receive(chunk, hub);
        // What this read caused leaves now, or with the turn's other reads when it reached
        // many clients: one write per receiving client either way.
        router.flushRead();
      },
      drain(socket) {
        const connection = socket.data;
        hub.flush(connection.outbound);
        connection.drained();
        host.backlogShrank();
      },
      close(socket, error) {
        const connection = socket.data;
        port.sockets.delete(socket);
        host.connections.remove(connection.cid);
        hub.remove(connection.outbound);
        const { reason } = connection.closed(error !== undefined);
        const outbound = connection.outbound;
        const detail = connection.closeDetail ?? outbound.closeDetail;
        host.emit({
          type: "close",
          side: "nats-client",
          peer: connection.peer,
          reason: outbound.closeReason ?? reason,
          ...(detail ? { detail } : {}),
          droppedBytes: outbound.droppedBytes,
        });
        host.backlogShrank();
      },
      error() {
        // The close handler follows and reports the connection's end.
      },
    };
  }
}
