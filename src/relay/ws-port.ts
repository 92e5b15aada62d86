/**
 * The WebSocket port (`--ws-port`): NATS over WebSocket, as nats-server 2.9's websocket
 * listener serves it (server/websocket.go): the NATS client protocol carried in WebSocket
 * frames on any path, a frame holding any part of the byte stream (part of an operation, or
 * several), so nats.js `wsconnect` works from a browser, Node, Deno and Bun.
 *
 * Each client is a NatsConnection over a WsSocket (ws-socket.ts) and joins the same NatsPort
 * as the TCP clients: same subjects, router, credentials, permissions, limits, slow-consumer
 * policy, pacing and shutdown. Only the upgrade is this file's own:
 * - --allow-from: a peer outside every range is answered 403 before anything else, counted and
 *   logged as the TCP ports' refusals (listener `ws`, reason allow_from);
 * - origins (ws-origin.ts): 403 as nats-server, counted with reason `origin`;
 * - anything that is not a valid WebSocket upgrade: 400;
 * - --handshake-timeout: Bun.serve's idleTimeout, which bounds an HTTP connection once it has
 *   sent a request (a refused client that keeps the connection open). Before the first request
 *   Bun 1.4.5 gives no hook: uWebSockets' own HTTP timeout closes a connection that sends no
 *   complete request (or TLS handshake) after about 10-12 s, whatever the flag says (measured);
 * - TLS (wss) with the common listener flags; a reload (SIGHUP) opens a successor on the same
 *   port with the new certificate (SO_REUSEPORT) and stops the old one from accepting, as
 *   NetListener does for the TCP ports.
 */
import type { Server, ServerWebSocket } from "bun";
import { formatPeer, listenError } from "../errors.ts";
import type { NetAccess, ReloadableListener } from "../net/access.ts";
import { claimPort } from "../net/listener.ts";
import { AccessRefusal } from "../net/net-events.ts";
import type { LoadedTls } from "../net/tls-config.ts";
import { NatsConnection } from "./nats-connection.ts";
import type { NatsPort } from "./nats-port.ts";
import type { RelayOptions } from "./options.ts";
import { checkOrigin, type OriginPolicy, originPolicy } from "./ws-origin.ts";
import { type WsData, type WsSendCounters, WsSocket } from "./ws-socket.ts";

/** The name of this listener in logs and the access metrics' `listener` label. */
export const WS_LISTENER = "ws";

/** Bun's default largest incoming message; a frame may hold many operations. */
const MIN_MESSAGE_BYTES = 16 * 1024 * 1024;

const encoder = new TextEncoder();

export class WsListener implements ReloadableListener {
  /** Frames Bun refused (see WsSocket.write); their bytes stayed queued with us. */
  readonly counters: WsSendCounters = { sendsRefused: 0 };
  private server: Server<WsData>;
  private readonly retired: Server<WsData>[] = [];
  private readonly origins: OriginPolicy;
  private tls: LoadedTls | undefined;
  private stopped = false;

  /**
   * Listens on `config.host`:`config.wsPort`.
   * @throws RelayError RELAY_ERR_ADDRESS_IN_USE or RELAY_ERR_LISTEN_FAILED.
   */
  constructor(
    private readonly nats: NatsPort,
    private readonly config: RelayOptions,
    private readonly access: NetAccess,
  ) {
    this.origins = originPolicy(config.wsSameOrigin, config.wsAllowedOrigins);
    this.tls = access.tls;
    this.server = this.listen(config.wsPort ?? 0, this.tls, true);
    access.register(this, WS_LISTENER);
  }

  /** The bound port (the real one when opened with port 0). */
  get port(): number {
    return this.server.port ?? 0;
  }

  /** Stops accepting; with `closeActive`, also closes every WebSocket at once. */
  stop(closeActive = false): void {
    this.stopped = true;
    this.access.unregister(this);
    void this.server.stop(closeActive);
    if (closeActive) for (const old of this.retired) void old.stop(true);
  }

  /** ReloadableListener: a successor with `tls` on the same port, beside the current one. */
  prepareTls(tls: LoadedTls): { commit(): void; abort(): void } {
    if (this.stopped) return { commit() {}, abort() {} };
    const next = this.listen(this.port, tls, false);
    return {
      commit: () => {
        const old = this.server;
        this.server = next;
        this.tls = tls;
        this.retired.push(old);
        void old.stop(false);
      },
      abort: () => void next.stop(true),
    };
  }

