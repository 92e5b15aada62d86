/**
 * Reads the relay's log lines (README, "Log lines") back into records, and files them per
 * subscriber connection in a ledger. The soak attributes a loss only to what the relay
 * itself wrote down: a CLOSE with reason=slow_consumer or write_timeout, or a DROP episode.
 *
 * Pure: lines in, records out. Unknown lines are kept as "other" rather than rejected, so a
 * new log line in the relay does not break the soak.
 */

/** Counters of one STATS line, or of the totals on the BYE line. */
export interface RelayStats {
  seconds: number;
  received: number;
  sent: number;
  subscribers: number;
  publishers: number;
  slowConsumers: number;
  writeTimeouts: number;
  dropped: number;
  pauses: number;
  pendingBytes: number;
}

export type RelayLogRecord =
  | { kind: "listen"; ms: number; side: "publisher" | "subscriber"; host: string; port: number }
  | { kind: "open"; ms: number; side: "publisher" | "subscriber"; peer: string }
  | {
      kind: "close";
      ms: number;
      side: "publisher" | "subscriber";
      peer: string;
      reason: string;
      droppedBytes: number;
      detail: string | undefined;
    }
  | { kind: "drop"; ms: number; peer: string; messages: number; bytes: number; total: number }
  | { kind: "stats"; ms: number; stats: RelayStats }
  | { kind: "bye"; ms: number; allFlushed: boolean; totals: RelayStats }
  | { kind: "other"; ms: number; text: string };

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$/;
const LISTEN = /^LISTEN (publisher|subscriber)s on (.+):(\d+)$/;
const OPEN = /^OPEN (publisher|subscriber) (\S+)$/;
const CLOSE = /^CLOSE (publisher|subscriber) (\S+) reason=(\w+)(?: dropped=(\d+)B)?(?: \((.*)\))?$/;
const DROP = /^DROP (\d+) messages \((\d+) B\) for slow subscriber (\S+) \(total (\d+)\)$/;
const STATS =
  /Interval (\d+)s \| Recv: (\d+) \([\d.]+\/s\), Sent: (\d+) \([\d.]+\/s\) \| SendConn=(\d+) RecvConn=(\d+) \| SlowConsumers=(\d+) WriteTimeouts=(\d+) Dropped=(\d+) Pauses=(\d+) .*Pending=(\d+)B/;

function parseStats(text: string): RelayStats | undefined {
  const m = STATS.exec(text);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i]);
  return {
    seconds: n(1),
    received: n(2),
    sent: n(3),
    subscribers: n(4),
    publishers: n(5),
    slowConsumers: n(6),
    writeTimeouts: n(7),
    dropped: n(8),
    pauses: n(9),
    pendingBytes: n(10),
  };
}

/** One relay log line as a record, or undefined for a line without a timestamp. */
export function parseRelayLine(line: string): RelayLogRecord | undefined {
  const stamped = TIMESTAMP.exec(line);
  if (!stamped) return undefined;
  const ms = Date.parse(stamped[1] as string);
  const text = stamped[2] as string;
  const listen = LISTEN.exec(text);
  if (listen) {
    const side = listen[1] as "publisher" | "subscriber";
    return { kind: "listen", ms, side, host: listen[2] as string, port: Number(listen[3]) };
  }
  const open = OPEN.exec(text);
  if (open) {
    return {
      kind: "open",
      ms,
      side: open[1] as "publisher" | "subscriber",
      peer: open[2] as string,
    };
  }
  const close = CLOSE.exec(text);
  if (close) {
    return {
      kind: "close",
      ms,
      side: close[1] as "publisher" | "subscriber",
      peer: close[2] as string,
      reason: close[3] as string,
      droppedBytes: close[4] === undefined ? 0 : Number(close[4]),
      detail: close[5],
    };
  }
  const drop = DROP.exec(text);
  if (drop) {
    return {
      kind: "drop",
      ms,
      peer: drop[3] as string,
      messages: Number(drop[1]),
      bytes: Number(drop[2]),
      total: Number(drop[4]),
    };
  }
  if (text.startsWith("STATS ")) {
    const stats = parseStats(text);
    if (stats) return { kind: "stats", ms, stats };
  }
  if (text.startsWith("BYE ")) {
    const totals = parseStats(text);
    if (totals)
      return { kind: "bye", ms, allFlushed: text.includes("all queued data flushed"), totals };
  }
  return { kind: "other", ms, text };
}

