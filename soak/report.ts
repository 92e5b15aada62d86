/**
 * The soak's verdict and its text report. `judge` is pure: it turns the run's findings into
 * the list of reasons to fail (empty: pass), so the pass/fail rule is tested without a run.
 */
import type { LossTotals, SessionAccount } from "./accounting.ts";
import type { RelayLedger } from "./relay-log.ts";
import { type RssSample, rssTable, type TrendVerdict } from "./rss-trend.ts";
import type { SlowOutcome } from "./scenario.ts";

export interface SoakFindings {
  accounts: SessionAccount[];
  totals: LossTotals;
  /** Messages all publishers sent. */
  published: number;
  /** The relay's own count of messages received (its BYE line), if it logged one. */
  relayReceived: number | undefined;
  /** How the relay process ended: its exit code, or a signal name. */
  relayExit: number | string;
  /** The relay exited before the soak stopped it. */
  relayDiedEarly: boolean;
  /** Publisher CLOSE lines other than a clean peer_closed that lost nothing. */
  publisherCloseProblems: string[];
  /** Steps of the load that failed (a subscriber could not connect, ...). */
  scenarioProblems: string[];
  trend: TrendVerdict;
}

/** Why the soak fails; empty when it passes. */
export function judge(findings: SoakFindings): string[] {
  const reasons: string[] = [];
  if (findings.relayDiedEarly) {
    reasons.push(`the relay exited during the run (${findings.relayExit})`);
  } else if (findings.relayExit !== 0) {
    reasons.push(`the relay exited with ${findings.relayExit} after SIGTERM, not 0`);
  }
  if (findings.totals.unaccounted > 0) {
    reasons.push(`${findings.totals.unaccounted} messages lost without a logged cause`);
  }
  if (findings.relayReceived === undefined) {
    reasons.push("the relay logged no BYE line with its totals");
  } else if (findings.relayReceived !== findings.published) {
    reasons.push(
      `the relay received ${findings.relayReceived} messages; the publishers sent ${findings.published}`,
    );
  }
  for (const problem of findings.publisherCloseProblems) reasons.push(problem);
  for (const problem of findings.scenarioProblems) reasons.push(`the load failed: ${problem}`);
  if (findings.trend.growing) reasons.push(findings.trend.explanation);
  return reasons;
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

function mib(value: number): string {
  return value.toFixed(1);
}

/** Columns of the per-subscriber table: heading and width (right-aligned unless negative). */
const COLUMNS: readonly [string, number][] = [
  ["id", 5],
  ["kind", -7],
  ["peer", -21],
  ["ending", -7],
  ["sent-while-on", 13],
  ["received", 9],
  ["joined-late", 11],
  ["left-in-flight", 14],
  ["cut (reason)", 20],
  ["dropped", 8],
  ["unaccounted", 11],
  ["relay-dropped-B", 15],
];

function row(cells: readonly (string | number)[]): string {
  return COLUMNS.map(([, width], i) => {
    const text = String(cells[i] ?? "");
    return width < 0 ? text.padEnd(-width) : text.padStart(width);
  }).join(" ");
}

/**
 * One line per subscriber connection: the messages published while it was connected (in)
 * and what became of them (out: received, or missing by cause).
 */
export function subscriberLines(accounts: readonly SessionAccount[]): string[] {
  const lines = [row(COLUMNS.map(([heading]) => heading))];
  for (const account of accounts) {
    const s = account.session;
    let sentWhileOn = 0;
    for (const [publisher, end] of s.sentAtEnd) {
      sentWhileOn += Math.max(0, end - (s.sentAtConnect.get(publisher) ?? 0));
    }
    lines.push(
      row([
        s.id,
        s.slow ? "slow" : "regular",
        s.peer,
        s.ending,
        sentWhileOn,
        account.received,
        account.joinedLate,
        account.leftInFlight,
        account.cutReason ? `${account.cut} ${account.cutReason}` : account.cut,
        account.dropped,
        account.unaccounted,
        account.relayDroppedBytes > 0 ? account.relayDroppedBytes : "-",
      ]),
    );
    for (const problem of account.problems) lines.push(`      ! ${problem}`);
  }
  return lines;
}

export function lossLines(totals: LossTotals, ledger: RelayLedger): string[] {
  const cuts = totals.cutBySlowConsumer + totals.cutByWriteTimeout;
  const dropEpisodes = ledger.allSubscribers().reduce((sum, s) => sum + s.dropEpisodes, 0);
  return [
    `subscriber connections: ${totals.sessions}, messages received: ${totals.received}`,
    "not owed (the subscriber was not there):",
    `  joined late (in flight when it connected):        ${pad(totals.joinedLate, 10)}`,
    `  left (in flight when it left at once or reset):   ${pad(totals.leftInFlight, 10)}`,
    "lost, with the relay's logged cause:",
    `  cut as a slow consumer (${cuts} cuts: slow_consumer ${totals.cutBySlowConsumer}, write_timeout ${totals.cutByWriteTimeout}): ${pad(totals.cut, 10)}`,
    `  dropped in DROP episodes (${dropEpisodes} episodes):        ${pad(totals.dropped, 10)}`,
    `lost without a cause (unaccounted):                 ${pad(totals.unaccounted, 10)}`,
  ];
}

export function rssLines(samples: readonly RssSample[], trend: TrendVerdict): string[] {
  const lines = [
    "relay RSS (MiB), VmRSS once a second while the load ran:",
    "    from     to     min  median     max",
  ];
  for (const row of rssTable(samples, 10)) {
    lines.push(
      `  ${pad(row.fromSec.toFixed(0), 5)}s ${pad(row.toSec.toFixed(0), 5)}s ${pad(mib(row.minMiB), 7)} ${pad(mib(row.medianMiB), 7)} ${pad(mib(row.maxMiB), 7)}`,
    );
  }
  const [q1, q2, q3, q4] = trend.quarterMediansMiB.map(mib);
  lines.push(
    `  quarter medians: ${q1} ${q2} ${q3} ${q4} MiB; Theil-Sen slope over the second half ${trend.slopeMiBPerMin.toFixed(2)} MiB/min`,
  );
  lines.push(`  ${trend.explanation}`);
  return lines;
}

/** What the relay said about load over the run, from its STATS lines. */
export function relayLoadLines(ledger: RelayLedger): string[] {
  const stats = ledger.stats.map((s) => s.stats);
  if (stats.length === 0) return ["relay: no STATS lines"];
  const sent = stats.map((s) => s.sent / (s.seconds || 1)).sort((a, b) => a - b);
  const recv = stats.map((s) => s.received / (s.seconds || 1)).sort((a, b) => a - b);
  const at = (list: number[], q: number) =>
    (list[Math.floor(q * (list.length - 1))] ?? 0).toFixed(0);
  const maxPending = Math.max(...stats.map((s) => s.pendingBytes));
  const maxSubs = Math.max(...stats.map((s) => s.subscribers));
  const last = stats[stats.length - 1];
  return [
    `relay STATS (${stats.length} lines): received msg/s median ${at(recv, 0.5)} (min ${at(recv, 0)}), ` +
      `delivered msg/s median ${at(sent, 0.5)} (min ${at(sent, 0)}), subscribers up to ${maxSubs}, ` +
      `pending up to ${maxPending} B`,
    `relay counters at the end: SlowConsumers=${last?.slowConsumers} WriteTimeouts=${last?.writeTimeouts} ` +
      `Dropped=${last?.dropped} Pauses=${last?.pauses}`,
  ];
}

/** The slow subscribers injected, and whether the relay had to act on them. */
export function slowLines(outcomes: readonly SlowOutcome[]): string[] {
  if (outcomes.length === 0) return ["slow subscribers: none"];
  const pauses = outcomes.map((o) => `${o.pausedSec.toFixed(1)}${o.long ? "L" : "S"}`).join(" ");
  const unanswered = outcomes.filter((o) => !o.backlogSeen && !o.cutWhilePaused).length;
  return [
    `slow subscribers: ${outcomes.length}, paused for (s; L = kept paused past --write-timeout, S = short): ${pauses}`,
    ...(unanswered > 0
      ? [
          `  ${unanswered} of them saw neither a backlog nor a cut before their pause ended ` +
            "(the load ending, or the 60 s cap)",
        ]
      : []),
  ];
}
