/**
 * `forward`: accepts TCP connections and pipes each one, both ways, to one of the --to
 * targets, failing over to the next target when one refuses or times out, optionally from a
 * pool of pre-dialed upstream sockets.
 */
import type { Socket } from "bun";
import { CloseReason, ErrorCode, type RelayError } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import { closeGracefully } from "../net/graceful-close.ts";
import type { NetListener } from "../net/listener.ts";
import { ConnectionTable, drainTable, type TableSettings } from "../pipe/connection-table.ts";
import { type DialTls, dialUpstream } from "../pipe/dialer.ts";
import type { Pipe } from "../pipe/pipe.ts";
import { PipeEnd } from "../pipe/pipe-end.ts";
import type { ForwardEventListener } from "../pipe/pipe-events.ts";
import { UpstreamPool } from "./pool.ts";
import { type BalancePolicy, Target, TargetSet } from "./targets.ts";

export interface ForwardSettings extends TableSettings {
  listenHost: string;
  listenPort: number;
  targets: readonly { host: string; port: number }[];
  balance: BalancePolicy;
  connectTimeout: number;
  /** Idle pre-dialed sockets per target; 0: no pool. */
  pool: number;
  /** Seconds an idle pooled socket may wait before it is replaced; 0: forever. */
  poolIdleTtl: number;
  /** TLS termination (--tls-cert), --allow-from and their reloads (src/net). */
  access?: NetAccess;
  /** --to-tls: TLS origination to the targets. */
  toTls?: DialTls;
}

export class Forwarder {
  readonly table: ConnectionTable;
  readonly targets: TargetSet;
  readonly pools: UpstreamPool[] = [];
  private readonly poolOf = new Map<Target, UpstreamPool>();
  private readonly listener: NetListener<PipeEnd>;
  private stopped = false;

  /** Starts listening; throws a RelayError when the address cannot be opened. */
  constructor(
    readonly settings: ForwardSettings,
    private readonly emit: ForwardEventListener = () => {},
  ) {
    this.targets = new TargetSet(
      settings.targets.map(({ host, port }) => new Target(host, port)),
      settings.balance,
    );
    this.table = new ConnectionTable("forward", settings, emit, () => this.extraStats());
    this.listener = this.table.listen("forward", settings, (socket) => this.accept(socket));
    if (settings.pool > 0) {
      for (const target of this.targets.targets) {
        const pool = new UpstreamPool(
          target,
          settings.pool,
          settings.poolIdleTtl,
          settings.connectTimeout,
          {
            onPoolDialFailed: (failed, error, startedAt) =>
              this.markDown(failed, error.reason, startedAt),
            onPoolDialSucceeded: (succeeded) => this.markUp(succeeded),
          },
          settings.toTls,
        );
        this.pools.push(pool);
        this.poolOf.set(target, pool);
        pool.fill();
      }
    }
    emit({ type: "listening", mode: "forward", host: settings.listenHost, port: this.port });
  }

  get port(): number {
    return this.listener.port;
  }

  /**
   * Graceful stop (--shutdown-timeout): stops accepting; open pipes may finish for
   * `graceSeconds`, then everything is closed. Resolves once done.
   */
  async shutdown(graceSeconds: number): Promise<void> {
    this.listener.stop(false);
    await drainTable(this.table, this.emit, "forward", graceSeconds);
    this.stop();
  }

  /** Stops accepting, empties the pools and closes every pipe. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.listener.stop(false);
    for (const pool of this.pools) pool.stop();
    this.table.stop();
  }

  private accept(socket: Socket<PipeEnd>): void {
    const pipe = this.table.admit(socket, this.stopped);
    if (pipe) void this.connect(pipe);
  }

  /**
   * Tries targets in balance order until one connects; closes the client once every target
   * was tried for it and failed. Targets marked down are tried too when nothing else is left
   * (see TargetSet.pick), so a client is never refused because of earlier clients' failures.
   */
  private async connect(pipe: Pipe): Promise<void> {
    const tried = new Set<Target>();
    let lastFailure: RelayError | undefined;
    for (;;) {
      const target = this.targets.pick(tried, performance.now());
      if (target === undefined) {
        this.giveUp(pipe, tried.size, lastFailure);
        return;
      }
      tried.add(target);
      pipe.targetLabel = target.label;
      const pooled = this.poolOf.get(target)?.take();
      if (pooled !== undefined) {
        pipe.pooled = true;
        this.join(pipe, target, pooled.socket, pooled.early);
        return;
      }
      const startedAt = performance.now();
      try {
        const socket = await dialUpstream(
          target.host,
          target.port,
          this.settings.connectTimeout,
          new PipeEnd(pipe),
          this.settings.toTls,
        );
        this.markUp(target);
        this.join(pipe, target, socket, []);
        return;
      } catch (error) {
        lastFailure = error as RelayError;
        this.markDown(target, lastFailure.reason, startedAt);
        if (pipe.finished) return; // the client left meanwhile
      }
    }
  }

  private join(pipe: Pipe, target: Target, socket: Socket<PipeEnd>, early: Uint8Array[]): void {
    if (pipe.finished) {
      closeGracefully(socket);
      return;
    }
    target.active++;
    pipe.countedIn = target; // the table gives it back when the pipe is done
    pipe.attachUpstream(socket, early);
    this.table.opened(pipe);
  }

  /**
   * Every target was tried for this client and failed (pick never returns undefined before
   * that): the close names the last error.
   */
  private giveUp(pipe: Pipe, triedCount: number, lastFailure: RelayError | undefined): void {
    const reason =
      lastFailure?.code === ErrorCode.ConnectTimeout
        ? CloseReason.ConnectTimeout
        : CloseReason.ConnectFailed;
    const detail = lastFailure
      ? `${lastFailure.peer}: ${lastFailure.reason}${triedCount > 1 ? ` (after ${triedCount} targets)` : ""}`
      : undefined;
    pipe.close(reason, detail);
  }

  /**
   * A dial to `target` that started at `startedAt` failed. Logs TARGET_DOWN only when the
   * target goes from up to down: later failures lengthen its backoff without a line, and
   * overlapping ones do not count at all (TargetSet.markDown). Returns ms until its backoff ends.
   */
  private markDown(target: Target, reason: string, startedAt: number): number {
    const failure = this.targets.markDown(target, startedAt, performance.now());
    if (failure.wentDown) {
      this.emit({
        type: "target_down",
        target: target.label,
        reason,
        retryInSeconds: failure.retryInMs / 1000,
      });
    }
    return failure.retryInMs;
  }

  /** A dial to `target` succeeded: TARGET_UP when it was down (the down -> up transition). */
  private markUp(target: Target): void {
    if (this.targets.markUp(target)) this.emit({ type: "target_up", target: target.label });
  }

  private extraStats() {
    let poolHits = 0;
    let poolMisses = 0;
    for (const pool of this.pools) {
      poolHits += pool.counters.hits;
      poolMisses += pool.counters.misses;
    }
    const targets = this.targets.targets.length;
    return { poolHits, poolMisses, targetsUp: this.targets.upCount(performance.now()), targets };
  }
}
