import { describe, expect, test } from "bun:test";
import {
  oursLabel,
  runnerScript,
  runsOnNativeClient,
  SCENARIOS,
  type Scenario,
  scenarioKey,
  selectScenarios,
  speaksNats,
} from "../../bench/compare/scenarios.ts";
import {
  extraCutAtSec,
  FIGURES,
  formatFigure,
  headlineFigure,
  judge,
  median,
  mediansOf,
  ratio,
  roundOrder,
} from "../../bench/compare/verdicts.ts";
import { parseBenchArgs } from "../../bench/lib/args.ts";
import type { RelayLogSummary } from "../../bench/lib/relay-log.ts";
import { parseFrameLoadArgs } from "../../bench/native/frame-load.ts";
import type { BenchResult } from "../../bench/report/bench-result.ts";

describe("bench:compare arithmetic", () => {
  test("median of odd and even counts, ignoring NaN", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  test("two relays alternate in ABBA order", () => {
    const orders = [0, 1, 2, 3].map((r) => roundOrder(["ours", "go"], r).join(" "));
    expect(orders).toEqual(["ours go", "go ours", "go ours", "ours go"]);
  });

  test("with three relays every one gets to run first", () => {
    const firsts = new Set([0, 1, 2, 3, 4, 5].map((r) => roundOrder(["a", "b", "c"], r)[0]));
    expect(firsts).toEqual(new Set(["a", "b", "c"]));
  });

  test("ratio is ours / peer, n/a when undefined", () => {
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 1)).toBeNaN();
  });

  test("figures format like the report: grouped rates, 3-decimal latencies", () => {
    expect(formatFigure(640000)).toBe("640,000");
    expect(formatFigure(0.0441)).toBe("0.044");
    expect(formatFigure(0)).toBe("0");
    expect(formatFigure(Number.NaN)).toBe("n/a");
  });

  test("one scenario per target of issue 4, target 8 at 1x3 and 4x16", () => {
    const issue4 = SCENARIOS.filter((s) => s.issue === 4);
    expect(issue4.map((s) => s.target)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 8]);
    for (const s of issue4) {
      const labels = s.contenders.map((c) => c.label);
      expect(new Set(labels).size).toBe(labels.length);
      expect(labels.some((l) => l.startsWith("ours"))).toBe(true);
      expect(labels.some((l) => l.startsWith("go"))).toBe(true);
    }
    expect(FIGURES.find((f) => f.label === "recv msg/s")?.higherIsBetter).toBe(true);
  });

  test("saturation runs ours with --slow-consumer block and light subscribers", () => {
    for (const s of SCENARIOS.filter((x) => x.issue === 4 && Number(x.target) <= 3)) {
      expect(s.contenders.find((c) => c.label === "ours")?.relayFlags).toEqual([
        "--slow-consumer",
        "block",
      ]);
      expect(s.args).toContain("--sample");
    }
    expect(SCENARIOS[2]?.args.join(" ")).toContain("--msgs-per-write 1");
  });

  test("nats-server runs in targets 1, 2 and 5 only (and in issue 20's)", () => {
    const withNats = SCENARIOS.filter((s) => s.contenders.some((c) => c.relay === "nats"));
    expect(withNats.map(scenarioKey)).toEqual([
      "1. saturation 1x3",
      "2. saturation 4x16",
      "5. 1 pub x 10000/s -> 1000 subs",
      "20.a NATS fan-out 1x3",
      "20.b NATS fan-out 4x16",
      "21.a NATS 1,000 subjects, 1 sub each",
      "21.b NATS request/reply, 50 requesters",
      "21.c NATS 10,000 conns x 10 subscriptions",
    ]);
  });
});