/** What the relay logged about one subscriber connection, from OPEN to CLOSE. */
export interface RelaySubscriberRecord {
  peer: string;
  openMs: number;
  close:
    | { ms: number; reason: string; droppedBytes: number; detail: string | undefined }
    | undefined;
  /** Policy drop: the DROP episodes logged for this connection. */
  dropEpisodes: number;
  dropMessages: number;
  dropBytes: number;
}

/**
 * Every record of a run, with subscriber connections filed by peer. A peer (127.0.0.1:port)
 * can come back in a long run when the kernel reuses a port, so each peer keeps its
 * connections in order and a client asks for "the nth connection from this port".
 */
export class RelayLedger {
  readonly stats: { ms: number; stats: RelayStats }[] = [];
  readonly publisherCloses: Extract<RelayLogRecord, { kind: "close" }>[] = [];
  readonly others: string[] = [];
  bye: Extract<RelayLogRecord, { kind: "bye" }> | undefined;
  readonly listening = new Map<string, number>();
  private readonly subscribers = new Map<string, RelaySubscriberRecord[]>();

  add(record: RelayLogRecord): void {
    switch (record.kind) {
      case "listen":
        this.listening.set(record.side, record.port);
        return;
      case "open":
        if (record.side === "subscriber") this.openSubscriber(record.peer, record.ms);
        return;
      case "close":
        if (record.side === "publisher") this.publisherCloses.push(record);
        else this.closeSubscriber(record);
        return;
      case "drop": {
        const session = this.latest(record.peer);
        if (session) {
          session.dropEpisodes++;
          session.dropMessages += record.messages;
          session.dropBytes += record.bytes;
        } else {
          this.others.push(`DROP for a subscriber never seen opening: ${record.peer}`);
        }
        return;
      }
      case "stats":
        this.stats.push({ ms: record.ms, stats: record.stats });
        return;
      case "bye":
        this.bye = record;
        return;
      case "other":
        this.others.push(record.text);
        return;
    }
  }

  /** The `nth` (0-based) connection the relay logged from `peer`. */
  subscriber(peer: string, nth: number): RelaySubscriberRecord | undefined {
    return this.subscribers.get(peer)?.[nth];
  }

  /** Every subscriber connection logged, in no particular order. */
  allSubscribers(): RelaySubscriberRecord[] {
    return [...this.subscribers.values()].flat();
  }

  private openSubscriber(peer: string, ms: number): void {
    const list = this.subscribers.get(peer) ?? [];
    list.push({
      peer,
      openMs: ms,
      close: undefined,
      dropEpisodes: 0,
      dropMessages: 0,
      dropBytes: 0,
    });
    this.subscribers.set(peer, list);
  }

  private closeSubscriber(record: Extract<RelayLogRecord, { kind: "close" }>): void {
    const session = this.latest(record.peer);
    if (!session || session.close) {
      // A connection refused at accept (--max-conns) or closed during shutdown before OPEN.
      this.others.push(`CLOSE for a subscriber never seen opening: ${record.peer}`);
      return;
    }
    const { ms, reason, droppedBytes, detail } = record;
    session.close = { ms, reason, droppedBytes, detail };
  }

  private latest(peer: string): RelaySubscriberRecord | undefined {
    const list = this.subscribers.get(peer);
    return list?.[list.length - 1];
  }
}
