/**
 * How `bun run bench:compare` judges a scenario: the figures read from each run, their
 * medians per contender, ratios, and the verdict of each kind of goal (scenarios.ts declares
 * the scenarios and their goals). Pure arithmetic, tested without running anything.
 */
import { firstCutOf } from "../lib/relay-log.ts";
import type { BenchResult } from "../report/bench-result.ts";
import type { Goal } from "./scenarios.ts";

export interface Figure {
  label: string;
  pick: (r: BenchResult) => number;
  /** Whether a bigger value is better (rates) or worse (latency, loss). */
  higherIsBetter: boolean;
}

export const FIGURES: readonly Figure[] = [
  { label: "sent msg/s", pick: (r) => r.sentRate, higherIsBetter: true },
  { label: "recv msg/s", pick: (r) => r.receivedRate, higherIsBetter: true },
  { label: "avg ms", pick: (r) => r.latencyMs.avgMs, higherIsBetter: false },
  { label: "p50 ms", pick: (r) => r.latencyMs.p50Ms, higherIsBetter: false },
  { label: "p90 ms", pick: (r) => r.latencyMs.p90Ms, higherIsBetter: false },
  { label: "p99 ms", pick: (r) => r.latencyMs.p99Ms, higherIsBetter: false },
  { label: "p99.9 ms", pick: (r) => r.latencyMs.p999Ms, higherIsBetter: false },
  {
    label: "corrected p99 ms",
    pick: (r) => r.correctedLatencyMs?.p99Ms ?? Number.NaN,
    higherIsBetter: false,
  },
  { label: "lost", pick: (r) => r.lost, higherIsBetter: false },
  { label: "disconnected", pick: (r) => r.disconnectedSubscribers, higherIsBetter: false },
  { label: "relay CPU %", pick: (r) => r.relayCpuPct ?? Number.NaN, higherIsBetter: false },
  { label: "client CPU %", pick: (r) => r.clientCpuPct ?? Number.NaN, higherIsBetter: false },
  { label: "relay RSS MB", pick: (r) => r.relayRssMb ?? Number.NaN, higherIsBetter: false },
  // From our relay's log (NaN for other relays): issue 11.
  {
    label: "subscribers cut",
    pick: (r) => r.relayLog?.cuts.length ?? Number.NaN,
    higherIsBetter: false,
  },
  {
    label: "counted cut",
    pick: (r) => r.relayLog?.cuts.filter((c) => c.who === "counted").length ?? Number.NaN,
    higherIsBetter: false,
  },
  { label: "extra cut at s", pick: extraCutAtSec, higherIsBetter: false },
  {
    label: "extra closed at s (client)",
    pick: (r) => {
      const extras = r.extraSubscribers ?? [];
      if (extras.length === 0) return Number.NaN;
      const seen = extras.flatMap((e) => (e.closedAtSec === null ? [] : [e.closedAtSec]));
      return seen.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...seen);
    },
    higherIsBetter: false,
  },
  {
    label: "stall timeouts",
    pick: (r) =>
      r.relayLog ? (r.relayLog.totals?.stalls ?? r.relayLog.stalls.length) : Number.NaN,
    higherIsBetter: false,
  },
  {
    label: "longest STALL ms",
    pick: (r) => (r.relayLog ? (r.relayLog.maxStallHeldMs ?? 0) : Number.NaN),
    higherIsBetter: false,
  },
  {
    label: "publisher holds",
    pick: (r) => r.relayLog?.totals?.pauses ?? Number.NaN,
    higherIsBetter: false,
  },
  {
    label: "held s",
    pick: (r) => r.relayLog?.totals?.heldSec ?? Number.NaN,
    higherIsBetter: false,
  },
  // Issue 12: SubmitAcks (frame mode of the bench, and frame_load); NaN without frames.
  { label: "acks/s", pick: (r) => r.acks?.rate ?? Number.NaN, higherIsBetter: true },
  {
    label: "ack p50 ms",
    pick: (r) => r.acks?.latencyMs.p50Ms ?? Number.NaN,
    higherIsBetter: false,
  },
  {
    label: "ack p99 ms",
    pick: (r) => r.acks?.latencyMs.p99Ms ?? Number.NaN,
    higherIsBetter: false,
  },
  {
    label: "ack p99.9 ms",
    pick: (r) => r.acks?.latencyMs.p999Ms ?? Number.NaN,
    higherIsBetter: false,
  },
  {
    label: "bad acks",
    pick: (r) => (r.acks ? r.acks.failed + r.acks.outOfOrder + r.acks.errors : Number.NaN),
    higherIsBetter: false,
  },
  { label: "unacked", pick: (r) => r.acks?.unacked ?? Number.NaN, higherIsBetter: false },
];

