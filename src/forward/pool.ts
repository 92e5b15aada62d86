/**
 * `--pool N`: N pre-dialed idle upstream connections per target, so a new client skips the
 * TCP handshake to the upstream.
 *
 * Each pooled socket is handed to exactly one client and never comes back: a byte stream that
 * carried one client's session cannot be proven clean for the next (the mistake seed 004
 * admits to). After each hand-out the pool dials a replacement in the background. An idle
 * socket that the upstream closes, half-closes or resets is dropped and replaced, and so is
 * one older than --pool-idle-ttl (servers tend to drop connections that stay silent).
 * Bytes an upstream sends before any client is attached (a greeting banner) are kept and
 * delivered first; past EARLY_BYTES_LIMIT the socket is paused.
 */
import type { Socket } from "bun";
import type { RelayError } from "../errors.ts";
import { closeGracefully } from "../net/graceful-close.ts";
import { type DialTls, dialUpstream } from "../pipe/dialer.ts";
import type { EndOwner } from "../pipe/endpoint.ts";
import { PipeEnd } from "../pipe/pipe-end.ts";
import type { Target } from "./targets.ts";

export const EARLY_BYTES_LIMIT = 64 * 1024;

/** An idle pooled connection. */
interface IdleConnection {
  end: PipeEnd;
  socket: Socket<PipeEnd>;
  early: Uint8Array[];
  earlyBytes: number;
  /** performance.now() when it connected. */
  connectedAt: number;
}

export interface PoolListener {
  /**
   * A dial for the pool, started at `startedAt` (performance.now() ms), failed: the target
   * should be marked down. Returns ms until a retry.
   */
  onPoolDialFailed(target: Target, error: RelayError, startedAt: number): number;
  onPoolDialSucceeded(target: Target): void;
}

export interface PoolCounters {
  /** Clients that got a pooled socket. */
  hits: number;
  /** Clients that found the pool empty and dialed. */
  misses: number;
  /** Idle sockets dropped: closed by the upstream or past --pool-idle-ttl. */
  replaced: number;
}

export class UpstreamPool implements EndOwner {
  private readonly idle: IdleConnection[] = [];
  private dialing = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Replaces sockets past --pool-idle-ttl; one timer per pool, none per socket. */
  private readonly ttlTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private refillScheduled = false;
  readonly counters: PoolCounters = { hits: 0, misses: 0, replaced: 0 };

  constructor(
    readonly target: Target,
    readonly size: number,
    private readonly idleTtlSeconds: number,
    private readonly connectTimeoutSeconds: number,
    private readonly listener: PoolListener,
    /** forward --to-tls: pooled sockets are dialed with TLS too. */
    private readonly tls?: DialTls,
  ) {
    if (idleTtlSeconds > 0) {
      const everyMs = Math.min(1000, Math.max(10, (idleTtlSeconds * 1000) / 4));
      this.ttlTimer = setInterval(() => this.retireExpired(), everyMs);
    }
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Dials under way (for the tests: the pool has no event of its own). */
  get dialsInFlight(): number {
    return this.dialing;
  }

  /** Dials until `size` sockets are idle or on their way. */
  fill(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    while (this.idle.length + this.dialing < this.size) this.dialOne();
  }

  /**
   * Hands out the oldest idle socket with what the upstream sent meanwhile, and starts dialing
   * its replacement. Undefined when the pool is empty.
   */
  take(): { socket: Socket<PipeEnd>; early: Uint8Array[] } | undefined {
    const connection = this.idle.shift();
    if (connection === undefined) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    // Refill after this turn of the event loop: the client whose socket we just handed out
    // goes first, and several hand-outs in one turn share one refill pass.
    if (!this.refillScheduled) {
      this.refillScheduled = true;
      setImmediate(() => {
        this.refillScheduled = false;
        this.fill();
      });
    }
    return { socket: connection.socket, early: connection.early };
  }

  /** Closes every idle socket and stops refilling. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.ttlTimer);
    for (const connection of this.idle.splice(0)) closeGracefully(connection.socket);
  }

  private dialOne(): void {
    this.dialing++;
    const startedAt = performance.now();
    const end = new PipeEnd(this);
    dialUpstream(
      this.target.host,
      this.target.port,
      this.connectTimeoutSeconds,
      end,
      this.tls,
    ).then(
      (socket) => {
        this.dialing--;
        if (this.stopped) {
          closeGracefully(socket);
          return;
        }
        this.listener.onPoolDialSucceeded(this.target);
        const connection: IdleConnection = {
          end,
          socket,
          early: [],
          earlyBytes: 0,
          connectedAt: performance.now(),
        };
        this.idle.push(connection);
      },
      (error: RelayError) => {
        this.dialing--;
        if (this.stopped) return;
        // Do not hammer a target that refuses: wait for its backoff, then fill again.
        const retryInMs = this.listener.onPoolDialFailed(this.target, error, startedAt);
        if (this.retryTimer === undefined) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.fill();
          }, retryInMs);
        }
      },
    );
  }

  /** Drops an idle socket (closed by the upstream, or too old) and dials its replacement. */
  private retire(end: PipeEnd): void {
    const index = this.idle.findIndex((connection) => connection.end === end);
    if (index < 0) return;
    this.idle.splice(index, 1);
    this.counters.replaced++;
    if (!end.closed && end.socket) closeGracefully(end.socket);
    this.fill();
  }

  /** The idle list is oldest first, so the expired ones are at its head. */
  private retireExpired(): void {
    const oldestAllowed = performance.now() - this.idleTtlSeconds * 1000;
    while (this.idle.length > 0 && (this.idle[0] as IdleConnection).connectedAt <= oldestAllowed) {
      this.retire((this.idle[0] as IdleConnection).end);
    }
  }

  private find(end: PipeEnd): IdleConnection | undefined {
    return this.idle.find((connection) => connection.end === end);
  }

  onData(end: PipeEnd, chunk: Uint8Array): void {
    const connection = this.find(end);
    if (connection === undefined) return;
    connection.early.push(chunk);
    connection.earlyBytes += chunk.length;
    if (connection.earlyBytes >= EARLY_BYTES_LIMIT && !end.paused) {
      end.paused = true;
      end.socket?.pause();
    }
  }

  onDrain(): void {}

  onEnd(end: PipeEnd): void {
    // An upstream that half-closes before any client arrives has nothing to offer one.
    end.readEnded = true;
    this.retire(end);
  }

  onClose(end: PipeEnd): void {
    end.closed = true;
    this.retire(end);
  }
}
