/**
 * `tunnel client`: accepts TCP connections and carries each one as one smux stream over a
 * pool of sessions to a `tunnel server` (or Go's smux-tunnel -mode server), piped both ways
 * by the forwarder's pipe (src/pipe/pipe.ts) with a StreamEnd as its upstream.
 *
 *   TCP client ──▶ [listener] ──pipe──▶ StreamEnd ══ session k of --conns ══▶ tunnel server
 *
 * Opening a stream costs one SYN frame, no round trip, so a client is OPEN as soon as it is
 * accepted while a session is up. While none is, clients wait (their bytes buffered up to
 * PRECONNECT_HIGH_WATER, then paused) until one comes up, for at most --connect-timeout;
 * then they are closed with reason connect_timeout and the last dial error.
 *
 * When a session dies, each of its streams' pipes resets its TCP client, with the session's
 * cause in the CLOSE detail, and the pool redials (session-pool.ts).
 */
import type { Socket, TLSOptions } from "bun";
import { CloseReason } from "../errors.ts";
import { type MuxConfig, MuxErrorCode } from "../mux/index.ts";
import type { NetAccess } from "../net/access.ts";
import type { NetListener } from "../net/listener.ts";
import { ConnectionTable, drainTable, type TableSettings } from "../pipe/connection-table.ts";
import type { Pipe } from "../pipe/pipe.ts";
import type { PipeEnd } from "../pipe/pipe-end.ts";
import { SessionBook } from "./session-book.ts";
import { isGoAway, SessionPool, type SessionSlot } from "./session-pool.ts";
import { StreamEnd } from "./stream-end.ts";
import type { SessionStats, TunnelEventListener, TunnelMode } from "./tunnel-events.ts";

export interface TunnelClientSettings extends TableSettings {
  listenHost: string;
  listenPort: number;
  serverHost: string;
  serverPort: number;
  /** Sessions in the pool. */
  conns: number;
  config: MuxConfig;
  /** Seconds for a dial, and for a client waiting for a session. */
  connectTimeout: number;
  /** TLS, mutual TLS and --allow-from of the --listen port; none: plaintext, open to all. */
  access?: NetAccess | undefined;
  /** --server-tls: TLS (ca, serverName, client cert) for the session dials; none: plaintext. */
  serverTls?: TLSOptions | undefined;
}

type ClientPipe = Pipe<PipeEnd, StreamEnd>;

const NO_EXTRAS = { poolHits: 0, poolMisses: 0, targetsUp: 0, targets: 0 };

export class TunnelClient {
  readonly table: ConnectionTable<TunnelMode>;
  readonly sessions = new SessionBook();
  readonly pool: SessionPool;
  private readonly listener: NetListener<PipeEnd>;
  /** Clients waiting for a session, with their --connect-timeout timers. */
  private readonly waiting = new Map<ClientPipe, ReturnType<typeof setTimeout>>();
  private stopping = false;

  /** Starts listening and dialing; throws a RelayError when the address cannot be opened. */
  constructor(
    readonly settings: TunnelClientSettings,
    private readonly emit: TunnelEventListener = () => {},
  ) {
    this.table = new ConnectionTable<TunnelMode>("tunnel-client", settings, emit, () => NO_EXTRAS);
    this.pool = new SessionPool(
      {
        host: settings.serverHost,
        port: settings.serverPort,
        conns: settings.conns,
        config: settings.config,
        connectTimeout: settings.connectTimeout,
        tls: settings.serverTls,
      },
      this.sessions,
      {
        sessionUp: (slot, record) => {
          emit({
            type: "session_up",
            mode: "tunnel-client",
            session: record.serial,
            peer: record.peer,
            slot: slot.index,
          });
          this.serveWaiting();
        },
        sessionDown: (slot, record, cause, retryInMs) =>
          emit({
            type: "session_down",
            mode: "tunnel-client",
            session: record.serial,
            peer: record.peer,
            code: cause.code,
            reason: cause.reason + likelyCause(cause.code, record.session.counters),
            seconds: (performance.now() - record.upAt) / 1000,
            streams: record.session.counters.streamsOpened,
            slot: slot.index,
            ...(this.stopping ? {} : { retryInSeconds: retryInMs / 1000 }),
          }),
        dialFailed: (slot, reason, retryInMs) =>
          emit({
            type: "dial_failed",
            slot: slot.index,
            peer: this.pool.peer,
            reason,
            retryInSeconds: retryInMs / 1000,
          }),
      },
    );
    this.listener = this.table.listen("tunnel client", settings, (socket) => this.accept(socket));
    emit({
      type: "listening",
      mode: "tunnel-client",
      host: settings.listenHost,
      port: this.port,
      detail: `-> ${this.pool.peer} (${settings.conns} session(s), smux v${settings.config.version})`,
    });
    this.pool.start();
  }

