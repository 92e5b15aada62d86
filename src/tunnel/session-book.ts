/**
 * The smux sessions of one tunnel side: their numbers (`session 3` in every log line that
 * concerns it), the live ones, and running totals over live and closed sessions for the STATS
 * line and the metrics endpoint.
 *
 * Totals are read at stats and scrape time only: a live session's counters (src/mux
 * counters.ts) are added to those of the closed ones then, so nothing is counted per frame
 * here.
 */
import type { MuxError, Session, SessionCounters } from "../mux/index.ts";
import type { SessionStats } from "./tunnel-events.ts";

/** One session as the tunnel knows it. */
export interface SessionRecord {
  /** 1, 2, 3, ... in the order sessions came up on this side. */
  readonly serial: number;
  readonly session: Session;
  /** `host:port` of the other side. */
  readonly peer: string;
  /** performance.now() when it came up (ms). */
  readonly upAt: number;
}

/** The counters the tunnel reports, summed over sessions. */
export type SessionTotals = Pick<
  SessionCounters,
  | "streamsOpened"
  | "streamsAccepted"
  | "framesIn"
  | "framesOut"
  | "bytesIn"
  | "bytesOut"
  | "readPauses"
  | "keepAlivesSent"
>;

const TOTAL_KEYS: readonly (keyof SessionTotals)[] = [
  "streamsOpened",
  "streamsAccepted",
  "framesIn",
  "framesOut",
  "bytesIn",
  "bytesOut",
  "readPauses",
  "keepAlivesSent",
];

function zeroTotals(): SessionTotals {
  return {
    streamsOpened: 0,
    streamsAccepted: 0,
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    readPauses: 0,
    keepAlivesSent: 0,
  };
}

export class SessionBook {
  readonly live = new Set<SessionRecord>();
  /** Sessions that came up, in total. */
  opened = 0;
  /** Closed sessions by the code of their cause (MUX_ERR_KEEPALIVE_TIMEOUT, ...). */
  readonly closedByCode = new Map<string, number>();
  /** Failed dials (client side). */
  dialFailures = 0;
  private nextSerial = 1;
  private readonly closedTotals = zeroTotals();

  /** A session came up: numbers it and keeps it until `closed`. */
  add(session: Session, peer: string): SessionRecord {
    const record: SessionRecord = {
      serial: this.nextSerial++,
      session,
      peer,
      upAt: performance.now(),
    };
    this.live.add(record);
    this.opened++;
    return record;
  }

  /** The session ended with `cause`: its counters join the totals of closed sessions. */
  closed(record: SessionRecord, cause: MuxError): void {
    if (!this.live.delete(record)) return;
    this.closedByCode.set(cause.code, (this.closedByCode.get(cause.code) ?? 0) + 1);
    const counters = record.session.counters;
    for (const key of TOTAL_KEYS) this.closedTotals[key] += counters[key];
  }

  get closedCount(): number {
    let count = 0;
    for (const n of this.closedByCode.values()) count += n;
    return count;
  }

  /** Counters summed over every session so far, live ones included. */
  totals(): SessionTotals {
    const sum = { ...this.closedTotals };
    for (const record of this.live) {
      const counters = record.session.counters;
      for (const key of TOTAL_KEYS) sum[key] += counters[key];
    }
    return sum;
  }

  /** Streams open now across live sessions (including ones finishing their last frames). */
  openStreams(): number {
    let count = 0;
    for (const record of this.live) count += record.session.numStreams;
    return count;
  }

  /**
   * Session figures for the STATS line. `up` and `slots` come from the side: the client counts
   * its pool, the server the sessions it holds (and has no slots).
   */
  stats(up: number, slots: number): SessionStats {
    return {
      up,
      slots,
      streams: this.openStreams(),
      opened: this.opened,
      closed: this.closedCount,
      dialFailures: this.dialFailures,
    };
  }

  /** Closes every live session with `reason`. */
  closeAll(reason: string): void {
    for (const record of [...this.live]) record.session.close(reason);
  }
}
