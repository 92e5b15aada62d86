/**
 * The scenarios of `bun run bench:compare`: one per target of issue 4, one
 * per measured scenario of issue 11 (the default slow-consumer policy,
 * `stall`) and one per target of issue 12 (the framed protocol against seed
 * 003's Go server), each run against several contenders (this relay with given
 * flags, the article's Go relay, nats-server, the sink relay, seed 003's Go
 * frame server), and the rule that says whether the target holds. Issue 11's rules also read what our relay logged
 * (BenchResult.relayLog: the subscribers it cut, its STALL lines, its BYE
 * totals). Pure data and arithmetic (medians, ratios, verdicts), tested
 * without running anything.
 */
import { firstCutOf } from "../lib/relay-log.ts";
import { nativeCanRun } from "../native/native-result.ts";
import type { BenchResult } from "../report/bench-result.ts";

/** `go-frame`: seed 003's Go server (../shared/peers/go-frame, cmd/server), one port. */
export type RelayKind = "ours" | "go" | "nats" | "sink" | "go-frame";

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
  | { kind: "stall"; pairs: [string, string][]; minShare: number }
  /**
   * Issue 11.1: `subject` (the default policy) loses nothing, has no subscriber disconnected
   * or cut, and receives at least `minShare` of what `reference` (block) receives.
   */
  | { kind: "paced"; subject: string; reference: string; minShare: number }
  /**
   * Issue 11.2: in `subject` the extra subscriber of kind `extra` is cut (relay log) within
   * `cutWithinSec` of publishing start, the counted ones lose nothing and keep at least
   * `minShare` of the recv msg/s of `reference` (the same run without it).
   */
  | {
      kind: "stuck";
      subject: string;
      reference: string;
      extra: string;
      cutWithinSec: number;
      minShare: number;
    }
  /**
   * Issue 11.3: the slow extra subscriber is cut, no STALL line reports a hold longer than
   * `stallTimeoutMs + slackMs`, the counted ones lose nothing; total held time is reported.
   */
  | { kind: "slow-reader"; subject: string; extra: string; stallTimeoutMs: number; slackMs: number }
  /**
   * Issue 11.4: for each `[label, expected msg/s]`, no subscriber cut (relay log), nothing
   * lost or disconnected, and the offered rate followed: recv >= 98% of expected.
   */
  | { kind: "no-cut"; runs: [string, number][] }
  /**
   * Issue 12 (a, b): ours / go of acks/s at least `min`, and every ack of ours in order with
   * result 0 and none missing; with `p99NoWorse`, ours' submit-to-ack p99 at most go's.
   */
  | { kind: "acks"; min: number; p99NoWorse?: boolean }
  /**
   * Issue 12 (c): `subject` (frames) receives at least `minShare` of the msg/s of `reference`
   * (lines, same payload bytes); neither loses anything and every ack of `subject` is good.
   */
  | { kind: "framing"; subject: string; reference: string; minShare: number };

