/**
 * `tunnel server`: accepts smux sessions (from our `tunnel client` or any smux client of the
 * same version) and, for every stream a session opens, dials --to and pipes both ways with
 * the forwarder's pipe (src/pipe/pipe.ts), the stream being the pipe's client end.
 *
 *   tunnel client ══ session ══▶ [listener] ── StreamEnd ──pipe──▶ TCP to --to
 *
 * A stream that cannot be served (--max-conns reached, shutting down, --to refusing or
 * slower than --connect-timeout) is closed at once: smux has no way to refuse a SYN, so its
 * client sees a stream that ends without a byte, as with Go's smux-tunnel.
 */
import { CloseReason, ErrorCode, listenError, RelayError } from "../errors.ts";
import { sessionAcceptHandlers } from "../mux/adapters/bun.ts";
import type { MuxConfig, MuxSocketData, Stream } from "../mux/index.ts";
import type { NetAccess } from "../net/access.ts";
import { closeGracefully } from "../net/graceful-close.ts";
import { type NetListener, openListener } from "../net/listener.ts";
import { ConnectionTable, drainTable, type TableSettings } from "../pipe/connection-table.ts";
import { dialUpstream } from "../pipe/dialer.ts";
import type { Pipe } from "../pipe/pipe.ts";
import { PipeEnd } from "../pipe/pipe-end.ts";
import { SessionBook, type SessionRecord } from "./session-book.ts";
import { StreamEnd } from "./stream-end.ts";
import type { SessionStats, TunnelEventListener, TunnelMode } from "./tunnel-events.ts";

export interface TunnelServerSettings extends TableSettings {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  config: MuxConfig;
  /** Seconds a dial to the target may take. */
  connectTimeout: number;
  /** TLS, mutual TLS and --allow-from of the session port; none: plaintext, open to all. */
  access?: NetAccess | undefined;
}

type ServerPipe = Pipe<StreamEnd, PipeEnd>;

const NO_EXTRAS = { poolHits: 0, poolMisses: 0, targetsUp: 0, targets: 0 };

/** An owner for the dialed socket until the pipe takes it over (dialer.ts's contract). */
const DIALING = { onData() {}, onDrain() {}, onEnd() {}, onClose() {} };

export class TunnelServer {
  readonly table: ConnectionTable<TunnelMode>;
  readonly sessions = new SessionBook();
  private readonly listener: NetListener<MuxSocketData>;
  private readonly targetLabel: string;
  private stopping = false;

  /** Starts listening; throws a RelayError when the address cannot be opened. */
  constructor(
    readonly settings: TunnelServerSettings,
    private readonly emit: TunnelEventListener = () => {},
  ) {
    this.table = new ConnectionTable<TunnelMode>("tunnel-server", settings, emit, () => NO_EXTRAS);
    const { targetHost, targetPort } = settings;
    this.targetLabel = targetHost.includes(":")
      ? `[${targetHost}]:${targetPort}`
      : `${targetHost}:${targetPort}`;
    try {
      const socket = sessionAcceptHandlers({
        config: settings.config,
        onSession: (session) => {
          const record = this.sessions.add(session, session.peer ?? "-");
          emit({
            type: "session_up",
            mode: "tunnel-server",
            session: record.serial,
            peer: record.peer,
          });
          session.onStream = (stream) => this.acceptStream(record, stream);
          session.closed.then((cause) => {
            this.sessions.closed(record, cause);
            emit({
              type: "session_down",
              mode: "tunnel-server",
              session: record.serial,
              peer: record.peer,
              code: cause.code,
              reason: cause.reason,
              seconds: (performance.now() - record.upAt) / 1000,
              streams: session.counters.streamsAccepted,
            });
          });
        },
      });
      this.listener = openListener<MuxSocketData>({
        what: "tunnel server",
        host: settings.listenHost,
        port: settings.listenPort,
        access: settings.access,
        reusePort: settings.reusePort === true,
        socket,
      });
    } catch (error) {
      this.table.stop(false); // never served: no SHUTDOWN line
      if (error instanceof RelayError) throw error;
      throw listenError("tunnel server", settings.listenHost, settings.listenPort, error);
    }
    emit({
      type: "listening",
      mode: "tunnel-server",
      host: settings.listenHost,
      port: this.port,
      detail: `-> ${this.targetLabel} (smux v${settings.config.version})`,
    });
  }

  get port(): number {
    return this.listener.port;
  }

  /** Session figures for the STATS line. */
  sessionStats(): SessionStats {
    return this.sessions.stats(this.sessions.live.size, 0);
  }

  /**
   * Graceful stop: no new sessions, new streams refused; open ones may finish for
   * `graceSeconds`, then every pipe and session is closed. Resolves once done.
   */
  async shutdown(graceSeconds: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.listener.stop(false);
    await drainTable(this.table, this.emit, "tunnel-server", graceSeconds);
    this.stop();
  }

  /** Stops at once: closes every pipe and every session. */
  stop(): void {
    this.stopping = true;
    this.listener.stop(false);
    this.table.stop();
    this.sessions.closeAll("tunnel server stopping");
  }

  private acceptStream(record: SessionRecord, stream: Stream): void {
    const client = new StreamEnd(this.settings.config.maxStreamWriteQueue);
    const label = `${record.peer} session ${record.serial} stream ${stream.id}`;
    client.setStream(stream, label, `session ${record.serial} (${record.peer})`);
    const pipe = this.table.admitEnds(client, new PipeEnd(DIALING), this.stopping);
    if (pipe === undefined) return; // refused: the stream is closed
    pipe.targetLabel = this.targetLabel;
    client.startReading();
    void this.connect(pipe);
  }

  private async connect(pipe: ServerPipe): Promise<void> {
    const { targetHost, targetPort, connectTimeout } = this.settings;
    try {
      const socket = await dialUpstream(
        targetHost,
        targetPort,
        connectTimeout,
        new PipeEnd(DIALING),
      );
      if (pipe.finished) {
        closeGracefully(socket);
        return;
      }
      pipe.attachUpstream(socket);
      this.table.opened(pipe);
    } catch (error) {
      const failure = error as RelayError;
      const timedOut = failure.code === ErrorCode.ConnectTimeout;
      pipe.close(
        timedOut ? CloseReason.ConnectTimeout : CloseReason.ConnectFailed,
        `${failure.peer}: ${failure.reason}`,
      );
    }
  }
}
