import { describe, expect, test } from "bun:test";
import { defaultThreads, planThreads } from "../../bench/lib/thread-plan.ts";

describe("planThreads", () => {
  test("publishers and subscribers never share a worker", () => {
    const plan = planThreads(1, 3, 2);
    expect(plan.threads).toBe(2);
    expect(plan.publisherIdsByWorker).toEqual([[0]]);
    expect(plan.subscriberIdsByWorker).toEqual([[0, 1, 2]]);
  });

  test("even a request for one thread gets one worker per side", () => {
    expect(planThreads(1, 1, 1).threads).toBe(2);
  });

  test("workers are split in proportion to connections and dealt round-robin", () => {
    const plan = planThreads(4, 16, 16);
    expect(plan.publisherIdsByWorker.length).toBe(3);
    expect(plan.subscriberIdsByWorker.length).toBe(13);
    expect(plan.publisherIdsByWorker.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(plan.subscriberIdsByWorker.flat().length).toBe(16);
    expect(plan.publisherIdsByWorker[0]).toEqual([0, 3]);
  });

  test("never more workers than connections", () => {
    const plan = planThreads(1, 2, 32);
    expect(plan.threads).toBe(3);
  });

  test("the default uses every core but at least two", () => {
    expect(defaultThreads(1)).toBe(2);
    expect(defaultThreads(16)).toBe(16);
  });
});