/**
 * Seconds after publishing start at which our relay cut the first extra subscriber (stalled,
 * slow reader, pausing), from its log: Infinity when it cut none, NaN when the run had no
 * extra subscriber or no log of ours. Infinity, not NaN, so that medians count a run without
 * a cut instead of skipping it.
 */
export function extraCutAtSec(r: BenchResult): number {
  // Results written before the relay log was read have neither field.
  const log = r.relayLog ?? null;
  const extras = r.extraSubscribers ?? [];
  if (log === null || extras.length === 0) return Number.NaN;
  const kinds = new Set(extras.map((e) => e.kind));
  const times = [...kinds].flatMap((k) => {
    const t = firstCutOf(log, k);
    return t === undefined ? [] : [t];
  });
  return times.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...times);
}

/** Medians of every figure, per contender label. */
export type Medians = Record<string, Record<string, number>>;

export function mediansOf(results: Record<string, BenchResult[]>): Medians {
  const out: Medians = {};
  for (const [label, runs] of Object.entries(results)) {
    const row: Record<string, number> = {};
    for (const figure of FIGURES) row[figure.label] = median(runs.map(figure.pick));
    out[label] = row;
  }
  return out;
}

export interface Verdict {
  pass: boolean;
  /** The figure the target is judged on, e.g. "ours/go 28.1 (>= 60)". */
  summary: string;
}

const fig = (m: Medians, label: string, figure: string) => m[label]?.[figure] ?? Number.NaN;