export interface Scenario {
  /** The issue whose target this is: 4 (the relay against its peers) or 11 (default policy). */
  issue: number;
  /** Target number in issue 4, or the scenario's name in issue 11 ("1a", "2", ...). */
  target: number | string;
  name: string;
  /** Flags for bench/main.ts (ports, duration and relay are added per run). */
  args: string[];
  contenders: Contender[];
  goal: Goal;
  /** What the table must say about the setup (e.g. ours needs --slow-consumer block). */
  note?: string;
  /**
   * The client: `bench` (bench/main.ts, or bench/native/main.ts with --client native), or
   * `frame-load` (bench/native/frame-load.ts: the native submit/ack load client, issue 12).
   */
  runner?: "bench" | "frame-load";
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

/** Issue 11: our relay with every default (policy `stall`, --stall-timeout 0.25). */
const DEFAULT: Contender = { label: "ours default", relay: "ours" };
/** The default's stall timeout, ms (src/relay/options.ts), and what scheduling may add to it. */
const STALL_TIMEOUT_MS = 250;
const STALL_SLACK_MS = 50;
/**
 * Issue 11.4, per publisher: 100,000/s (8 MB/s to each subscriber) is what a pause of 100 ms
 * leaves in the kernel's buffers (publishers are never held: measured, 0 holds), so the run
 * is repeated at 1,000,000/s (80 MB/s; measured, it is held during the pauses), still a rate
 * the pausing one (and this client on 2 cores: 99.98% of 3 M msg/s) follows on average.
 */
const PAUSING_RATE = 100_000;
const PAUSING_RATE_HIGH = 1_000_000;

const ISSUE_11: readonly Scenario[] = [
  {
    issue: 11,
    target: "1a",
    name: "defaults at saturation 1x3",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: [DEFAULT, { label: "ours block", relay: "ours", relayFlags: BLOCK }, GO],
    goal: { kind: "paced", subject: "ours default", reference: "ours block", minShare: 0.9 },
    note: "ours default = no relay flags (policy stall); ours block = --slow-consumer block; go for reference only",
  },
  {
    issue: 11,
    target: "1b",
    name: "defaults at saturation 4x16",
    args: ["--pub", "4", "--sub", "16", ...SAT_80],
    contenders: [DEFAULT, { label: "ours block", relay: "ours", relayFlags: BLOCK }],
    goal: { kind: "paced", subject: "ours default", reference: "ours block", minShare: 0.9 },
    note: "ours default = no relay flags (policy stall); ours block = --slow-consumer block",
  },
  {
    issue: 11,
    target: "2",
    name: "stuck subscriber among 1x3, defaults",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: [
      DEFAULT,
      { label: "ours default +stalled", relay: "ours", benchArgs: ["--stalled", "1"] },
    ],
    goal: {
      kind: "stuck",
      subject: "ours default +stalled",
      reference: "ours default",
      extra: "stalled",
      cutWithinSec: 2,
      minShare: 0.8,
    },
    note:
      "one extra subscriber connects and never reads (--stalled 1); the issue asks for a 4 KiB " +
      "receive buffer, but Bun cannot set SO_RCVBUF, so it has the kernel's default buffers " +
      "(the relay's backlog for it starts growing only once those are full); cut time from the relay's log",
  },
  {
    issue: 11,
    target: "3",
    name: "1 MiB/s reader among 1x3, defaults",
    args: ["--pub", "1", "--sub", "3", ...SAT_80, "--slow-reader", "1m"],
    contenders: [DEFAULT],
    goal: {
      kind: "slow-reader",
      subject: "ours default",
      extra: "slow-reader",
      stallTimeoutMs: STALL_TIMEOUT_MS,
      slackMs: STALL_SLACK_MS,
    },
    note:
      "one extra subscriber reads at most 1 MiB/s (--slow-reader 1m: it pauses after each chunk " +
      "for chunk/rate s); per-episode hold = the longest STALL line, total = BYE Held=",
  },
  {
    issue: 11,
    target: "4",
    name: "pausing reader among 1x3, defaults",
    args: [
      "--pub",
      "1",
      "--sub",
      "3",
      "--rate",
      String(PAUSING_RATE),
      "--msg-size",
      "80",
      "--sample",
      "100",
      "--pausing",
      "1",
    ],
    contenders: [
      DEFAULT,
      // The bench's later --rate wins.
      {
        label: "ours default @1M",
        relay: "ours",
        benchArgs: ["--rate", String(PAUSING_RATE_HIGH)],
      },
    ],
    goal: {
      kind: "no-cut",
      runs: [
        ["ours default", PAUSING_RATE * 3],
        ["ours default @1M", PAUSING_RATE_HIGH * 3],
      ],
    },
    note:
      "one extra subscriber reads normally but stops for 100 ms every second (--pausing 1); " +
      "ours default at 100,000 msg/s per publisher (8 MB/s: the kernel's buffers absorb a pause), " +
      "ours default @1M at 1,000,000 (80 MB/s: publishers are held during its pauses); both followable on average",
  },
];

/** Issue 12: the article's ack codes (0x80/0x81), which seed 003's Go server sends. */
const ARTICLE_FRAMES = ["--framing", "frame", "--frame-codes", "article"];
const OURS_ARTICLE: Contender = { label: "ours", relay: "ours", relayFlags: ARTICLE_FRAMES };
const GO_FRAME: Contender = { label: "go", relay: "go-frame" };
/** frame_load's flags: `conns` connections, `window` Submits in flight each, 64 B payloads. */
function frameLoad(conns: number, window: number): string[] {
  return [
    "--conns",
    String(conns),
    "--window",
    String(window),
    "--payload",
    "64",
    "--ack-cmd",
    "0x81",
  ];
}
const FRAME_LOAD_NOTE =
  "frame_load (bench/native/frame_load.c, 1 thread) against seed 003's Go server (cmd/server) and ours with " +
  "--framing frame --frame-codes article; 64 B payloads, no subscribers; every ack checked (ID order, result, code)";

const ISSUE_12: readonly Scenario[] = [
  {
    issue: 12,
    target: "a",
    name: "acks/s, 16 conns x 64 in flight",
    runner: "frame-load",
    args: frameLoad(16, 64),
    contenders: [OURS_ARTICLE, GO_FRAME],
    goal: { kind: "acks", min: 1.5 },
    note: FRAME_LOAD_NOTE,
  },
  {
    issue: 12,
    target: "b",
    name: "round trips, 100 conns x 1 in flight",
    runner: "frame-load",
    args: frameLoad(100, 1),
    contenders: [OURS_ARTICLE, GO_FRAME],
    goal: { kind: "acks", min: 1, p99NoWorse: true },
    note: FRAME_LOAD_NOTE,
  },
  {
    issue: 12,
    target: "c",
    name: "frame fan-out 1x3 at saturation vs lines",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: [
      {
        label: "ours frame",
        relay: "ours",
        relayFlags: ["--framing", "frame"],
        benchArgs: ["--framing", "frame"],
      },
      { label: "ours line", relay: "ours" },
    ],
    goal: { kind: "framing", subject: "ours frame", reference: "ours line", minShare: 0.9 },
    note:
      "both with every default (policy stall); the same 80 B per message: a line of 80 B (newline " +
      "included), or a Submit frame carrying those 80 B as payload (+13 B header, and a 14 B ack back to the publisher)",
  },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    issue: 4,
    target: 1,
    name: "saturation 1x3",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: [OURS_BLOCK, GO, NATS, SINK],
    goal: { kind: "ratio", min: 60, natsMin: 5 },
    note: BLOCK_NOTE,
  },
  {
    issue: 4,
    target: 2,
    name: "saturation 4x16",
    args: ["--pub", "4", "--sub", "16", ...SAT_80],
    contenders: [OURS_BLOCK, GO, NATS, SINK],
    goal: { kind: "ratio", min: 60, natsMin: 5 },
    note: BLOCK_NOTE,
  },
  {
    issue: 4,
    target: 3,
    name: "4x16, one message per publisher write",
    args: ["--pub", "4", "--sub", "16", ...SAT_80, "--msgs-per-write", "1"],
    contenders: [OURS_BLOCK, GO, SINK],
    goal: { kind: "ratio", min: 30 },
    note: BLOCK_NOTE,
  },
  {
    issue: 4,
    target: 4,
    name: "100 pubs x 1000/s -> 16 subs",
    args: ["--pub", "100", "--sub", "16", "--rate", "1000", "--msg-size", "80", "--sample", "100"],
    contenders: [OURS, GO],
    goal: { kind: "keep-up", expected: 100 * 1000 * 16 },
  },
  {
    issue: 4,
    target: 5,
    name: "1 pub x 10000/s -> 1000 subs",
    args: ["--pub", "1", "--sub", "1000", "--rate", "10000", "--msg-size", "80", "--sample", "100"],
    contenders: [OURS, GO, NATS, SINK],
    goal: { kind: "keep-up", expected: 10_000 * 1000 },
  },
  {
    issue: 4,
    target: 6,
    name: "article 1x3 @10000/s 80B",
    args: ["--pub", "1", "--sub", "3", "--rate", "10000", "--msg-size", "80"],
    contenders: [OURS, GO],
    goal: { kind: "latency", aimP50Ms: 0.1, aimP99Ms: 0.2 },
  },
  {
    issue: 4,
    target: 7,
    name: "10000 idle subscribers",
    args: ["--pub", "1", "--sub", "1", "--rate", "1", "--msg-size", "80", "--idle", "10000"],
    contenders: [OURS, GO],
    goal: { kind: "rss", maxMb: 60 },
    note: "10,000 subscribers that read and discard, plus one counted; 1 msg/s keeps them nearly idle",
  },
  {
    issue: 4,
    target: 8,
    name: "stalled subscriber among 1x3",
    args: ["--pub", "1", "--sub", "3", ...SAT_80],
    contenders: stalledContenders(1_000_000),
    goal: STALL_GOAL,
    note: STALL_NOTE,
  },
  {
    issue: 4,
    target: 8,
    name: "stalled subscriber among 4x16",
    args: ["--pub", "4", "--sub", "16", ...SAT_80],
    contenders: stalledContenders(100_000),
    goal: STALL_GOAL,
    note: STALL_NOTE,
  },
  ...ISSUE_11,
  ...ISSUE_12,
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
  if (value === Number.POSITIVE_INFINITY) return "never";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(3);
}