describe("issue 11 scenarios", () => {
  const issue11 = SCENARIOS.filter((s) => s.issue === 11);
  const byTarget = (t: string) => issue11.find((s) => s.target === t);

  test("five scenarios, 80 B messages, our relay with every default first", () => {
    expect(issue11.map((s) => s.target)).toEqual(["1a", "1b", "2", "3", "4"]);
    for (const s of issue11) {
      const labels = s.contenders.map((c) => c.label);
      expect(new Set(labels).size).toBe(labels.length);
      expect(s.contenders[0]).toEqual({ label: "ours default", relay: "ours" });
      expect(oursLabel(s)).toBe("ours default");
      const o = parseBenchArgs(s.args);
      expect(o.msgSize).toBe(80);
      expect(o.rate).toBe(s.target === "4" ? 100_000 : 0);
      for (const c of s.contenders)
        expect(parseBenchArgs([...s.args, ...(c.benchArgs ?? [])]).msgSize).toBe(80);
      expect(s.note).toBeDefined();
    }
  });

  test("11.1 runs defaults against --slow-consumer block; go only in 11.1a", () => {
    for (const t of ["1a", "1b"]) {
      expect(byTarget(t)?.contenders.find((c) => c.label === "ours block")?.relayFlags).toEqual([
        "--slow-consumer",
        "block",
      ]);
    }
    const withGo = issue11.filter((s) => s.contenders.some((c) => c.relay === "go"));
    expect(withGo.map((s) => s.target)).toEqual(["1a"]);
    expect(parseBenchArgs(byTarget("1b")?.args ?? [])).toMatchObject({ pubs: 4, subs: 16 });
  });

  test("the extra subscribers: stalled (11.2), 1 MiB/s reader (11.3), pausing (11.4)", () => {
    const stuck = byTarget("2");
    const plus = stuck?.contenders.find((c) => c.label === "ours default +stalled");
    expect(plus?.benchArgs).toEqual(["--stalled", "1"]);
    expect(stuck?.note).toContain("SO_RCVBUF");
    expect(parseBenchArgs(byTarget("3")?.args ?? []).slowReader).toBe(1024 * 1024);
    const pausing = byTarget("4");
    expect(parseBenchArgs(pausing?.args ?? []).pausing).toBe(1);
    // 11.4 runs at the issue's example rate and again where the pauses hold publishers.
    const rates = pausing?.contenders.map(
      (c) => parseBenchArgs([...(pausing?.args ?? []), ...(c.benchArgs ?? [])]).rate,
    );
    expect(rates).toEqual([100_000, 1_000_000]);
  });

  test("keys name the issue", () => {
    expect(scenarioKey(SCENARIOS[0] as (typeof SCENARIOS)[number])).toBe("1. saturation 1x3");
    expect(scenarioKey(byTarget("2") as (typeof SCENARIOS)[number])).toBe(
      "11.2 stuck subscriber among 1x3, defaults",
    );
  });
});

describe("--only", () => {
  const picked = (only: string | undefined) =>
    selectScenarios(SCENARIOS, only).map((s) => `${s.issue}.${s.target}`);

  test("everything without it", () => {
    expect(picked(undefined).length).toBe(SCENARIOS.length);
  });

  test("a plain number is issue 4's target, or else an issue", () => {
    expect(picked("8")).toEqual(["4.8", "4.8"]);
    expect(picked("1")).toEqual(["4.1"]);
    expect(picked("11")).toEqual(["11.1a", "11.1b", "11.2", "11.3", "11.4"]);
    expect(picked("99")).toEqual([]);
  });

  test("issue.target picks one, or those starting with it; issue. picks all of it", () => {
    expect(picked("11.2")).toEqual(["11.2"]);
    expect(picked("11.1")).toEqual(["11.1a", "11.1b"]);
    expect(picked("11.1b")).toEqual(["11.1b"]);
    expect(picked("4.")).toHaveLength(9);
    expect(picked("4.7")).toEqual(["4.7"]);
  });

  test("anything else is part of a name", () => {
    expect(picked("pausing")).toEqual(["11.4"]);
    expect(picked("idle")).toEqual(["4.7"]);
  });
});

const med = (rows: Record<string, Record<string, number>>) => rows;

