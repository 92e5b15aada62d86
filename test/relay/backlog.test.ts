import { describe, expect, test } from "bun:test";
import { Backlog, type ByteSink } from "../../src/relay/backlog.ts";
import { concat, seededRandom } from "../support/harness.ts";

/** A sink that takes at most `budget()` bytes per write, recording what it took. */
function budgetSink(budget: () => number): ByteSink & { taken: Uint8Array[]; calls: number } {
  const taken: Uint8Array[] = [];
  const sink = {
    taken,
    calls: 0,
    write(bytes: Uint8Array, offset: number, length: number): number {
      sink.calls++;
      const n = Math.min(length, budget());
      if (n > 0) taken.push(bytes.slice(offset, offset + n));
      return n;
    },
  };
  return sink;
}

const pattern = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 255);

describe("Backlog", () => {
  test("starts empty; a write to an empty backlog calls nothing", () => {
    const backlog = new Backlog();
    const sink = budgetSink(() => 100);
    expect(backlog.length).toBe(0);
    expect(backlog.writeTo(sink)).toBe(0);
    expect(sink.calls).toBe(0);
  });

  test("hands out every appended byte in order, whatever the sink takes per write", () => {
    const random = seededRandom(7);
    for (let round = 0; round < 200; round++) {
      const backlog = new Backlog();
      const expected: Uint8Array[] = [];
      const sink = budgetSink(() => (random() < 0.2 ? 0 : Math.floor(random() * 70_000)));
      for (let i = 0; i < 12; i++) {
        const size =
          random() < 0.3 ? 32 * 1024 + Math.floor(random() * 100_000) : Math.floor(random() * 3000);
        const source = pattern(size + 10, i + round);
        backlog.append(source, 5, 5 + size, random() < 0.5);
        expected.push(source.slice(5, 5 + size));
        if (random() < 0.4) backlog.writeTo(sink);
      }
      const all = concat(expected);
      let guard = 0;
      while (backlog.length > 0 && guard++ < 10_000) backlog.writeTo(sink);
      expect(backlog.length).toBe(0);
      expect(concat(sink.taken)).toEqual(all);
    }
  });

  test("keeps a long run from a retainable buffer by reference, copies everything else", () => {
    const backlog = new Backlog();
    const long = pattern(40 * 1024, 1);
    const short = pattern(100, 2);
    const reusable = pattern(40 * 1024, 3);
    backlog.append(long, 0, long.length, true);
    backlog.append(short, 0, short.length, true);
    backlog.append(reusable, 0, reusable.length, false);
    const expectedShort = short.slice();
    const expectedReusable = reusable.slice();
    long.fill(1); // visible: kept by reference (the relay never writes to a read chunk)
    short.fill(2); // invisible: copied
    reusable.fill(3); // invisible: copied
    const sink = budgetSink(() => Number.MAX_SAFE_INTEGER);
    backlog.writeTo(sink);
    expect(concat(sink.taken)).toEqual(
      concat([new Uint8Array(40 * 1024).fill(1), expectedShort, expectedReusable]),
    );
  });

  test("small appends share owned blocks, so a drain is a few large writes", () => {
    const backlog = new Backlog();
    const message = pattern(80, 9);
    for (let i = 0; i < 2000; i++) backlog.append(message, 0, 80, false); // 160,000 bytes
    const sink = budgetSink(() => Number.MAX_SAFE_INTEGER);
    expect(backlog.writeTo(sink)).toBe(160_000);
    expect(sink.calls).toBeLessThanOrEqual(3);
  });

  test("stops at the first short write and resumes where it stopped", () => {
    const backlog = new Backlog();
    backlog.append(pattern(50_000, 4), 0, 50_000, true);
    backlog.append(pattern(50_000, 5), 0, 50_000, true);
    let budget = 30_000;
    const sink = budgetSink(() => {
      const n = budget;
      budget = 0;
      return n;
    });
    expect(backlog.writeTo(sink)).toBe(30_000);
    expect(sink.calls).toBe(1);
    expect(backlog.length).toBe(70_000);
    budget = 100_000;
    expect(backlog.writeTo(sink)).toBe(20_000); // the rest of the first span; the sink is then empty
    budget = 100_000;
    expect(backlog.writeTo(sink)).toBe(50_000);
    expect(concat(sink.taken)).toEqual(concat([pattern(50_000, 4), pattern(50_000, 5)]));
  });

  test("clear reports what it dropped", () => {
    const backlog = new Backlog();
    backlog.append(pattern(1000, 6), 0, 1000, false);
    backlog.append(pattern(40_000, 6), 0, 40_000, true);
    expect(backlog.clear()).toBe(41_000);
    expect(backlog.length).toBe(0);
  });
});
