/**
 * The scenarios of `bun run bench:compare`: one per target of issue 4, one per measured
 * scenario of issue 11 (the default slow-consumer policy, `stall`), one per target of
 * issue 12 (the framed protocol against seed 003's Go server) and of issue 20 (the NATS
 * port against nats-server), each run against several contenders (this relay with given
 * flags, its NATS port, the article's Go relay, nats-server, the sink relay, seed 003's Go
 * frame server), with the goal that says whether the target holds.
 * Pure data, tested without running anything; the arithmetic that judges a run (medians,
 * ratios, verdicts; issue 11's rules also read what our relay logged) is in verdicts.ts.
 */
import { nativeCanRun } from "../native/native-result.ts";

/**
 * `go-frame`: seed 003's Go server (../shared/peers/go-frame, cmd/server), one port.
 * `ours-nats`: our relay's NATS port (`--nats-port`, issue 20), loaded like nats-server.
 */
export type RelayKind = "ours" | "go" | "nats" | "sink" | "go-frame" | "ours-nats";

/** Whether the bench speaks NATS (`--protocol nats`, one port) to this kind of relay. */
export function speaksNats(kind: RelayKind): boolean {
  return kind === "nats" || kind === "ours-nats";
}

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
  | { kind: "framing"; subject: string; reference: string; minShare: number }
  /**
   * Issue 20: `subject` (our NATS port) delivers at least `min` times nats-server's recv
   * msg/s, with nothing lost; losses and cuts on either side are reported.
   */
  | { kind: "vs-nats"; subject: string; min: number; p99NoWorse?: boolean }
  /**
   * Issue 21 (c): `subject`'s server RSS beside nats-server's, reported, not bounded; passes
   * when both ran and every connection of both was confirmed (nothing lost).
   */
  | { kind: "rss-vs-nats"; subject: string };

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
   * `frame-load` (bench/native/frame-load.ts: the native submit/ack load client, issue 12),
   * `native` (bench/native/main.ts whatever --client says: flags only it has, issue 21), or
   * `nats-load` (bench/native/nats-load.ts: NATS request/reply and held subscriptions, issue 21).
   */
  runner?: "bench" | "frame-load" | "native" | "nats-load";
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

/** Issue 20: our relay's NATS port with every default (policy stall), against nats-server. */
const OURS_NATS: Contender = { label: "ours-nats", relay: "ours-nats" };
const ISSUE_20_NOTE =
  "ours-nats = our relay with only --nats-port (every default: policy stall); nats = nats-server " +
  "(its defaults: publishers held past 75% of a subscriber's 64 MiB pending, cut past it); both " +
  "loaded over the NATS protocol on one subject, 80 B payloads";

/** Issue 20's scenario for `pubs` -> `subs`: NATS fan-out on one subject at saturation, 80 B. */
function natsFanOut(target: string, pubs: number, subs: number): Scenario {
  return {
    issue: 20,
    target,
    name: `NATS fan-out ${pubs}x${subs}`,
    args: ["--pub", String(pubs), "--sub", String(subs), ...SAT_80],
    contenders: [OURS_NATS, NATS],
    goal: { kind: "vs-nats", subject: "ours-nats", min: 3 },
    note: ISSUE_20_NOTE,
  };
}

const ISSUE_20: readonly Scenario[] = [natsFanOut("a", 1, 3), natsFanOut("b", 4, 16)];

/** Issue 21: single-node benches of the NATS port against nats-server, same client. */
const ISSUE_21: readonly Scenario[] = [
  {
    issue: 21,
    target: "a",
    name: "NATS 1,000 subjects, 1 sub each",
    runner: "native",
    args: ["--pub", "1", "--subjects", "1000", "--rate", "0", "--msg-size", "80"],
    contenders: [OURS_NATS, NATS],
    goal: { kind: "vs-nats", subject: "ours-nats", min: 1.5 },
    note:
      "sat_client --subjects 1000: subscriber i (its own connection) on subject s.<i>, one publisher " +
      "cycling PUB s.0 .. s.999 in whole cycles per write, 80 B; each message has one receiver. " +
      ISSUE_20_NOTE.split("; both")[0],
  },
  {
    issue: 21,
    target: "b",
    name: "NATS request/reply, 50 requesters",
    runner: "nats-load",
    args: ["--load", "reqrep", "--requesters", "50", "--msg-size", "80"],
    contenders: [OURS_NATS, NATS],
    goal: { kind: "vs-nats", subject: "ours-nats", min: 1.2, p99NoWorse: true },
    note:
      "bench/native/nats_reqrep.c: 50 requester connections, one request in flight each " +
      "(PUB req _INBOX.<i> 80), one responder connection (SUB req) answering every request of a read " +
      "in one write; requests/s as recv msg/s, exact round-trip percentiles",
  },
  {
    issue: 21,
    target: "c",
    name: "NATS 10,000 conns x 10 subscriptions",
    runner: "nats-load",
    args: ["--load", "hold", "--conns", "10000", "--subs-per-conn", "10", "--wave", "256"],
    contenders: [OURS_NATS, NATS],
    goal: { kind: "rss-vs-nats", subject: "ours-nats" },
    note:
      "bench/native/nats_hold.c: 10,000 connections in waves of 256, each CONNECT + 10 SUB " +
      "h.<conn>.<k> + PING, confirmed by PONG; then idle for --duration s and the server's RSS read " +
      "from /proc; every connection PINGed once more at the end (lost = unconfirmed)",
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
  ...ISSUE_20,
  ...ISSUE_21,
];

/**
 * `--client native`: a scenario runs on the native client only if every contender's run can,
 * so that its ratios always compare runs of the same client.
 */
export function runsOnNativeClient(scenario: Scenario): boolean {
  if (scenario.runner === "frame-load") return false; // native already, and not the bench's client
  if (scenario.runner === "native") return true;
  if (scenario.runner === "nats-load") return false; // its own native clients
  return scenario.contenders.every((c) => nativeCanRun([...scenario.args, ...(c.benchArgs ?? [])]));
}

/** Where a scenario's runs start: bench/main.ts, the native saturation client, or frame_load. */
export function runnerScript(scenario: Scenario, nativeClient: boolean): string {
  if (scenario.runner === "frame-load") return "bench/native/frame-load.ts";
  if (scenario.runner === "native") return "bench/native/main.ts";
  if (scenario.runner === "nats-load") return "bench/native/nats-load.ts";
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
