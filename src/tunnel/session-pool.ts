/**
 * The tunnel client's pool of smux sessions to the tunnel server: seed 002's "10 links",
 * `--conns N` TCP connections each carrying many streams, so that one socket (and one event
 * of the peer's per connection) is not the bottleneck.
 *
 * Each slot holds at most one session. A slot dials at start; when its session dies (or a
 * dial fails) it dials again after a backoff that doubles with each failure in a row:
 * immediately after a session that lived at least STABLE_MS, then 250 ms, 500 ms, 1 s, ...
 * up to MAX_BACKOFF_MS. A dial that does not connect within --connect-timeout counts as a
 * failure (Bun.connect cannot be cancelled: a late connection is closed at once).
 *
 * New streams go to the live session with the fewest open streams; ties rotate, so a burst
 * of clients is spread over every link.
 */
import type { TLSOptions } from "bun";
import { formatPeer } from "../errors.ts";
import { connectSession, type MuxConfig, MuxError, type Session } from "../mux/index.ts";
import type { SessionBook, SessionRecord } from "./session-book.ts";

/** A session that lived this long resets its slot's failure count: the next redial is at once. */
export const STABLE_MS = 5000;
export const FIRST_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 10_000;

export interface PoolSettings {
  host: string;
  port: number;
  /** Sessions in the pool (--conns). */
  conns: number;
  config: MuxConfig;
  /** Seconds a dial may take (--connect-timeout). */
  connectTimeout: number;
  /** TLS to the tunnel server (tunnel client --server-tls); none: plaintext. */
  tls?: TLSOptions | undefined;
}

/** What the pool reports to the tunnel client. */
export interface PoolListener {
  sessionUp(slot: SessionSlot, record: SessionRecord): void;
  sessionDown(slot: SessionSlot, record: SessionRecord, cause: MuxError, retryInMs: number): void;
  dialFailed(slot: SessionSlot, reason: string, retryInMs: number): void;
}

/** One link of the pool. */
export class SessionSlot {
  record: SessionRecord | undefined;
  /** Failed dials (or short-lived sessions) in a row. */
  failures = 0;
  dialing = false;
  /**
   * Streams the current session carries for the tunnel: a pipe's `countedIn`, which the
   * connection table counts back down when the pipe closes. A new object per session, so
   * pipes of a dead session never touch the count of its successor.
   */
  load = { active: 0 };
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly index: number) {}

  get session(): Session | undefined {
    const session = this.record?.session;
    return session !== undefined && !session.isClosed ? session : undefined;
  }
}

export class SessionPool {
  readonly slots: SessionSlot[];
  /** Why the last dial failed, for the close detail of clients that waited in vain. */
  lastFailure: string | undefined;
  readonly peer: string;
  private rotation = 0;
  private stopped = false;

  constructor(
    private readonly settings: PoolSettings,
    private readonly book: SessionBook,
    private readonly listener: PoolListener,
  ) {
    this.slots = Array.from({ length: settings.conns }, (_, i) => new SessionSlot(i + 1));
    this.peer = formatPeer(settings.host, settings.port);
  }

  /** Dials every slot. */
  start(): void {
    for (const slot of this.slots) this.dial(slot);
  }

  /** Slots with a live session. */
  get upCount(): number {
    let up = 0;
    for (const slot of this.slots) if (slot.session !== undefined) up++;
    return up;
  }

  /** The live slot with the fewest open streams (ties rotate), or undefined when none is up. */
  pick(): SessionSlot | undefined {
    const slots = this.slots;
    let best: SessionSlot | undefined;
    const start = this.rotation++ % slots.length;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[(start + i) % slots.length] as SessionSlot;
      if (slot.session === undefined) continue;
      if (best === undefined || slot.load.active < best.load.active) best = slot;
    }
    return best;
  }

  /**
   * The slot's session cannot open streams any more (its stream IDs are spent, MUX_ERR_GO_AWAY):
   * the slot lets it finish its streams and dials a fresh one.
   */
  retire(slot: SessionSlot): void {
    const record = slot.record;
    if (record === undefined) return;
    slot.record = undefined;
    const session = record.session;
    // Closed once idle: streams still open keep their pipes' counts, not the slot's.
    const closeWhenIdle = (): void => {
      if (session.isClosed) return;
      if (session.numStreams === 0) session.close("stream IDs spent; replaced");
      else setTimeout(closeWhenIdle, 1000).unref();
    };
    closeWhenIdle();
    this.dial(slot);
  }

  /** Stops redialing and closes every session with `reason`. */
  stop(reason: string): void {
    this.stopped = true;
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      slot.record?.session.close(reason);
    }
  }

  private dial(slot: SessionSlot): void {
    if (this.stopped || slot.dialing) return;
    slot.dialing = true;
    const { host, port, config, connectTimeout, tls } = this.settings;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      this.failed(slot, `no connection within --connect-timeout ${connectTimeout}s`);
    }, connectTimeout * 1000);
    connectSession({ hostname: host, port, config, ...(tls === undefined ? {} : { tls }) }).then(
      (session) => {
        if (settled || this.stopped) {
          session.close(this.stopped ? "tunnel stopping" : "connected after --connect-timeout");
          return;
        }
        settled = true;
        clearTimeout(timer);
        slot.dialing = false;
        this.up(slot, session);
      },
      (error: MuxError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failed(slot, error.reason);
      },
    );
  }

  private up(slot: SessionSlot, session: Session): void {
    const record = this.book.add(session, this.peer);
    slot.record = record;
    slot.load = { active: 0 };
    this.listener.sessionUp(slot, record);
    session.closed.then((cause) => this.down(slot, record, cause));
  }

  private down(slot: SessionSlot, record: SessionRecord, cause: MuxError): void {
    this.book.closed(record, cause);
    if (slot.record !== record) return; // retired: the slot has moved on
    slot.record = undefined;
    const lived = performance.now() - record.upAt;
    slot.failures = lived >= STABLE_MS ? 0 : slot.failures + 1;
    const retryInMs = this.stopped ? 0 : this.redial(slot);
    this.listener.sessionDown(slot, record, cause, retryInMs);
  }

  private failed(slot: SessionSlot, reason: string): void {
    slot.dialing = false;
    if (this.stopped) return;
    this.book.dialFailures++;
    slot.failures++;
    this.lastFailure = `${this.peer}: ${reason}`;
    const retryInMs = this.redial(slot);
    this.listener.dialFailed(slot, reason, retryInMs);
  }

  /** Schedules the slot's next dial; returns the delay in ms. */
  private redial(slot: SessionSlot): number {
    const delay =
      slot.failures === 0
        ? 0
        : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (slot.failures - 1));
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      this.dial(slot);
    }, delay);
    return delay;
  }
}

/** True when `error` says the session has no stream IDs left (open a new session). */
export function isGoAway(error: unknown): boolean {
  return error instanceof MuxError && error.code === "MUX_ERR_GO_AWAY";
}
