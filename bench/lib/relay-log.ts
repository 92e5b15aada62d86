/**
 * What this project's relay wrote about a bench run, read back from its log (stdout of the
 * relay the bench spawned): the subscribers it cut (CLOSE ... reason=slow_consumer or
 * write_timeout), each STALL (publishers held by one subscriber for --stall-timeout), and the
 * totals on the BYE line (Pauses=, Held=, Stalls=, SlowConsumers=, WriteTimeouts=).
 * Both log formats are read: `text` (an ISO timestamp first) and `json` (one object a line).
 *
 * Pure: lines in, records out, then one summary with times relative to the bench's
 * publishing start. Lines of other relays (the Go relay, nats-server, the sink) are not
 * recognized, and a run without our LISTEN line has no summary at all.
 */

export type CutReason = "slow_consumer" | "write_timeout";

export type RelayLogRecord =
  | { kind: "listen"; ms: number; side: "publisher" | "subscriber"; port: number }
  | { kind: "cut"; ms: number; peer: string; reason: CutReason; droppedBytes: number }
  | { kind: "stall"; ms: number; peer: string; heldMs: number; pendingBytes: number }
  | { kind: "bye"; ms: number; totals: RelayTotals };

/** The totals on the relay's BYE line. Held and Stalls are null when the line has none. */
export interface RelayTotals {
  slowConsumers: number;
  writeTimeouts: number;
  pauses: number;
  heldSec: number | null;
  stalls: number | null;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/;
const LISTEN = /^LISTEN (publisher|subscriber)s on \S+:(\d+)$/;
const CUT = /^CLOSE subscriber (\S+) reason=(slow_consumer|write_timeout)(?: dropped=(\d+)B)?/;
const STALL =
  /^STALL subscriber (\S+) held publishers for (\d+(?:\.\d+)?) ms(?:.*backlog (\d+) B)?/;
const COUNTER = (name: string) => new RegExp(`\\b${name}=(\\d+(?:\\.\\d+)?)(s?)\\b`);

function counter(text: string, name: string): number | null {
  const m = COUNTER(name).exec(text);
  return m ? Number(m[1]) : null;
}

function parseTextTotals(text: string): RelayTotals | undefined {
  const slowConsumers = counter(text, "SlowConsumers");
  const writeTimeouts = counter(text, "WriteTimeouts");
  const pauses = counter(text, "Pauses");
  if (slowConsumers === null || writeTimeouts === null || pauses === null) return undefined;
  return {
    slowConsumers,
    writeTimeouts,
    pauses,
    heldSec: counter(text, "Held"),
    stalls: counter(text, "Stalls"),
  };
}

function parseText(ms: number, text: string): RelayLogRecord | undefined {
  const listen = LISTEN.exec(text);
  if (listen) {
    const side = listen[1] as "publisher" | "subscriber";
    return { kind: "listen", ms, side, port: Number(listen[2]) };
  }
  const cut = CUT.exec(text);
  if (cut) {
    return {
      kind: "cut",
      ms,
      peer: cut[1] as string,
      reason: cut[2] as CutReason,
      droppedBytes: cut[3] === undefined ? 0 : Number(cut[3]),
    };
  }
  const stall = STALL.exec(text);
  if (stall) {
    return {
      kind: "stall",
      ms,
      peer: stall[1] as string,
      heldMs: Number(stall[2]),
      pendingBytes: stall[3] === undefined ? 0 : Number(stall[3]),
    };
  }
  if (text.startsWith("BYE ")) {
    const totals = parseTextTotals(text);
    if (totals) return { kind: "bye", ms, totals };
  }
  return undefined;
}

const num = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : null;

/** `--log-format json`: the same events, with the relay's own field names. */
function parseJson(line: string): RelayLogRecord | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (record === null || typeof record !== "object" || typeof record.ts !== "string") {
    return undefined;
  }
  const ms = Date.parse(record.ts);
  if (Number.isNaN(ms)) return undefined;
  switch (record.event) {
    case "listening": {
      const port = num(record.port);
      if (port === null || (record.side !== "publisher" && record.side !== "subscriber")) break;
      return { kind: "listen", ms, side: record.side, port };
    }
    case "close":
      if (
        record.side === "subscriber" &&
        typeof record.peer === "string" &&
        (record.reason === "slow_consumer" || record.reason === "write_timeout")
      ) {
        return {
          kind: "cut",
          ms,
          peer: record.peer,
          reason: record.reason,
          droppedBytes: num(record.droppedBytes) ?? 0,
        };
      }
      break;
    case "stall_expired": {
      const heldMs = num(record.heldMs);
      if (typeof record.peer !== "string" || heldMs === null) break;
      return {
        kind: "stall",
        ms,
        peer: record.peer,
        heldMs,
        pendingBytes: num(record.pendingBytes) ?? 0,
      };
    }
    case "shutdown_finished": {
      const t = record.totals as Record<string, unknown> | undefined;
      if (t === undefined || t === null || typeof t !== "object") break;
      const slowConsumers = num(t.slowConsumerDisconnects);
      const writeTimeouts = num(t.writeTimeouts);
      const pauses = num(t.publisherPauses);
      if (slowConsumers === null || writeTimeouts === null || pauses === null) break;
      const heldMs = num(t.publishersHeldMs);
      return {
        kind: "bye",
        ms,
        totals: {
          slowConsumers,
          writeTimeouts,
          pauses,
          heldSec: heldMs === null ? null : heldMs / 1000,
          stalls: num(t.stallTimeouts),
        },
      };
    }
  }
  return undefined;
}