describe("target verdicts", () => {
  test("ratio: ours/go and ours/nats against their minimums, and no loss", () => {
    const goal = { kind: "ratio", min: 60, natsMin: 5 } as const;
    const m = med({
      ours: { "recv msg/s": 12e6, lost: 0 },
      go: { "recv msg/s": 200e3 },
      nats: { "recv msg/s": 4e6 },
    });
    const v = judge(goal, m);
    expect(v.pass).toBe(false);
    expect(v.summary).toBe("ours/go 60.0 (>= 60), ours/nats 3.00 (>= 5)");
    expect(judge({ kind: "ratio", min: 60 }, m).pass).toBe(true);
    expect(
      judge({ kind: "ratio", min: 60 }, { ...m, ours: { "recv msg/s": 12e6, lost: 3 } }).pass,
    ).toBe(false);
  });

  test("keep-up: 98% of the offered deliveries and nothing lost", () => {
    const goal = { kind: "keep-up", expected: 1_600_000 } as const;
    expect(judge(goal, med({ ours: { "recv msg/s": 1_590_000, lost: 0 } })).pass).toBe(true);
    expect(judge(goal, med({ ours: { "recv msg/s": 1_500_000, lost: 0 } })).pass).toBe(false);
    expect(judge(goal, med({ ours: { "recv msg/s": 1_600_000, lost: 1 } })).pass).toBe(false);
  });

  test("latency: judged on p99 against go; the aims are only reported", () => {
    const goal = { kind: "latency", aimP50Ms: 0.1, aimP99Ms: 0.2 } as const;
    const v = judge(goal, med({ ours: { "p50 ms": 0.03, "p99 ms": 0.3 }, go: { "p99 ms": 0.6 } }));
    expect(v.pass).toBe(true);
    expect(v.summary).toContain("aims not met");
  });

  test("rss and stall", () => {
    expect(judge({ kind: "rss", maxMb: 60 }, med({ ours: { "relay RSS MB": 61 } })).pass).toBe(
      false,
    );
    const stall = {
      kind: "stall",
      pairs: [
        ["a +s", "a"],
        ["go +s", "go"],
      ],
      minShare: 0.8,
    } as const;
    const m = med({
      a: { "recv msg/s": 100 },
      "a +s": { "recv msg/s": 85 },
      go: { "recv msg/s": 100 },
      "go +s": { "recv msg/s": 0 },
    });
    const v = judge({ ...stall, pairs: stall.pairs.map((p) => [...p] as [string, string]) }, m);
    // Only our relay's pairs decide; the Go relay's collapse is reported.
    expect(v.pass).toBe(true);
    expect(v.summary).toBe("a +s: 85% of a; go +s: 0% of go");
  });

  test("medians per contender and figure", () => {
    const run = (recv: number) => ({ receivedRate: recv, latencyMs: {} }) as unknown as BenchResult;
    const m = mediansOf({ ours: [run(1), run(3), run(2)] });
    expect(m.ours?.["recv msg/s"]).toBe(2);
  });
});

/** A run of our relay with what its log said. */
function runWith(
  log: Partial<RelayLogSummary> | null,
  extras: BenchResult["extraSubscribers"] = [],
): BenchResult {
  return {
    receivedRate: 1,
    latencyMs: {},
    relayLog:
      log === null ? null : { cuts: [], stalls: [], maxStallHeldMs: null, totals: null, ...log },
    extraSubscribers: extras,
  } as unknown as BenchResult;
}

const pick = (label: string, r: BenchResult) => FIGURES.find((f) => f.label === label)?.pick(r);
const stalledExtra = [{ kind: "stalled", port: 4000, closedAtSec: null, bytes: 0 }];