  get port(): number {
    return this.listener.port;
  }

  /** Session figures for the STATS line. */
  sessionStats(): SessionStats {
    return this.sessions.stats(this.pool.upCount, this.settings.conns);
  }

  /**
   * Graceful stop: no new clients; open ones may finish for `graceSeconds`, then every pipe
   * and session is closed. Resolves once done.
   */
  async shutdown(graceSeconds: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.listener.stop(false);
    await drainTable(this.table, this.emit, "tunnel-client", graceSeconds);
    this.stop();
  }

  /** Stops at once: closes every pipe (FIN both ways) and every session. */
  stop(): void {
    this.stopping = true;
    this.listener.stop(false);
    for (const timer of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    this.table.stop();
    this.pool.stop("tunnel client stopping");
  }

  private accept(socket: Socket<PipeEnd>): void {
    const upstream = new StreamEnd(this.settings.config.maxStreamWriteQueue);
    const pipe = this.table.admit(socket, this.stopping, upstream);
    if (pipe === undefined) return;
    pipe.targetLabel = this.pool.peer;
    const slot = this.pool.pick();
    if (slot !== undefined) {
      this.openStream(pipe, slot);
      return;
    }
    const timeout = this.settings.connectTimeout;
    const timer = setTimeout(() => {
      this.waiting.delete(pipe);
      const last = this.pool.lastFailure;
      pipe.close(
        CloseReason.ConnectTimeout,
        `no tunnel session up within --connect-timeout ${timeout}s${last ? ` (last dial: ${last})` : ""}`,
      );
    }, timeout * 1000);
    this.waiting.set(pipe, timer);
  }

  /** A session came up: the clients that waited get their streams, oldest first. */
  private serveWaiting(): void {
    for (const [pipe, timer] of this.waiting) {
      const slot = this.pool.pick();
      if (slot === undefined) return;
      clearTimeout(timer);
      this.waiting.delete(pipe);
      if (!pipe.finished) this.openStream(pipe, slot);
    }
  }

  /** Opens the client's stream on `slot`'s session and joins it to the pipe. */
  private openStream(pipe: ClientPipe, slot: SessionSlot): void {
    const record = slot.record;
    const session = slot.session;
    if (record === undefined || session === undefined) return;
    let stream: ReturnType<typeof session.open>;
    try {
      stream = session.open();
    } catch (error) {
      if (!isGoAway(error)) throw error;
      // Its stream IDs are spent: this session is replaced, the client tries another one.
      this.pool.retire(slot);
      const next = this.pool.pick();
      if (next !== undefined) this.openStream(pipe, next);
      else pipe.close(CloseReason.ConnectFailed, "tunnel session out of stream IDs; redialing");
      return;
    }
    const via = `session ${record.serial}`;
    pipe.targetLabel = `${record.peer} ${via} stream ${stream.id}`;
    pipe.upstream.setStream(stream, pipe.targetLabel, `${via} (${record.peer})`);
    slot.load.active++;
    pipe.countedIn = slot.load; // the table counts it back down when the pipe closes
    pipe.upstream.startReading();
    pipe.upstreamAttached();
    this.table.opened(pipe);
  }
}

/**
 * Why a server may have closed a session, when smux itself cannot say: a server that takes
 * our frames' version for a protocol error closes the connection without a frame (smux has
 * no error frame; xtaci/smux session.go recvLoop returns ErrInvalidProtocol), so a session
 * closed by the peer after we sent frames and before it sent any is most likely a version
 * mismatch, or a --server that is not a tunnel server.
 */
export function likelyCause(
  code: string,
  counters: { readonly framesIn: number; readonly framesOut: number },
): string {
  if (code !== MuxErrorCode.TransportClosed || counters.framesIn > 0 || counters.framesOut === 0) {
    return "";
  }
  return " (the server closed it after our first frames without sending one: likely a different --smux-version on the server, or --server is not a tunnel server)";
}
