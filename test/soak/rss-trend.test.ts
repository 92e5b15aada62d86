import { describe, expect, test } from "bun:test";
import {
  median,
  quarters,
  type RssSample,
  rssTable,
  rssTrend,
  theilSenSlope,
} from "../../soak/rss-trend.ts";
import { seededRandom } from "../support/harness.ts";

const MIB = 1024;

/** One sample a second for `seconds`, RSS given in MiB by `mib(t)`. */
function run(seconds: number, mib: (t: number) => number): RssSample[] {
  return Array.from({ length: seconds }, (_, t) => ({
    atSec: t,
    rssKiB: Math.round(mib(t) * MIB),
  }));
}

describe("median and Theil-Sen", () => {
  test("median of odd and even counts, NaN for none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  test("the slope ignores a few wild points", () => {
    const points = Array.from({ length: 20 }, (_, x) => ({ x, y: 2 * x + 1 }));
    (points[3] as { y: number }).y = 500;
    (points[15] as { y: number }).y = -300;
    expect(theilSenSlope(points)).toBeCloseTo(2, 6);
    expect(theilSenSlope([{ x: 1, y: 1 }])).toBe(0);
  });

  test("quarters cut the time span, not the sample count", () => {
    const q = quarters(run(40, () => 50));
    expect(q.map((list) => list.length)).toEqual([10, 10, 10, 10]);
  });
});

describe("rssTrend", () => {
  test("flat memory with GC noise and a sawtooth is not growing", () => {
    const random = seededRandom(7);
    const samples = run(600, (t) => 48 + (t % 30) / 10 + random() * 4);
    const verdict = rssTrend(samples);
    expect(verdict.growing).toBe(false);
    expect(verdict.explanation).toStartWith("RSS is flat");
  });

  test("growth during warm-up (the first quarter) is ignored", () => {
    const samples = run(600, (t) => (t < 120 ? 20 + t / 2 : 80));
    expect(rssTrend(samples).growing).toBe(false);
  });

  test("a steady leak is growing, at 30 s and at 600 s", () => {
    // 1 MiB a second for 30 s: 15 MiB over the second half.
    expect(rssTrend(run(30, (t) => 50 + t)).growing).toBe(true);
    // 6 MiB a minute over 10 minutes: 30 MiB over the second half.
    const verdict = rssTrend(run(600, (t) => 50 + t / 10));
    expect(verdict.growing).toBe(true);
    expect(verdict.slopeMiBPerMin).toBeCloseTo(6, 1);
    expect(verdict.explanation).toStartWith("RSS keeps growing");
  });

  test("a short late spike moves one measure at most: not growing", () => {
    const samples = run(600, (t) => (t >= 580 ? 120 : 50));
    expect(rssTrend(samples).growing).toBe(false);
  });

  test("growth under the threshold (8 MiB, or 5% of the second quarter) passes", () => {
    expect(rssTrend(run(600, (t) => 50 + t / 100)).growing).toBe(false);
    // 5% of 400 MiB is 20 MiB: 15 MiB of growth over the second half is under it.
    const big = rssTrend(run(600, (t) => 400 + t / 20));
    expect(big.thresholdMiB).toBeCloseTo(20.4, 0);
    expect(big.growing).toBe(false);
  });

  test("too few samples cannot fail the run", () => {
    const verdict = rssTrend(run(3, (t) => 50 + t * 100));
    expect(verdict.growing).toBe(false);
    expect(verdict.explanation).toContain("too few samples");
  });
});

describe("rssTable", () => {
  test("cuts the run into equal stretches with min, median and max", () => {
    const rows = rssTable(
      run(100, (t) => 50 + t / 10),
      10,
    );
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatchObject({ fromSec: 0, toSec: 9 });
    expect(rows[0]?.minMiB).toBeCloseTo(50, 1);
    expect(rows[9]?.maxMiB).toBeCloseTo(59.9, 1);
    expect(rssTable([], 10)).toEqual([]);
  });
});
