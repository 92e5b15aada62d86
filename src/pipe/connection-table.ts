/**
 * The open pipes of a `forward`, `proxy` or `tunnel` listener: ids, --max-conns, counters, the
 * stats line, and the idle and half-close timeouts. The table does not care what carries a
 * pipe's ends (sockets or smux streams, src/pipe/pipe.ts `Endpoint`).
 *
 * Timeouts run on one sweeper per listener rather than a timer per connection: the data path
 * only sets `pipe.active = true`, and each sweep turns that flag into a timestamp. A timeout
 * therefore fires between its limit and its limit plus one sweep interval (a quarter of the
 * shortest timeout, between 10 ms and 1 s), at no cost per chunk.
 */
import type { Socket } from "bun";
import { CloseReason, formatPeer } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import type { NetListener } from "../net/listener.ts";
import type { EndOwner, Endpoint } from "./endpoint.ts";
import { type AnyPipe, Pipe, type PipeListener } from "./pipe.ts";
import { listenForClients, PipeEnd } from "./pipe-end.ts";
import type { ForwardEvent, ForwardMode, ForwardStats } from "./pipe-events.ts";

export interface TableSettings {
  /** 0: unlimited. */
  maxConns: number;
  /** Seconds without a byte either way; 0: none. */
  idleTimeout: number;
  /** Seconds of silence once one side has finished; 0: none. */
  halfCloseTimeout: number;
  /** Seconds between stats lines; 0: none. */
  statsInterval: number;
  /** --reuse-port: SO_REUSEPORT on the mode's listening port. */
  reusePort?: boolean;
}

/**
 * The graceful part of a shutdown (--shutdown-timeout): when connections are open and there
 * is a grace period, reports `draining` and waits until they have all closed or the grace
 * period is over. The caller has stopped accepting and stops the table afterwards.
 */
export async function drainTable<M extends string>(
  table: ConnectionTable<M>,
  emit: (event: { type: "draining"; mode: M; open: number; graceSeconds: number }) => void,
  mode: M,
  graceSeconds: number,
): Promise<void> {
  if (graceSeconds <= 0 || table.pipes.size === 0) return;
  emit({ type: "draining", mode, open: table.pipes.size, graceSeconds });
  await table.whenEmpty(graceSeconds * 1000);
}

/** Close reasons that mean the client was turned away before any upstream was used. */
const REFUSALS: ReadonlySet<CloseReason> = new Set([
  CloseReason.MaxConns,
  CloseReason.BadRequest,
  CloseReason.HeadTimeout,
  CloseReason.Forbidden,
  CloseReason.AuthRequired,
]);

/**
 * What a table emits: forward's open/close/stats/shutdown events with the table's own mode
 * name (`forward`, `proxy`, `tunnel-client`, ...). For forward and proxy this is exactly
 * ForwardEvent, so their listeners take it unchanged.
 */
export type TableEvent<M extends string> =
  Extract<ForwardEvent, { type: "open" | "close" | "stats" | "shutdown" }> extends infer E
    ? E extends { mode: ForwardMode }
      ? Omit<E, "mode"> & { mode: M }
      : never
    : never;

type Totals = Pick<ForwardStats, "opened" | "closed" | "refused" | "bytesUp" | "bytesDown">;

/** Extra figures the owner adds to each stats line (pool, targets). */
export type StatsExtras = () => Pick<
  ForwardStats,
  "poolHits" | "poolMisses" | "targetsUp" | "targets"
>;

/** The owner of ends made before their pipe: the pipe takes them over at once. */
const NO_OWNER: EndOwner = {
  onData() {},
  onDrain() {},
  onEnd() {},
  onClose() {},
};

export class ConnectionTable<M extends string = ForwardMode> implements PipeListener {
  readonly pipes = new Set<AnyPipe>();
  readonly totals: Totals = { opened: 0, closed: 0, refused: 0, bytesUp: 0, bytesDown: 0 };
  /** Closed pipes (refusals included) by close reason, for the metrics endpoint. */
  readonly closedByReason = new Map<CloseReason, number>();
  private lastStats: Totals & { at: number; poolHits: number; poolMisses: number };
  private nextId = 1;
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly statsTimer: ReturnType<typeof setInterval> | undefined;
  private readonly startedAt = performance.now();
  private emptyWaiters: (() => void)[] = [];

