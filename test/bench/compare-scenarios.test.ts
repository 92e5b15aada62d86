import { describe, expect, test } from "bun:test";
import {
  FIGURES,
  formatFigure,
  judge,
  median,
  mediansOf,
  ratio,
  roundOrder,
  SCENARIOS,
} from "../../bench/compare/scenarios.ts";
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
    expect(SCENARIOS.map((s) => s.target)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 8]);
    for (const s of SCENARIOS) {
      const labels = s.contenders.map((c) => c.label);
      expect(new Set(labels).size).toBe(labels.length);
      expect(labels.some((l) => l.startsWith("ours"))).toBe(true);
      expect(labels.some((l) => l.startsWith("go"))).toBe(true);
    }
    expect(FIGURES.find((f) => f.label === "recv msg/s")?.higherIsBetter).toBe(true);
  });

  test("saturation runs ours with --slow-consumer block and light subscribers", () => {
    for (const s of SCENARIOS.filter((x) => x.target <= 3)) {
      expect(s.contenders.find((c) => c.label === "ours")?.relayFlags).toEqual([
        "--slow-consumer",
        "block",
      ]);
      expect(s.args).toContain("--sample");
    }
    expect(SCENARIOS[2]?.args.join(" ")).toContain("--msgs-per-write 1");
  });

  test("nats-server runs in targets 1, 2 and 5 only", () => {
    const withNats = SCENARIOS.filter((s) => s.contenders.some((c) => c.relay === "nats"));
    expect(withNats.map((s) => s.target)).toEqual([1, 2, 5]);
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