/** One line of the relay's log as a record, or undefined for a line that says nothing we read. */
export function parseRelayLogLine(line: string): RelayLogRecord | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith("{")) return parseJson(trimmed);
  const stamped = TIMESTAMP.exec(trimmed);
  if (!stamped) return undefined;
  const ms = Date.parse(stamped[1] as string);
  if (Number.isNaN(ms)) return undefined;
  return parseText(ms, stamped[2] as string);
}

/** The port of a `host:port` or `[v6]:port` peer, or undefined. */
export function peerPort(peer: string): number | undefined {
  const m = /:(\d+)$/.exec(peer);
  return m ? Number(m[1]) : undefined;
}

/** Who a subscriber connection is, by its local port: an extra kind, or "counted" when unknown. */
export type PeerKinds = ReadonlyMap<number, string>;

export interface RelayLogCut {
  peer: string;
  /** The extra subscriber's kind (stalled, slow-reader, pausing, idle), or "counted". */
  who: string;
  reason: CutReason;
  /** Seconds after the bench's publishing start (negative: before it). */
  atSec: number;
  droppedBytes: number;
}

export interface RelayLogStall {
  peer: string;
  who: string;
  atSec: number;
  heldMs: number;
}

export interface RelayLogSummary {
  cuts: RelayLogCut[];
  stalls: RelayLogStall[];
  /** The longest hold one STALL line reports, ms; null when there was none. */
  maxStallHeldMs: number | null;
  /** From the BYE line; null when the relay wrote none (killed, or a format we do not read). */
  totals: RelayTotals | null;
}

/**
 * The summary of a run's records, or null when none of them is our relay's (no LISTEN line):
 * then the relay was someone else's, or its log was not read.
 */
export function summarizeRelayLog(
  records: readonly RelayLogRecord[],
  publishStartMs: number,
  kinds: PeerKinds = new Map(),
): RelayLogSummary | null {
  if (!records.some((r) => r.kind === "listen")) return null;
  const who = (peer: string) => kinds.get(peerPort(peer) ?? -1) ?? "counted";
  const atSec = (ms: number) => Math.round(ms - publishStartMs) / 1000;
  const cuts: RelayLogCut[] = [];
  const stalls: RelayLogStall[] = [];
  let totals: RelayTotals | null = null;
  for (const r of records) {
    if (r.kind === "cut") {
      cuts.push({
        peer: r.peer,
        who: who(r.peer),
        reason: r.reason,
        atSec: atSec(r.ms),
        droppedBytes: r.droppedBytes,
      });
    } else if (r.kind === "stall") {
      stalls.push({ peer: r.peer, who: who(r.peer), atSec: atSec(r.ms), heldMs: r.heldMs });
    } else if (r.kind === "bye") {
      totals = r.totals;
    }
  }
  return {
    cuts,
    stalls,
    maxStallHeldMs: stalls.length === 0 ? null : Math.max(...stalls.map((s) => s.heldMs)),
    totals,
  };
}

/** Seconds after publishing start at which the first subscriber of kind `who` was cut, or undefined. */
export function firstCutOf(summary: RelayLogSummary, who: string): number | undefined {
  const times = summary.cuts.filter((c) => c.who === who).map((c) => c.atSec);
  return times.length === 0 ? undefined : Math.min(...times);
}

const grouped = (n: number) => n.toLocaleString("en-US");
const signed = (sec: number) => `${sec < 0 ? "-" : "+"}${Math.abs(sec).toFixed(2)} s`;

/**
 * One line for the text report, e.g.
 * `Relay: cut 1 subscriber (stalled: slow_consumer at +0.41 s); stall timeouts 1 (longest 251 ms); publishers held 2,314 times, 0.262 s in total`.
 */
export function formatRelayLog(summary: RelayLogSummary | null): string {
  if (summary === null)
    return "Relay: log not read (not this project's relay, or not started by the bench)";
  const n = summary.cuts.length;
  const shown = summary.cuts.slice(0, 5).map((c) => {
    const who = c.who === "counted" ? "" : `${c.who}: `;
    return `${who}${c.reason} at ${signed(c.atSec)}`;
  });
  if (n > shown.length) shown.push(`${n - shown.length} more`);
  const cuts =
    n === 0
      ? "cut no subscriber"
      : `cut ${n} subscriber${n === 1 ? "" : "s"} (${shown.join(", ")})`;
  const t = summary.totals;
  const stallCount = t?.stalls ?? summary.stalls.length;
  const longest =
    summary.maxStallHeldMs === null ? "" : ` (longest ${grouped(summary.maxStallHeldMs)} ms)`;
  const parts = [cuts, `stall timeouts ${stallCount}${longest}`];
  if (t === null) parts.push("no BYE line (totals unknown)");
  else {
    const held = t.heldSec === null ? "" : `, ${t.heldSec.toFixed(3)} s in total`;
    parts.push(`publishers held ${grouped(t.pauses)} time${t.pauses === 1 ? "" : "s"}${held}`);
  }
  return `Relay: ${parts.join("; ")}`;
}

/**
 * Collects records from a stream of log text as it arrives (lines may be split across chunks).
 * `lines` counts every line read, recognized or not.
 */
export class RelayLogReader {
  readonly records: RelayLogRecord[] = [];
  lines = 0;
  private tail = "";

  push(text: string): void {
    const parts = (this.tail + text).split("\n");
    this.tail = parts.pop() ?? "";
    for (const line of parts) this.line(line);
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.tail !== "") this.line(this.tail);
    this.tail = "";
  }

  private line(line: string): void {
    this.lines++;
    const record = parseRelayLogLine(line);
    if (record !== undefined) this.records.push(record);
  }
}
