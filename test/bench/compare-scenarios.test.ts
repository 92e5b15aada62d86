import { describe, expect, test } from "bun:test";
import {
  FIGURES,
  formatFigure,
  median,
  ratio,
  roundOrder,
  SCENARIOS,
} from "../../bench/compare/scenarios.ts";

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

  test("the matrix has the article scenario, 4x16 and saturation 1x3", () => {
    expect(SCENARIOS.map((s) => s.args.join(" "))).toEqual([
      "--pub 1 --sub 3 --rate 10000 --msg-size 80",
      "--pub 4 --sub 16 --rate 10000 --msg-size 80",
      "--pub 1 --sub 3 --rate 0 --msg-size 80",
    ]);
    expect(FIGURES.find((f) => f.label === "recv msg/s")?.higherIsBetter).toBe(true);
  });
});
