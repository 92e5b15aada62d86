/**
 * The open pipes of a `forward` or `proxy` listener: ids, --max-conns, counters, the stats line,
 * and the idle and half-close timeouts.
 *
 * Timeouts run on one sweeper per listener rather than a timer per connection: the data path
 * only sets `pipe.active = true`, and each sweep turns that flag into a timestamp. A timeout
 * therefore fires between its limit and its limit plus one sweep interval (a quarter of the
 * shortest timeout, between 10 ms and 1 s), at no cost per chunk.
 */
import type { Socket } from "bun";
import { CloseReason, formatPeer } from "../errors.ts";
import type { ForwardEventListener, ForwardMode, ForwardStats } from "./forward-events.ts";
import { Pipe, type PipeEnd, type PipeListener } from "./pipe.ts";

export interface TableSettings {
  /** 0: unlimited. */
  maxConns: number;
  /** Seconds without a byte either way; 0: none. */
  idleTimeout: number;
  /** Seconds of silence once one side has finished; 0: none. */
  halfCloseTimeout: number;
  /** Seconds between stats lines; 0: none. */
  statsInterval: number;
}

/** Close reasons that mean the client was turned away before any upstream was used. */
const REFUSALS: ReadonlySet<CloseReason> = new Set([
  CloseReason.MaxConns,
  CloseReason.BadRequest,
  CloseReason.HeadTimeout,
  CloseReason.Forbidden,
  CloseReason.AuthRequired,
]);

type Totals = Pick<ForwardStats, "opened" | "closed" | "refused" | "bytesUp" | "bytesDown">;

/** Extra figures the owner adds to each stats line (pool, targets). */
export type StatsExtras = () => Pick<
  ForwardStats,
  "poolHits" | "poolMisses" | "targetsUp" | "targets"
>;

export class ConnectionTable implements PipeListener {
  readonly pipes = new Set<Pipe>();
  readonly totals: Totals = { opened: 0, closed: 0, refused: 0, bytesUp: 0, bytesDown: 0 };
  /** Closed pipes (refusals included) by close reason, for the metrics endpoint. */
  readonly closedByReason = new Map<CloseReason, number>();
  private lastStats: Totals & { at: number; poolHits: number; poolMisses: number };
  private nextId = 1;
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly statsTimer: ReturnType<typeof setInterval> | undefined;
  private readonly startedAt = performance.now();

  constructor(
    readonly mode: ForwardMode,
    readonly settings: TableSettings,
    private readonly emit: ForwardEventListener,
    private readonly extras: StatsExtras,
  ) {
    this.lastStats = { ...this.totals, at: this.startedAt, poolHits: 0, poolMisses: 0 };
    const limits = [settings.idleTimeout, settings.halfCloseTimeout].filter((s) => s > 0);
    if (limits.length > 0) {
      const everyMs = Math.min(1000, Math.max(10, (Math.min(...limits) * 1000) / 4));
      this.sweepTimer = setInterval(() => this.sweep(), everyMs);
    }
    if (settings.statsInterval > 0) {
      this.statsTimer = setInterval(() => this.emitStats(), settings.statsInterval * 1000);
    }
  }

  /** True when --max-conns connections are open: the next client is refused. */
  get full(): boolean {
    return this.settings.maxConns > 0 && this.pipes.size >= this.settings.maxConns;
  }

  /**
   * Takes a client socket that was just accepted: binds it to a new pipe, then closes that
   * pipe at once when the mode is stopping or --max-conns is reached (the close is logged
   * and counted like any other). Returns the pipe only when the client is admitted.
   */
  admit(socket: Socket<PipeEnd>, stopping: boolean): Pipe | undefined {
    const full = this.full;
    const pipe = this.add();
    const client = pipe.client;
    client.socket = socket;
    client.peerAddress = formatPeer(socket.remoteAddress, socket.remotePort);
    socket.data = client;
    if (stopping) {
      pipe.close(CloseReason.Shutdown);
      return undefined;
    }
    if (full) {
      pipe.close(CloseReason.MaxConns, `--max-conns ${this.settings.maxConns} reached`);
      return undefined;
    }
    return pipe;
  }