/**
 * `--client native`: a scenario runs on the native client only if every contender's run can,
 * so that its ratios always compare runs of the same client.
 */
export function runsOnNativeClient(scenario: Scenario): boolean {
  if (scenario.runner === "frame-load") return false; // native already, and not the bench's client
  return scenario.contenders.every((c) => nativeCanRun([...scenario.args, ...(c.benchArgs ?? [])]));
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
      return "relay RSS MB";
    case "acks":
      return "acks/s";
    default:
      return "recv msg/s";
  }
}

/** Where a scenario's runs start: bench/main.ts, the native saturation client, or frame_load. */
export function runnerScript(scenario: Scenario, nativeClient: boolean): string {
  if (scenario.runner === "frame-load") return "bench/native/frame-load.ts";
  return nativeClient && runsOnNativeClient(scenario) ? "bench/native/main.ts" : "bench/main.ts";
}

/** A scenario's name in tables, logs and the results file: `8. name` (issue 4), `11.2 name`. */
export function scenarioKey(s: Scenario): string {
  return s.issue === 4 ? `${s.target}. ${s.name}` : `${s.issue}.${s.target} ${s.name}`;
}

/**
 * `--only`: which scenarios to run.
 * - `11.2`, `11.1` (both 1a and 1b), `4.8`: issue, then the start of the target;
 * - `11.` or `4.`: every scenario of that issue;
 * - a plain number: issue 4's target of that number, as before issue 11 (`--only 8`), or,
 *   when issue 4 has no such target, every scenario of that issue (`--only 11`);
 * - anything else: part of a scenario's name.
 */
export function selectScenarios(
  scenarios: readonly Scenario[],
  only: string | undefined,
): Scenario[] {
  if (only === undefined || only === "") return [...scenarios];
  const dotted = /^(\d+)\.(\w*)$/.exec(only);
  if (dotted) {
    const issue = Number(dotted[1]);
    const target = dotted[2] as string;
    return scenarios.filter((s) => s.issue === issue && String(s.target).startsWith(target));
  }
  if (/^\d+$/.test(only)) {
    const ofIssue4 = scenarios.filter((s) => s.issue === 4 && String(s.target) === only);
    if (ofIssue4.length > 0) return ofIssue4;
    return scenarios.filter((s) => String(s.issue) === only);
  }
  return scenarios.filter((s) => s.name.includes(only));
}

/**
 * The contender whose figure fills the table's "ours" column: `ours` in issue 4, the first
 * contender (our relay with every default) in issue 11.
 */
export function oursLabel(s: Scenario): string {
  return s.contenders.some((c) => c.label === "ours") ? "ours" : (s.contenders[0]?.label ?? "ours");
}