  private listen(port: number, tls: LoadedTls | undefined, first: boolean): Server<WsData> {
    const { host, reusePort } = this.config;
    try {
      // TLS listeners share their port with a reload's successor (SO_REUSEPORT).
      if (first && tls !== undefined && !reusePort) port = claimPort(host, port);
      return Bun.serve<WsData>({
        hostname: host,
        port,
        // Bun.serve sets SO_REUSEPORT unless told not to: a taken port must be an error.
        reusePort: reusePort || tls !== undefined,
        // Seconds, at least 1: an HTTP connection idle after a request (see the file comment).
        idleTimeout: Math.max(1, Math.ceil(this.access.handshakeTimeoutMs / 1000)),
        ...(tls === undefined ? {} : { tls: tls.options }),
        fetch: (request, server) => this.upgrade(request, server),
        websocket: this.handlers(),
      });
    } catch (error) {
      throw listenError("WebSocket", host, port, error);
    }
  }

  /** The HTTP side: checks, then the upgrade; every refusal is answered and logged. */
  private upgrade(request: Request, server: Server<WsData>): Response | undefined {
    const address = server.requestIP(request);
    const peer = formatPeer(address?.address, address?.port);
    const allow = this.access.allow;
    if (allow !== undefined && (address === null || !allow.allows(address.address))) {
      const detail = `not in --allow-from ${allow.toString() || "(empty)"}`;
      this.access.refused(WS_LISTENER, AccessRefusal.AllowFrom, peer, detail);
      return new Response("Forbidden", { status: 403 });
    }
    const headers = request.headers;
    const origin = headers.get("origin") ?? headers.get("sec-websocket-origin");
    const refusal = checkOrigin(this.origins, origin, headers.get("host"), this.tls !== undefined);
    if (refusal !== undefined) {
      this.access.refused(WS_LISTENER, AccessRefusal.Origin, peer, refusal);
      // nats-server's wsReturnHTTPError: the status text as body, and the version it speaks.
      return new Response("Forbidden", {
        status: 403,
        headers: { "Sec-WebSocket-Version": "13" },
      });
    }
    const data: WsData = { remotePort: address?.port ?? 0, socket: undefined };
    if (server.upgrade(request, { data })) return undefined;
    return new Response("Bad Request", { status: 400, headers: { "Sec-WebSocket-Version": "13" } });
  }

  private handlers() {
    const nats = this.nats;
    const config = this.config;
    const counters = this.counters;
    return {
      // Bun never drops what it queued (WsSocket sends only into an empty queue); a frame it
      // still refuses stays in our Backlog. The bound is ours: --max-pending and the policy.
      backpressureLimit: config.maxPending,
      closeOnBackpressureLimit: false,
      maxPayloadLength: Math.max(
        MIN_MESSAGE_BYTES,
        2 * (config.maxPayload + config.maxControlLine),
      ),
      // Liveness is NATS's own PING/PONG (--ping-interval), as on the TCP port.
      idleTimeout: 0,
      sendPings: false,
      perMessageDeflate: config.wsCompression,
      open(ws: ServerWebSocket<WsData>) {
        ws.binaryType = "uint8array";
        const socket = new WsSocket(ws, config.wsCompression, counters);
        ws.data.socket = socket;
        const connection = new NatsConnection(
          socket,
          formatPeer(ws.remoteAddress, ws.data.remotePort),
          nats,
        );
        socket.connection = connection;
        nats.accept(connection);
      },
      message(ws: ServerWebSocket<WsData>, message: string | Uint8Array) {
        const connection = ws.data.socket?.connection;
        if (connection === undefined) return;
        // nats.js sends binary frames; a text frame carries the same protocol bytes.
        nats.received(connection, typeof message === "string" ? encoder.encode(message) : message);
      },
      drain(ws: ServerWebSocket<WsData>) {
        const connection = ws.data.socket?.connection;
        if (connection !== undefined) nats.drained(connection);
      },
      close(ws: ServerWebSocket<WsData>, code: number) {
        const connection = ws.data.socket?.connection;
        if (connection === undefined) return;
        // 1000 (normal), 1001 (going away) and 1005 (no status) are clean ends; 1006 and the
        // error codes are not.
        nats.closed(connection, code !== 1000 && code !== 1001 && code !== 1005);
      },
    };
  }
}