/** Whether a scenario's target holds, from the medians of its contenders. */
export function judge(goal: Goal, m: Medians): Verdict {
  switch (goal.kind) {
    case "ratio": {
      const vsGo = ratio(fig(m, "ours", "recv msg/s"), fig(m, "go", "recv msg/s"));
      const parts = [`ours/go ${formatRatio(vsGo)} (>= ${goal.min})`];
      let pass = vsGo >= goal.min && fig(m, "ours", "lost") === 0;
      if (goal.natsMin !== undefined && m.nats !== undefined) {
        const vsNats = ratio(fig(m, "ours", "recv msg/s"), fig(m, "nats", "recv msg/s"));
        parts.push(`ours/nats ${formatRatio(vsNats)} (>= ${goal.natsMin})`);
        pass &&= vsNats >= goal.natsMin;
      }
      return { pass, summary: parts.join(", ") };
    }
    case "keep-up": {
      const recv = fig(m, "ours", "recv msg/s");
      const lost = fig(m, "ours", "lost");
      const pass = recv >= 0.98 * goal.expected && lost === 0;
      return {
        pass,
        summary: `ours ${formatFigure(recv)} of ${formatFigure(goal.expected)} msg/s, lost ${formatFigure(lost)}`,
      };
    }
    case "latency": {
      const p50 = fig(m, "ours", "p50 ms");
      const p99 = fig(m, "ours", "p99 ms");
      const goP99 = fig(m, "go", "p99 ms");
      const aims = p50 <= goal.aimP50Ms && p99 <= goal.aimP99Ms ? "aims met" : "aims not met";
      return {
        pass: p99 <= goP99,
        summary: `p99 ours ${formatFigure(p99)} vs go ${formatFigure(goP99)} ms; p50 ${formatFigure(p50)} (aim ${goal.aimP50Ms}), p99 aim ${goal.aimP99Ms}: ${aims}`,
      };
    }
    case "rss": {
      const rss = fig(m, "ours", "relay RSS MB");
      return {
        pass: rss <= goal.maxMb,
        summary: `ours ${formatFigure(rss)} MB (<= ${goal.maxMb})`,
      };
    }
    case "paced": {
      const s = goal.subject;
      const share = ratio(fig(m, s, "recv msg/s"), fig(m, goal.reference, "recv msg/s"));
      const lost = fig(m, s, "lost");
      const disc = fig(m, s, "disconnected");
      const cut = fig(m, s, "subscribers cut");
      const pass = share >= goal.minShare && lost === 0 && disc === 0 && !(cut > 0);
      return {
        pass,
        summary:
          `${s} ${formatPercent(share)} of ${goal.reference} recv (>= ${formatPercent(goal.minShare)}), ` +
          `lost ${formatFigure(lost)}, disconnected ${formatFigure(disc)}, cut ${formatFigure(cut)}; ` +
          `held ${formatFigure(fig(m, s, "publisher holds"))} times, ${formatFigure(fig(m, s, "held s"))} s`,
      };
    }
    case "stuck": {
      const s = goal.subject;
      const cutAt = fig(m, s, "extra cut at s");
      const share = ratio(fig(m, s, "recv msg/s"), fig(m, goal.reference, "recv msg/s"));
      const lost = fig(m, s, "lost");
      const disc = fig(m, s, "disconnected");
      const pass = cutAt <= goal.cutWithinSec && lost === 0 && disc === 0 && share >= goal.minShare;
      return {
        pass,
        summary:
          `${goal.extra} one cut at +${formatFigure(cutAt)} s (<= ${goal.cutWithinSec}); ` +
          `healthy lost ${formatFigure(lost)}, disconnected ${formatFigure(disc)}; ` +
          `recv ${formatPercent(share)} of ${goal.reference} (>= ${formatPercent(goal.minShare)}); ` +
          `stall timeouts ${formatFigure(fig(m, s, "stall timeouts"))}, held ${formatFigure(fig(m, s, "held s"))} s`,
      };
    }
    case "slow-reader": {
      const s = goal.subject;
      const cutAt = fig(m, s, "extra cut at s");
      const longest = fig(m, s, "longest STALL ms");
      const limit = goal.stallTimeoutMs + goal.slackMs;
      const lost = fig(m, s, "lost");
      const disc = fig(m, s, "disconnected");
      const pass = Number.isFinite(cutAt) && longest <= limit && lost === 0 && disc === 0;
      return {
        pass,
        summary:
          `${goal.extra} cut at +${formatFigure(cutAt)} s; longest STALL ${formatFigure(longest)} ms ` +
          `(<= ${goal.stallTimeoutMs} + ${goal.slackMs}), stall timeouts ${formatFigure(fig(m, s, "stall timeouts"))}; ` +
          `held ${formatFigure(fig(m, s, "publisher holds"))} times, ${formatFigure(fig(m, s, "held s"))} s in total; ` +
          `healthy lost ${formatFigure(lost)}, disconnected ${formatFigure(disc)}`,
      };
    }
    case "no-cut": {
      const parts: string[] = [];
      let pass = true;
      for (const [label, expected] of goal.runs) {
        const cut = fig(m, label, "subscribers cut");
        const recv = fig(m, label, "recv msg/s");
        const lost = fig(m, label, "lost");
        const disc = fig(m, label, "disconnected");
        pass &&= cut === 0 && lost === 0 && disc === 0 && recv >= 0.98 * expected;
        parts.push(
          `${label}: cut ${formatFigure(cut)}, lost ${formatFigure(lost)}, disconnected ${formatFigure(disc)}, ` +
            `recv ${formatFigure(recv)} of ${formatFigure(expected)} msg/s, ` +
            `held ${formatFigure(fig(m, label, "publisher holds"))} times (${formatFigure(fig(m, label, "held s"))} s), ` +
            `stall timeouts ${formatFigure(fig(m, label, "stall timeouts"))}`,
        );
      }
      return { pass, summary: parts.join("; ") };
    }
    case "acks": {
      const ours = fig(m, "ours", "acks/s");
      const go = fig(m, "go", "acks/s");
      const q = ratio(ours, go);
      const bad = fig(m, "ours", "bad acks") + fig(m, "ours", "unacked");
      let pass = q >= goal.min && bad === 0;
      const parts = [
        `ours/go ${formatRatio(q)} (>= ${goal.min}): ${formatFigure(ours)} vs ${formatFigure(go)} acks/s`,
      ];
      if (goal.p99NoWorse) {
        const p99 = fig(m, "ours", "ack p99 ms");
        const goP99 = fig(m, "go", "ack p99 ms");
        pass &&= p99 <= goP99;
        parts.push(`ack p99 ours ${formatFigure(p99)} vs go ${formatFigure(goP99)} ms (no worse)`);
      }
      parts.push(
        `bad or missing acks ours ${formatFigure(bad)}, go ${formatFigure(fig(m, "go", "bad acks") + fig(m, "go", "unacked"))}`,
      );
      return { pass, summary: parts.join("; ") };
    }
    case "framing": {
      const s = goal.subject;
      const r = goal.reference;
      const share = ratio(fig(m, s, "recv msg/s"), fig(m, r, "recv msg/s"));
      const lost = fig(m, s, "lost") + fig(m, r, "lost");
      const bad = fig(m, s, "bad acks") + fig(m, s, "unacked");
      const pass = share >= goal.minShare && lost === 0 && bad === 0;
      return {
        pass,
        summary:
          `${s} ${formatPercent(share)} of ${r} recv (>= ${formatPercent(goal.minShare)}): ` +
          `${formatFigure(fig(m, s, "recv msg/s"))} vs ${formatFigure(fig(m, r, "recv msg/s"))} msg/s; ` +
          `lost ${formatFigure(lost)}, bad or missing acks ${formatFigure(bad)}`,
      };
    }
    case "vs-nats": {
      const s = goal.subject;
      const q = ratio(fig(m, s, "recv msg/s"), fig(m, "nats", "recv msg/s"));
      const lost = fig(m, s, "lost");
      // Issue 21.b: the round trip's p99 must not be worse than nats-server's either.
      const p99 = [fig(m, s, "p99 ms"), fig(m, "nats", "p99 ms")] as const;
      const p99Holds = goal.p99NoWorse !== true || p99[0] <= p99[1];
      const p99Text =
        goal.p99NoWorse === true
          ? `p99 ${formatFigure(p99[0])} vs ${formatFigure(p99[1])} ms (no worse: ${p99Holds ? "yes" : "no"}); `
          : "";
      return {
        pass: q >= goal.min && lost === 0 && p99Holds,
        summary:
          `${s}/nats ${formatRatio(q)} (>= ${goal.min}): ${p99Text}${formatFigure(fig(m, s, "recv msg/s"))} vs ` +
          `${formatFigure(fig(m, "nats", "recv msg/s"))} msg/s; lost ${formatFigure(lost)} vs ` +
          `${formatFigure(fig(m, "nats", "lost"))}, disconnected ${formatFigure(fig(m, s, "disconnected"))} vs ` +
          `${formatFigure(fig(m, "nats", "disconnected"))}; server CPU ${formatPercentOfCore(fig(m, s, "relay CPU %"))} vs ` +
          `${formatPercentOfCore(fig(m, "nats", "relay CPU %"))}`,
      };
    }
    case "rss-vs-nats": {
      const s = goal.subject;
      const rss = [fig(m, s, "relay RSS MB"), fig(m, "nats", "relay RSS MB")] as const;
      const lost = [fig(m, s, "lost"), fig(m, "nats", "lost")] as const;
      return {
        pass: rss.every(Number.isFinite) && lost[0] === 0 && lost[1] === 0,
        summary:
          `RSS ${s} ${formatFigure(rss[0])} MB vs nats ${formatFigure(rss[1])} MB ` +
          `(${s}/nats ${formatRatio(ratio(rss[0], rss[1]))}, reported); unconfirmed ` +
          `${formatFigure(lost[0])} vs ${formatFigure(lost[1])}`,
      };
    }
    case "stall": {
      const parts: string[] = [];
      let pass = true;
      for (const [stalled, clean] of goal.pairs) {
        const share = ratio(fig(m, stalled, "recv msg/s"), fig(m, clean, "recv msg/s"));
        parts.push(`${stalled}: ${formatPercent(share)} of ${clean}`);
        if (stalled.startsWith("ours")) pass &&= share >= goal.minShare;
      }
      return { pass, summary: parts.join("; ") };
    }
  }
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The order relays run in for round `round`: A B, B A, B A, A B, ... (ABBA).
 * Odd rounds reverse the even round before them, and the starting relay
 * rotates every two rounds, so no relay always runs first, or always right
 * after the same other one, on a warming or cooling machine.
 */
export function roundOrder<T>(relays: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2);
  const rotated = relays.map((_, i) => relays[(i + shift) % relays.length] as T);
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

/** ours / peer, or NaN when undefined. */
export function ratio(ours: number, peer: number): number {
  if (!Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0) return Number.NaN;
  return ours / peer;
}

export function formatRatio(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function formatPercent(share: number): string {
  return Number.isNaN(share) ? "n/a" : `${Math.round(share * 100)}%`;
}

/** CPU in percent of one core, whole: `127%`, or n/a. */
export function formatPercentOfCore(pct: number): string {
  return Number.isNaN(pct) ? "n/a" : `${Math.round(pct)}%`;
}

export function formatFigure(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (value === Number.POSITIVE_INFINITY) return "never";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(3);
}

/**
 * The figure a scenario's table row shows (and its ratio compares): p99, RSS, acks/s or
 * recv msg/s.
 */
export function headlineFigure(goal: Goal): string {
  switch (goal.kind) {
    case "latency":
      return "p99 ms";
    case "rss":
    case "rss-vs-nats":
      return "relay RSS MB";
    case "acks":
      return "acks/s";
    default:
      return "recv msg/s";
  }
}
