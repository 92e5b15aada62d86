/**
 * The scenarios of `bun run bench:compare`: one per target of issue 4, each
 * run against several contenders (this relay with given flags, the article's
 * Go relay, nats-server, the sink relay), and the rule that says whether the
 * target holds. Pure data and arithmetic (medians, ratios, verdicts), tested
 * without running anything.
 */
import { nativeCanRun } from "../native/native-result.ts";
import type { BenchResult } from "../report/bench-result.ts";

export type RelayKind = "ours" | "go" | "nats" | "sink";

export interface Contender {
  /** Unique within its scenario: names the column. */
  label: string;
  relay: RelayKind;
  /** Extra flags for this project's relay (kind "ours" only). */
  relayFlags?: string[];
  /** Extra flags for bench/main.ts (e.g. --stalled 1). */
  benchArgs?: string[];
}

/** How a scenario's target is judged from the contenders' medians. */
export type Goal =
  /** ours / go of recv msg/s at least `min`; ours / nats at least `natsMin` when nats ran. */
  | { kind: "ratio"; min: number; natsMin?: number }
  /** every message delivered at the offered rate: recv >= 98% of `expected`, nothing lost. */
  | { kind: "keep-up"; expected: number }
  /** ours p99 no worse than go's; the aims are reported, not judged. */
  | { kind: "latency"; aimP50Ms: number; aimP99Ms: number }
  /** the relay's RSS at the end of the window at most `maxMb`. */
  | { kind: "rss"; maxMb: number }
  /** each `[with, without]` pair: the stalled run keeps at least `minShare` of the other's recv msg/s. */
  | { kind: "stall"; pairs: [string, string][]; minShare: number };

export interface Scenario {
  /** Target number in issue 4. */
  target: number;
  name: string;
  /** Flags for bench/main.ts (ports, duration and relay are added per run). */
  args: string[];
  contenders: Contender[];
  goal: Goal;
  /** What the table must say about the setup (e.g. ours needs --slow-consumer block). */
  note?: string;
}

const SAT_80 = ["--rate", "0", "--msg-size", "80", "--sample", "1000"];
const BLOCK = ["--slow-consumer", "block"];
const OURS_BLOCK: Contender = { label: "ours", relay: "ours", relayFlags: BLOCK };
const OURS: Contender = { label: "ours", relay: "ours" };
const GO: Contender = { label: "go", relay: "go" };
const NATS: Contender = { label: "nats", relay: "nats" };
const SINK: Contender = { label: "sink", relay: "sink" };
const BLOCK_NOTE =
  "ours runs with --slow-consumer block (the Go relay and the sink push back implicitly; nats-server stalls publishers)";

/**
 * Target 8 as the policies make it meaningful: `disconnect` at a rate the subscribers can
 * follow (at saturation, with nothing pushing back, every subscriber is a slow consumer),
 * and `block` with `--write-timeout 1`, so the stalled subscriber holds publishers for about
 * a second of the window before it is cut. The bench's later `--rate` overrides the
 * scenario's `--rate 0`.
 */
function stalledContenders(followableRate: number): Contender[] {
  const stalled = ["--stalled", "1"];
  const paced = ["--rate", String(followableRate)];
  const blockShortTimeout = [...BLOCK, "--write-timeout", "1"];
  return [
    { label: "ours disconnect", relay: "ours", benchArgs: paced },
    { label: "ours disconnect +stalled", relay: "ours", benchArgs: [...paced, ...stalled] },
    { label: "ours block", relay: "ours", relayFlags: blockShortTimeout },
    {
      label: "ours block +stalled",
      relay: "ours",
      relayFlags: blockShortTimeout,
      benchArgs: stalled,
    },
    { label: "go", relay: "go" },
    { label: "go +stalled", relay: "go", benchArgs: stalled },
  ];
}

const STALL_GOAL: Goal = {
  kind: "stall",
  pairs: [
    ["ours disconnect +stalled", "ours disconnect"],
    ["ours block +stalled", "ours block"],
    ["go +stalled", "go"],
  ],
  minShare: 0.8,
};
const STALL_NOTE =
  "one extra subscriber connects and never reads; ours disconnect runs paced at a rate the subscribers follow, ours block at saturation with --write-timeout 1 (the stalled one holds publishers ~1 s, then is cut); Go blocks on it for good";

export const SCENARIOS: readonly Scenario[] = [
  {
    target: 1,
    name: "saturation 1x3",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: [OURS_BLOCK, GO, NATS, SINK],
    goal: { kind: "ratio", min: 60, natsMin: 5 },
    note: BLOCK_NOTE,
  },
  {
    target: 2,
    name: "saturation 4x16",
    args: ["--pub", "4", "--sub", "16", ...SAT_80],
    contenders: [OURS_BLOCK, GO, NATS, SINK],
    goal: { kind: "ratio", min: 60, natsMin: 5 },
    note: BLOCK_NOTE,
  },
  {
    target: 3,
    name: "4x16, one message per publisher write",
    args: ["--pub", "4", "--sub", "16", ...SAT_80, "--msgs-per-write", "1"],
    contenders: [OURS_BLOCK, GO, SINK],
    goal: { kind: "ratio", min: 30 },
    note: BLOCK_NOTE,
  },
  {
    target: 4,
    name: "100 pubs x 1000/s -> 16 subs",
    args: ["--pub", "100", "--sub", "16", "--rate", "1000", "--msg-size", "80", "--sample", "100"],
    contenders: [OURS, GO],
    goal: { kind: "keep-up", expected: 100 * 1000 * 16 },
  },
  {
    target: 5,
    name: "1 pub x 10000/s -> 1000 subs",
    args: ["--pub", "1", "--sub", "1000", "--rate", "10000", "--msg-size", "80", "--sample", "100"],
    contenders: [OURS, GO, NATS, SINK],
    goal: { kind: "keep-up", expected: 10_000 * 1000 },
  },
  {
    target: 6,
    name: "article 1x3 @10000/s 80B",
    args: ["--pub", "1", "--sub", "3", "--rate", "10000", "--msg-size", "80"],
    contenders: [OURS, GO],
    goal: { kind: "latency", aimP50Ms: 0.1, aimP99Ms: 0.2 },
  },
  {
    target: 7,
    name: "10000 idle subscribers",
    args: ["--pub", "1", "--sub", "1", "--rate", "1", "--msg-size", "80", "--idle", "10000"],
    contenders: [OURS, GO],
    goal: { kind: "rss", maxMb: 60 },
    note: "10,000 subscribers that read and discard, plus one counted; 1 msg/s keeps them nearly idle",
  },
  {
    target: 8,
    name: "stalled subscriber among 1x3",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: stalledContenders(1_000_000),
    goal: STALL_GOAL,
    note: STALL_NOTE,
  },
  {
    target: 8,
    name: "stalled subscriber among 4x16",
    args: ["--pub", "4", "--sub", "16", ...SAT_80],
    contenders: stalledContenders(100_000),
    goal: STALL_GOAL,
    note: STALL_NOTE,
  },
];

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
  { label: "relay RSS MB", pick: (r) => r.relayRssMb ?? Number.NaN, higherIsBetter: false },
];

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

export function formatFigure(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(3);
}

/**
 * `--client native`: a scenario runs on the native client only if every contender's run can,
 * so that its ratios always compare runs of the same client.
 */
export function runsOnNativeClient(scenario: Scenario): boolean {
  return scenario.contenders.every((c) => nativeCanRun([...scenario.args, ...(c.benchArgs ?? [])]));
}