  /**
   * `mode` does not pick M (NoInfer): forward and proxy get the default ForwardMode, so their
   * tables stay `ConnectionTable`; other modes name theirs (`ConnectionTable<TunnelMode>`).
   */
  constructor(
    readonly mode: NoInfer<M>,
    readonly settings: TableSettings,
    private readonly emit: (event: TableEvent<M>) => void,
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
  admit(socket: Socket<PipeEnd>, stopping: boolean): Pipe | undefined;
  /** The same with an upstream endpoint of another kind (a tunnel stream, attached later). */
  admit<U extends Endpoint>(
    socket: Socket<PipeEnd>,
    stopping: boolean,
    upstream: U,
  ): Pipe<PipeEnd, U> | undefined;
  admit(
    socket: Socket<PipeEnd>,
    stopping: boolean,
    upstream: Endpoint = new PipeEnd(NO_OWNER),
  ): Pipe<PipeEnd, Endpoint> | undefined {
    const client = new PipeEnd(NO_OWNER);
    client.socket = socket;
    client.peerAddress = formatPeer(socket.remoteAddress, socket.remotePort);
    socket.data = client;
    return this.admitEnds(client, upstream, stopping);
  }

  /**
   * Takes a client endpoint of any kind (a tunnel server's accepted stream) with the upstream
   * endpoint that will carry it: a new pipe owns both, and is closed at once when stopping or
   * full, as in `admit`. Returns the pipe only when the client is admitted.
   */
  admitEnds<C extends Endpoint, U extends Endpoint>(
    client: C,
    upstream: U,
    stopping: boolean,
  ): Pipe<C, U> | undefined {
    const full = this.full;
    const pipe = new Pipe(this.nextId++, this, { client, upstream });
    this.pipes.add(pipe);
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

  /** Both ends are connected: counts the pipe as opened and logs OPEN. */
  opened(pipe: AnyPipe): void {
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

  onPipeClosed(pipe: AnyPipe): void {
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
    if (this.pipes.size === 0 && this.emptyWaiters.length > 0) {
      for (const resolve of this.emptyWaiters.splice(0)) resolve();
    }
  }

  /**
   * Resolves true once no pipe is open (at once when none is), or false after `timeoutMs`:
   * a graceful shutdown lets open connections finish for that long before stop().
   */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.pipes.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.emptyWaiters = this.emptyWaiters.filter((waiter) => waiter !== done);
        resolve(false);
      }, timeoutMs);
      this.emptyWaiters.push(done);
    });
  }

  /**
   * Opens the mode's client port for `accept` (listenForClients: src/net's listener, with TLS
   * and --allow-from from `where.access`). When the port cannot be opened, the table is
   * stopped before the RelayError is rethrown, so a failed start leaves no timer running.
   */
  listen(
    what: string,
    where: {
      listenHost: string;
      listenPort: number;
      access?: NetAccess | undefined;
      /** --reuse-port: SO_REUSEPORT, so several processes share the port. */
      reusePort?: boolean | undefined;
    },
    accept: (socket: Socket<PipeEnd>) => void,
  ): NetListener<PipeEnd> {
    try {
      return listenForClients(
        what,
        where.listenHost,
        where.listenPort,
        accept,
        where.access,
        where.reusePort,
      );
    } catch (error) {
      // Never listened: nothing to announce as shut down, only the timers to stop.
      this.stop(false);
      throw error;
    }
  }

  /**
   * Stops the timers and closes every pipe (FIN both ways). `announce` false: the table never
   * served (its port could not be opened), so no SHUTDOWN line.
   */
  stop(announce = true): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.statsTimer);
    if (announce) this.emit({ type: "shutdown", mode: this.mode, open: this.pipes.size });
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
      // Clients still connecting, waiting for a tunnel session or sending a proxy head have
      // their own timers.
      if (!pipe.upstream.attached) continue;
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
