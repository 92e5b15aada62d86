import { describe, expect, test } from "bun:test";
import { parseBenchArgs } from "../../bench/lib/args.ts";
import { NS_PER_MS } from "../../bench/lib/clock.ts";
import {
  createHistogram,
  encodeLatency,
  mergeLatency,
  percentileDistribution,
  summarize,
} from "../../bench/lib/latency-histogram.ts";
import type { RunMeasurement } from "../../bench/lib/run-bench.ts";
import { deliveredEverything, toBenchResult } from "../../bench/report/bench-result.ts";
import { renderPercentilePlot } from "../../bench/report/svg-plot.ts";
import { articleBlock, extraLines, headerLines } from "../../bench/report/text-report.ts";

/** A histogram of 1..n microseconds (in ns), one sample each. */
function microsUpTo(n: number) {
  const h = createHistogram();
  let sum = 0;
  for (let us = 1; us <= n; us++) {
    h.recordValue(us * 1000);
    sum += us * 1000;
  }
  return { histogram: h, sumNs: sum };
}

function measurement(overrides: Partial<RunMeasurement> = {}): RunMeasurement {
  return {
    threads: 2,
    windowSec: 15,
    sent: 150_000,
    received: 450_000,
    sentTotal: 160_000,
    receivedTotal: 480_000,
    service: microsUpTo(1000),
    corrected: microsUpTo(2000),
    sequence: { received: 480_000, lost: 0, duplicated: 0, reordered: 0 },
    malformed: 0,
    foreign: 0,
    negative: 0,
    sampled: 0,
    relayCpuPct: null,
    clientCpuPct: null,
    relayRssBytes: null,
    relayRssBaselineBytes: null,
    disconnected: 0,
    unflushedBytes: 0,
    publishStartMs: 1_700_000_000_000,
    extras: [],
    acks: null,
    ...overrides,
  };
}

const articleArgs = parseBenchArgs(
  "--pub 1 --sub 3 --rate 10000 --msg-size 80 --duration 15".split(" "),
);