  private add(): Pipe {
    const pipe = new Pipe(this.nextId++, this);
    this.pipes.add(pipe);
    return pipe;
  }

  /** Both sockets are connected: counts the pipe as opened and logs OPEN. */
  opened(pipe: Pipe): void {
    this.totals.opened++;
    this.emit({
      type: "open",
      mode: this.mode,
      id: pipe.id,
      client: pipe.client.peerAddress,
      upstream: pipe.targetLabel,
      pooled: pipe.pooled,
    });
  }

  onPipeClosed(pipe: Pipe): void {
    this.pipes.delete(pipe);
    if (pipe.countedIn !== undefined) pipe.countedIn.active--;
    const reason = pipe.reason ?? CloseReason.PeerClosed;
    this.closedByReason.set(reason, (this.closedByReason.get(reason) ?? 0) + 1);
    if (REFUSALS.has(reason)) this.totals.refused++;
    else this.totals.closed++;
    this.totals.bytesUp += pipe.bytesUp;
    this.totals.bytesDown += pipe.bytesDown;
    this.emit({
      type: "close",
      mode: this.mode,
      id: pipe.id,
      client: pipe.client.peerAddress,
      upstream: pipe.targetLabel,
      reason,
      ...(pipe.detail !== undefined ? { detail: pipe.detail } : {}),
      bytesUp: pipe.bytesUp,
      bytesDown: pipe.bytesDown,
      seconds: (performance.now() - pipe.openedAt) / 1000,
    });
  }

  /** Stops the timers and closes every pipe (FIN both ways). */
  stop(): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.statsTimer);
    this.emit({ type: "shutdown", mode: this.mode, open: this.pipes.size });
    for (const pipe of [...this.pipes]) pipe.close(CloseReason.Shutdown);
  }

  /** Totals since start, for tests and the final line. */
  snapshot(): ForwardStats {
    let bytesUp = this.totals.bytesUp;
    let bytesDown = this.totals.bytesDown;
    for (const pipe of this.pipes) {
      bytesUp += pipe.bytesUp;
      bytesDown += pipe.bytesDown;
    }
    return {
      seconds: (performance.now() - this.startedAt) / 1000,
      open: this.pipes.size,
      ...this.totals,
      bytesUp,
      bytesDown,
      ...this.extras(),
    };
  }

  private sweep(): void {
    const now = performance.now();
    const { idleTimeout, halfCloseTimeout } = this.settings;
    for (const pipe of this.pipes) {
      if (pipe.active) {
        pipe.active = false;
        pipe.lastActiveAt = now;
        continue;
      }
      // Clients still connecting or sending a proxy head have their own timers.
      if (pipe.upstream.socket === undefined) continue;
      const silentMs = now - pipe.lastActiveAt;
      if (pipe.halfClosed && halfCloseTimeout > 0 && silentMs >= halfCloseTimeout * 1000) {
        pipe.close(CloseReason.HalfCloseTimeout, `silent ${halfCloseTimeout}s after a half-close`);
      } else if (idleTimeout > 0 && silentMs >= idleTimeout * 1000) {
        pipe.close(CloseReason.IdleTimeout, `no byte either way for ${idleTimeout}s`);
      }
    }
  }

  private emitStats(): void {
    const now = performance.now();
    const total = this.snapshot();
    const last = this.lastStats;
    this.emit({
      type: "stats",
      mode: this.mode,
      stats: {
        ...total,
        seconds: (now - last.at) / 1000,
        opened: total.opened - last.opened,
        closed: total.closed - last.closed,
        refused: total.refused - last.refused,
        bytesUp: total.bytesUp - last.bytesUp,
        bytesDown: total.bytesDown - last.bytesDown,
        poolHits: total.poolHits - last.poolHits,
        poolMisses: total.poolMisses - last.poolMisses,
      },
    });
    this.lastStats = { ...total, at: now };
  }
}