describe("figures from the relay log", () => {
  test("the first extra cut: seconds, never (Infinity), or n/a without extras or log", () => {
    const cut = {
      peer: "127.0.0.1:4000",
      who: "stalled",
      reason: "slow_consumer" as const,
      atSec: 0.62,
      droppedBytes: 0,
    };
    expect(extraCutAtSec(runWith({ cuts: [cut] }, stalledExtra))).toBe(0.62);
    expect(extraCutAtSec(runWith({ cuts: [{ ...cut, who: "counted" }] }, stalledExtra))).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(extraCutAtSec(runWith({ cuts: [cut] }))).toBeNaN();
    expect(extraCutAtSec(runWith(null, stalledExtra))).toBeNaN();
    expect(formatFigure(Number.POSITIVE_INFINITY)).toBe("never");
    // A run without the cut counts in the median instead of being skipped.
    expect(median([0.5, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY])).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  test("cuts, stall timeouts, longest STALL, holds and held time", () => {
    const r = runWith({
      cuts: [
        { peer: "a:1", who: "counted", reason: "slow_consumer", atSec: 1, droppedBytes: 0 },
        { peer: "a:2", who: "slow-reader", reason: "slow_consumer", atSec: 1, droppedBytes: 0 },
      ],
      stalls: [{ peer: "a:2", who: "slow-reader", atSec: 0.5, heldMs: 262 }],
      maxStallHeldMs: 262,
      totals: { slowConsumers: 2, writeTimeouts: 0, pauses: 2314, heldSec: 0.75, stalls: 1 },
    });
    expect(pick("subscribers cut", r)).toBe(2);
    expect(pick("counted cut", r)).toBe(1);
    expect(pick("stall timeouts", r)).toBe(1);
    expect(pick("longest STALL ms", r)).toBe(262);
    expect(pick("publisher holds", r)).toBe(2314);
    expect(pick("held s", r)).toBe(0.75);
    // No STALL line: the longest hold that expired is none (0); no BYE: totals unknown.
    const quiet = runWith({});
    expect(pick("longest STALL ms", quiet)).toBe(0);
    expect(pick("stall timeouts", quiet)).toBe(0);
    expect(pick("held s", quiet)).toBeNaN();
    // Another relay: every one n/a.
    expect(pick("subscribers cut", runWith(null))).toBeNaN();
  });
});

describe("issue 11 verdicts", () => {
  test("paced: >= 90% of block, nothing lost, disconnected or cut", () => {
    const goal = {
      kind: "paced",
      subject: "ours default",
      reference: "ours block",
      minShare: 0.9,
    } as const;
    const ok = {
      "recv msg/s": 9e6,
      lost: 0,
      disconnected: 0,
      "subscribers cut": 0,
      "publisher holds": 2314,
      "held s": 1.5,
    };
    const m = med({ "ours default": ok, "ours block": { "recv msg/s": 10e6 } });
    const v = judge(goal, m);
    expect(v.pass).toBe(true);
    expect(v.summary).toBe(
      "ours default 90% of ours block recv (>= 90%), lost 0, disconnected 0, cut 0; held 2,314 times, 1.500 s",
    );
    const worse = (patch: Record<string, number>) =>
      judge(goal, med({ ...m, "ours default": { ...ok, ...patch } })).pass;
    expect(worse({ "recv msg/s": 8.9e6 })).toBe(false);
    expect(worse({ lost: 1 })).toBe(false);
    expect(worse({ disconnected: 3 })).toBe(false);
    expect(worse({ "subscribers cut": 1 })).toBe(false);
    // Without our relay's log the cut count is unknown: the other figures decide.
    expect(worse({ "subscribers cut": Number.NaN })).toBe(true);
  });

  test("stuck: cut within 2 s, healthy lose nothing and keep 80%", () => {
    const goal = {
      kind: "stuck",
      subject: "with",
      reference: "without",
      extra: "stalled",
      cutWithinSec: 2,
      minShare: 0.8,
    } as const;
    const ok = { "recv msg/s": 85, lost: 0, disconnected: 0, "extra cut at s": 0.62 };
    const m = med({ with: ok, without: { "recv msg/s": 100 } });
    expect(judge(goal, m).pass).toBe(true);
    expect(judge(goal, m).summary).toContain("stalled one cut at +0.620 s (<= 2)");
    const worse = (patch: Record<string, number>) =>
      judge(goal, med({ ...m, with: { ...ok, ...patch } })).pass;
    expect(worse({ "extra cut at s": 2.1 })).toBe(false);
    expect(worse({ "extra cut at s": Number.POSITIVE_INFINITY })).toBe(false);
    expect(worse({ "extra cut at s": Number.NaN })).toBe(false);
    expect(worse({ lost: 5 })).toBe(false);
    expect(worse({ "recv msg/s": 79 })).toBe(false);
  });

  test("slow reader: cut, no STALL over timeout + slack, healthy lose nothing", () => {
    const goal = {
      kind: "slow-reader",
      subject: "ours default",
      extra: "slow-reader",
      stallTimeoutMs: 250,
      slackMs: 50,
    } as const;
    const ok = {
      "extra cut at s": 1.2,
      "longest STALL ms": 262,
      "stall timeouts": 1,
      "publisher holds": 900,
      "held s": 0.4,
      lost: 0,
      disconnected: 0,
    };
    const v = judge(goal, med({ "ours default": ok }));
    expect(v.pass).toBe(true);
    expect(v.summary).toBe(
      "slow-reader cut at +1.200 s; longest STALL 262 ms (<= 250 + 50), stall timeouts 1; held 900 times, 0.400 s in total; healthy lost 0, disconnected 0",
    );
    const worse = (patch: Record<string, number>) =>
      judge(goal, med({ "ours default": { ...ok, ...patch } })).pass;
    expect(worse({ "extra cut at s": Number.POSITIVE_INFINITY })).toBe(false);
    expect(worse({ "longest STALL ms": 301 })).toBe(false);
    expect(worse({ "longest STALL ms": 300 })).toBe(true);
    expect(worse({ lost: 1 })).toBe(false);
  });

  test("no-cut: in every run nobody cut, nothing lost, the offered rate followed", () => {
    const goal = {
      kind: "no-cut",
      runs: [
        ["slow", 300_000],
        ["fast", 3_000_000],
      ] as [string, number][],
    } as const;
    const ok = { "subscribers cut": 0, lost: 0, disconnected: 0, "recv msg/s": 299_990 };
    const fast = { ...ok, "recv msg/s": 2_999_000, "publisher holds": 9, "stall timeouts": 0 };
    const m = med({ slow: ok, fast });
    const v = judge(goal, m);
    expect(v.pass).toBe(true);
    expect(v.summary).toBe(
      "slow: cut 0, lost 0, disconnected 0, recv 299,990 of 300,000 msg/s, held n/a times (n/a s), stall timeouts n/a; " +
        "fast: cut 0, lost 0, disconnected 0, recv 2,999,000 of 3,000,000 msg/s, held 9 times (n/a s), stall timeouts 0",
    );
    const worse = (patch: Record<string, number>) =>
      judge(goal, med({ ...m, fast: { ...fast, ...patch } })).pass;
    expect(worse({ "subscribers cut": 1 })).toBe(false);
    expect(worse({ "subscribers cut": Number.NaN })).toBe(false);
    expect(worse({ lost: 1 })).toBe(false);
    expect(worse({ "recv msg/s": 2_900_000 })).toBe(false);
  });
});

describe("issue 12 scenarios", () => {
  const issue12 = SCENARIOS.filter((s) => s.issue === 12);
  const byTarget = (t: string) => issue12.find((s) => s.target === t) as (typeof SCENARIOS)[number];

  test("three targets; --only 12 and 12.b pick them", () => {
    expect(issue12.map((s) => s.target)).toEqual(["a", "b", "c"]);
    const picked = (only: string) => selectScenarios(SCENARIOS, only).map((s) => s.target);
    expect(picked("12")).toEqual(["a", "b", "c"]);
    expect(picked("12.b")).toEqual(["b"]);
    expect(scenarioKey(byTarget("a"))).toBe("12.a acks/s, 16 conns x 64 in flight");
  });

  test("a and b: frame_load against seed 003's Go server, ours with the article's codes", () => {
    for (const [t, conns, window] of [
      ["a", 16, 64],
      ["b", 100, 1],
    ] as const) {
      const s = byTarget(t);
      expect(s.runner).toBe("frame-load");
      expect(runnerScript(s, false)).toBe("bench/native/frame-load.ts");
      expect(runnerScript(s, true)).toBe("bench/native/frame-load.ts");
      expect(runsOnNativeClient(s)).toBe(false);
      expect(parseFrameLoadArgs(s.args)).toMatchObject({ conns, window, ackCmd: 0x81 });
      expect(s.contenders).toEqual([
        {
          label: "ours",
          relay: "ours",
          relayFlags: ["--framing", "frame", "--frame-codes", "article"],
        },
        { label: "go", relay: "go-frame" },
      ]);
      expect(headlineFigure(s.goal)).toBe("acks/s");
    }
    expect(byTarget("a").goal).toEqual({ kind: "acks", min: 1.5 });
    expect(byTarget("b").goal).toEqual({ kind: "acks", min: 1, p99NoWorse: true });
  });

  test("c: frames against lines at saturation, same payload bytes, the bench's client", () => {
    const s = byTarget("c");
    expect(s.runner).toBeUndefined();
    const frame = s.contenders.find((c) => c.label === "ours frame");
    expect(frame?.relayFlags).toEqual(["--framing", "frame"]);
    const o = parseBenchArgs([...s.args, ...(frame?.benchArgs ?? [])]);
    expect(o).toMatchObject({ framing: "frame", rate: 0, msgSize: 80, pubs: 1, subs: 3 });
    const line = s.contenders.find((c) => c.label === "ours line");
    expect(parseBenchArgs([...s.args, ...(line?.benchArgs ?? [])]).framing).toBe("line");
    // Both runs can go to the native client, which speaks frames.
    expect(runsOnNativeClient(s)).toBe(true);
    expect(runnerScript(s, true)).toBe("bench/native/main.ts");
    expect(runnerScript(s, false)).toBe("bench/main.ts");
    expect(oursLabel(s)).toBe("ours frame");
  });

  test("acks: the ratio, every ack good, and p99 no worse where asked", () => {
    const ok = med({
      ours: { "acks/s": 1.5e6, "bad acks": 0, unacked: 0, "ack p99 ms": 1 },
      go: { "acks/s": 1e6, "bad acks": 0, unacked: 0, "ack p99 ms": 1.2 },
    });
    const v = judge({ kind: "acks", min: 1.5 }, ok);
    expect(v.pass).toBe(true);
    expect(v.summary).toBe(
      "ours/go 1.50 (>= 1.5): 1,500,000 vs 1,000,000 acks/s; bad or missing acks ours 0, go 0",
    );
    const p99 = judge({ kind: "acks", min: 1, p99NoWorse: true }, ok);
    expect(p99.pass).toBe(true);
    expect(p99.summary).toContain("ack p99 ours 1 vs go 1.200 ms (no worse)");
    const worse = (patch: Record<string, number>, p99NoWorse = true) =>
      judge({ kind: "acks", min: 1, p99NoWorse }, { ...ok, ours: { ...ok.ours, ...patch } }).pass;
    expect(worse({ "ack p99 ms": 1.3 })).toBe(false);
    expect(worse({ "ack p99 ms": 1.3 }, false)).toBe(true);
    expect(worse({ "bad acks": 1 })).toBe(false);
    expect(worse({ unacked: 2 })).toBe(false);
    expect(worse({ "acks/s": 0.9e6 })).toBe(false);
    expect(
      judge({ kind: "acks", min: 1 }, med({ ours: ok.ours as Record<string, number> })).pass,
    ).toBe(false);
  });

  test("framing: frames within the share of lines, nothing lost, every ack good", () => {
    const goal = { kind: "framing", subject: "f", reference: "l", minShare: 0.9 } as const;
    const f = { "recv msg/s": 9e6, lost: 0, "bad acks": 0, unacked: 0 };
    const l = { "recv msg/s": 10e6, lost: 0 };
    const v = judge(goal, med({ f, l }));
    expect(v.pass).toBe(true);
    expect(v.summary).toBe(
      "f 90% of l recv (>= 90%): 9,000,000 vs 10,000,000 msg/s; lost 0, bad or missing acks 0",
    );
    expect(judge(goal, med({ f: { ...f, "recv msg/s": 8.9e6 }, l })).pass).toBe(false);
    expect(judge(goal, med({ f, l: { ...l, lost: 1 } })).pass).toBe(false);
    expect(judge(goal, med({ f: { ...f, unacked: 1 }, l })).pass).toBe(false);
    expect(judge(goal, med({ f: { ...f, "recv msg/s": 12e6 }, l })).pass).toBe(true);
  });

  test("the ack figures read a result's acks, NaN without them", () => {
    const acks = FIGURES.find((x) => x.label === "acks/s");
    const bad = FIGURES.find((x) => x.label === "bad acks");
    const r = {
      acks: {
        rate: 5,
        failed: 1,
        outOfOrder: 2,
        errors: 3,
        unacked: 0,
        latencyMs: { p50Ms: 1, p99Ms: 2, p999Ms: 3 },
      },
    } as unknown as BenchResult;
    expect(acks?.pick(r)).toBe(5);
    expect(bad?.pick(r)).toBe(6);
    expect(acks?.pick({ acks: null } as unknown as BenchResult)).toBeNaN();
    expect(acks?.pick({} as BenchResult)).toBeNaN();
  });
});

describe("issue 20 scenarios: the NATS port against nats-server", () => {
  const issue20 = SCENARIOS.filter((s) => s.issue === 20);

  test("fan-out on one subject at saturation, 80 B, 1 -> 3 and 4 -> 16; --only 20 picks both", () => {
    expect(selectScenarios(SCENARIOS, "20").map(scenarioKey)).toEqual([
      "20.a NATS fan-out 1x3",
      "20.b NATS fan-out 4x16",
    ]);
    const shapes = issue20.map((s) => {
      const o = parseBenchArgs(s.args);
      return [o.pubs, o.subs, o.rate, o.msgSize];
    });
    expect(shapes).toEqual([
      [1, 3, 0, 80],
      [4, 16, 0, 80],
    ]);
  });

  test("ours-nats (every default) and nats-server, both spoken to in NATS, both on the native client", () => {
    for (const s of issue20) {
      expect(s.contenders).toEqual([
        { label: "ours-nats", relay: "ours-nats" },
        { label: "nats", relay: "nats" },
      ]);
      expect(s.contenders.every((c) => speaksNats(c.relay))).toBe(true);
      expect(s.goal).toEqual({ kind: "vs-nats", subject: "ours-nats", min: 3 });
      expect(oursLabel(s)).toBe("ours-nats");
      expect(runnerScript(s, true)).toBe("bench/native/main.ts");
    }
    expect(speaksNats("ours")).toBe(false);
    expect(speaksNats("go")).toBe(false);
  });

  test("vs-nats: at least 3x nats-server's deliveries and nothing lost; both sides reported", () => {
    const goal = { kind: "vs-nats", subject: "ours-nats", min: 3 } as const;
    const row = (recv: number, lost: number, cpu: number) => ({
      "recv msg/s": recv,
      lost,
      disconnected: 0,
      "relay CPU %": cpu,
    });
    const v = judge(goal, med({ "ours-nats": row(9e6, 0, 100.4), nats: row(3e6, 0, 126.6) }));
    expect(v.pass).toBe(true);
    expect(v.summary).toBe(
      "ours-nats/nats 3.00 (>= 3): 9,000,000 vs 3,000,000 msg/s; lost 0 vs 0, " +
        "disconnected 0 vs 0; server CPU 100% vs 127%",
    );
    expect(judge(goal, med({ "ours-nats": row(8.9e6, 0, 100), nats: row(3e6, 0, 100) })).pass).toBe(
      false,
    );
    expect(judge(goal, med({ "ours-nats": row(9e6, 1, 100), nats: row(3e6, 0, 100) })).pass).toBe(
      false,
    );
    expect(judge(goal, med({ "ours-nats": row(9e6, 0, 100) })).pass).toBe(false);
  });
});

describe("issue 21 scenarios: single-node NATS benches against nats-server", () => {
  const issue21 = SCENARIOS.filter((s) => s.issue === 21);

  test("--only 21 picks 21.a, b and c; each pits ours-nats against nats-server over NATS", () => {
    expect(selectScenarios(SCENARIOS, "21").map(scenarioKey)).toEqual([
      "21.a NATS 1,000 subjects, 1 sub each",
      "21.b NATS request/reply, 50 requesters",
      "21.c NATS 10,000 conns x 10 subscriptions",
    ]);
    for (const s of issue21) {
      expect(s.contenders.map((c) => c.relay)).toEqual(["ours-nats", "nats"]);
      expect(oursLabel(s)).toBe("ours-nats");
    }
  });

  test("21.a runs sat_client --subjects 1000 whatever --client says; b and c run nats-load", () => {
    const [a, b, c] = issue21 as [Scenario, Scenario, Scenario];
    const o = parseBenchArgs([...a.args, "--protocol", "nats"]);
    expect([o.pubs, o.subs, o.subjects, o.rate, o.msgSize]).toEqual([1, 1000, 1000, 0, 80]);
    expect(runnerScript(a, false)).toBe("bench/native/main.ts");
    expect(runnerScript(a, true)).toBe("bench/native/main.ts");
    expect(a.goal).toEqual({ kind: "vs-nats", subject: "ours-nats", min: 1.5 });
    for (const s of [b, c]) {
      expect(runnerScript(s, true)).toBe("bench/native/nats-load.ts");
      expect(runsOnNativeClient(s)).toBe(false);
    }
    expect(b.goal).toEqual({ kind: "vs-nats", subject: "ours-nats", min: 1.2, p99NoWorse: true });
    expect(c.goal).toEqual({ kind: "rss-vs-nats", subject: "ours-nats" });
    expect(headlineFigure(c.goal)).toBe("relay RSS MB");
  });

  test("vs-nats with p99NoWorse: the ratio and a p99 no worse than nats-server's", () => {
    const goal = { kind: "vs-nats", subject: "ours-nats", min: 1.2, p99NoWorse: true } as const;
    const row = (recv: number, p99: number) => ({
      "recv msg/s": recv,
      "p99 ms": p99,
      lost: 0,
      disconnected: 0,
      "relay CPU %": 100,
    });
    const v = judge(goal, med({ "ours-nats": row(60_000, 2), nats: row(50_000, 2.5) }));
    expect(v.pass).toBe(true);
    expect(v.summary).toStartWith(
      "ours-nats/nats 1.20 (>= 1.2): p99 2 vs 2.500 ms (no worse: yes); ",
    );
    expect(judge(goal, med({ "ours-nats": row(60_000, 2.6), nats: row(50_000, 2.5) })).pass).toBe(
      false,
    );
    expect(judge(goal, med({ "ours-nats": row(59_000, 2), nats: row(50_000, 2.5) })).pass).toBe(
      false,
    );
  });

  test("rss-vs-nats reports both RSS figures; fails only when a side is missing or lost connections", () => {
    const goal = { kind: "rss-vs-nats", subject: "ours-nats" } as const;
    const row = (rss: number, lost: number) => ({ "relay RSS MB": rss, lost });
    const v = judge(goal, med({ "ours-nats": row(239, 0), nats: row(274, 0) }));
    expect(v).toEqual({
      pass: true,
      summary:
        "RSS ours-nats 239 MB vs nats 274 MB (ours-nats/nats 0.87, reported); unconfirmed 0 vs 0",
    });
    expect(judge(goal, med({ "ours-nats": row(239, 0), nats: row(274, 3) })).pass).toBe(false);
    expect(judge(goal, med({ "ours-nats": row(239, 0) })).pass).toBe(false);
  });
});