describe("latency histograms", () => {
  test("percentiles come out in milliseconds within 3 significant digits", () => {
    const { histogram, sumNs } = microsUpTo(1000);
    const s = summarize(histogram, sumNs);
    expect(s.count).toBe(1000);
    expect(s.avgMs).toBeCloseTo(0.5005, 9); // exact mean, not bucketed
    expect(Math.abs(s.p50Ms - 0.5)).toBeLessThan(0.001);
    expect(Math.abs(s.p99Ms - 0.99)).toBeLessThan(0.001);
    expect(Math.abs(s.maxMs - 1)).toBeLessThan(0.001);
  });

  test("an empty histogram summarizes to zeros, not NaN", () => {
    const s = summarize(createHistogram(), 0);
    expect(Object.values(s).every((v) => v === 0)).toBe(true);
  });

  test("worker histograms survive encoding and merge into one", () => {
    const a = createHistogram();
    const b = createHistogram();
    a.recordValue(100 * NS_PER_MS);
    b.recordValue(200_000);
    b.recordValue(300_000);
    const merged = mergeLatency([encodeLatency(a, 100 * NS_PER_MS), encodeLatency(b, 500_000)]);
    expect(merged.histogram.totalCount).toBe(3);
    expect(merged.sumNs).toBe(100 * NS_PER_MS + 500_000);
    expect(Math.abs(merged.histogram.maxValue - 100 * NS_PER_MS)).toBeLessThan(100 * 1000);
  });

  test("the .hgrm distribution is in milliseconds and ends with the totals", () => {
    const text = percentileDistribution(microsUpTo(1000).histogram);
    expect(text).toContain("Value     Percentile TotalCount 1/(1-Percentile)");
    expect(text).toContain("Total count    =         1000");
    expect(text).toMatch(/#\[Max {5}= +1\.00/);
  });
});

describe("text report", () => {
  test("starts with the article's exact header and block", () => {
    const result = toBenchResult(articleArgs, "test relay", measurement());
    const lines = [...headerLines(result.params), ...articleBlock(result)];
    expect(lines).toEqual([
      "bench_client start",
      "pubs=1 subs=3 rate=10000/pub msg_size=80 duration=15s threads=2",
      "==== bench result ====",
      "Sent: 150000 msgs (10000.00 msg/s)",
      "Recv: 450000 msgs (30000.00 msg/s)",
      "Latency (ms): avg=0.500 p50=0.500 p90=0.900 p99=0.990",
      "======================",
    ]);
  });

  test("divides by the measured window, not the nominal duration", () => {
    const result = toBenchResult(articleArgs, "test relay", measurement({ windowSec: 12.5 }));
    expect(articleBlock(result)[1]).toBe("Sent: 150000 msgs (12000.00 msg/s)");
  });

  test("prints the Go client's no-samples line when nothing was measured", () => {
    const result = toBenchResult(
      articleArgs,
      "r",
      measurement({ service: { histogram: createHistogram(), sumNs: 0 } }),
    );
    expect(articleBlock(result)[3]).toBe("latency: no samples");
  });

  test("adds tail, corrected, delivery lines and the article table for the article scenario", () => {
    const text = extraLines(toBenchResult(articleArgs, "r", measurement())).join("\n");
    expect(text).toContain("p99.9=");
    expect(text).toContain("p99.99=");
    expect(text).toContain("Corrected latency (ms, from scheduled send): avg=1.000");
    expect(text).toContain("lost=0 duplicated=0 reordered=0");
    expect(text).toContain("| this run | 10,000.00 | 30,000.00 | 0.500 | 0.500 | 0.900 | 0.990 |");
    expect(text).toContain("| article Go | 7,707.53 | 23,122.60 | 0.171 | 0.169 | 0.220 | 0.296 |");
    expect(text).toContain(
      "| article C++ | 3,650.27 | 10,950.80 | 0.258 | 0.250 | 0.331 | 0.437 |",
    );
  });

  test("no article table for other scenarios; corrected latency is n/a at rate 0", () => {
    const saturation = parseBenchArgs(["--rate", "0", "--sub", "3"]);
    const text = extraLines(toBenchResult(saturation, "r", measurement({ corrected: null }))).join(
      "\n",
    );
    expect(text).not.toContain("article Go");
    expect(text).toContain("Corrected latency: n/a at --rate 0");
  });

  test("loss shows in the delivery line and fails the run", () => {
    const lossy = toBenchResult(
      articleArgs,
      "r",
      measurement({ sequence: { received: 10, lost: 3, duplicated: 1, reordered: 2 } }),
    );
    expect(extraLines(lossy).join("\n")).toContain("lost=3 duplicated=1 reordered=2");
    expect(deliveredEverything(lossy)).toBe(false);
    expect(deliveredEverything(toBenchResult(articleArgs, "r", measurement()))).toBe(true);
  });
});

describe("relay log and extra subscribers in the report", () => {
  const args = parseBenchArgs(["--rate", "0", "--sub", "3", "--stalled", "1"]);
  const start = 1_700_000_000_000;
  const m = measurement({
    corrected: null,
    publishStartMs: start,
    extras: [
      { kind: "idle", port: 3999, closedAtMs: undefined, bytes: 10 },
      { kind: "stalled", port: 4000, closedAtMs: start + 520, bytes: 0 },
    ],
  });
  const log = {
    cuts: [
      {
        peer: "127.0.0.1:4000",
        who: "stalled",
        reason: "slow_consumer" as const,
        atSec: 0.41,
        droppedBytes: 0,
      },
    ],
    stalls: [],
    maxStallHeldMs: null,
    totals: { slowConsumers: 1, writeTimeouts: 0, pauses: 2314, heldSec: 0.262, stalls: 1 },
  };

  test("one Relay line from the log, and the extras as the client saw them (idle ones left out)", () => {
    const r = toBenchResult(args, "r", m, log);
    expect(r.extraSubscribers).toEqual([
      { kind: "stalled", port: 4000, closedAtSec: 0.52, bytes: 0 },
    ]);
    const text = extraLines(r).join("\n");
    expect(text).toContain(
      "Relay: cut 1 subscriber (stalled: slow_consumer at +0.41 s); stall timeouts 1; publishers held 2,314 times, 0.262 s in total",
    );
    expect(text).toContain(
      "Extra subscribers (not counted; as the client saw them): stalled :4000 read 0.0 MB, closed at +0.52 s",
    );
    expect(JSON.parse(JSON.stringify(r)).relayLog.cuts[0].atSec).toBe(0.41);
  });

  test("no Relay line when the log is not ours", () => {
    const text = extraLines(toBenchResult(args, "go", m)).join("\n");
    expect(text).not.toContain("Relay:");
  });
});

describe("json result", () => {
  test("is one plain object with every figure", () => {
    const result = toBenchResult(articleArgs, "r", measurement());
    const parsed = JSON.parse(JSON.stringify(result));
    expect(parsed.sentRate).toBe(10_000);
    expect(parsed.receivedRate).toBe(30_000);
    expect(parsed.expectedReceived).toBe(450_000);
    expect(Object.keys(parsed.latencyMs)).toEqual([
      "count",
      "avgMs",
      "minMs",
      "p50Ms",
      "p90Ms",
      "p99Ms",
      "p999Ms",
      "p9999Ms",
      "maxMs",
    ]);
    expect(parsed.correctedLatencyMs.count).toBe(2000);
  });
});

describe("svg plot", () => {
  test("draws one line per series on a percentile axis", () => {
    const svg = renderPercentilePlot("1 pub x 3 sub", [
      { label: "service", histogram: microsUpTo(1000).histogram },
      { label: "corrected", histogram: microsUpTo(2000).histogram },
    ]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(2);
    expect(svg).toContain(">99.9%<");
    expect(svg).toContain("latency (ms)");
  });

  test("escapes the title", () => {
    expect(renderPercentilePlot("a < b & c", [])).toContain("a &lt; b &amp; c");
  });
});
