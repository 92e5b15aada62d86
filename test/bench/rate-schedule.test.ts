import { describe, expect, test } from "bun:test";
import { RateSchedule } from "../../bench/lib/rate-schedule.ts";

const START = 1_700_000_000_000;

describe("RateSchedule", () => {
  test("spaces messages 1/rate apart from the start", () => {
    const s = new RateSchedule(START, 10_000);
    expect(s.scheduledMs(1)).toBe(START);
    expect(s.scheduledMs(2)).toBeCloseTo(START + 0.1, 9);
    expect(s.scheduledMs(10_001)).toBeCloseTo(START + 1000, 9);
  });

  test("nothing is due before the start; message 1 is due at it", () => {
    const s = new RateSchedule(START, 1000);
    expect(s.dueThrough(START - 0.5)).toBe(0);
    expect(s.dueThrough(START)).toBe(1);
    expect(s.dueThrough(START + 0.999)).toBe(1);
    expect(s.dueThrough(START + 1)).toBe(2);
  });

  test("a late wake-up makes every overdue message due at once (open loop)", () => {
    const s = new RateSchedule(START, 10_000);
    // Asleep for 5 ms after message 1: 50 more are due, to go out in one batch.
    expect(s.batchUpTo(1, START + 5, START + 1000)).toBe(51);
  });

  test("a run of D seconds at rate R schedules exactly R*D messages", () => {
    for (const [rate, seconds] of [
      [10_000, 15],
      [1000, 10],
      [7, 3],
      [333, 1.5],
    ] as const) {
      const s = new RateSchedule(START, rate);
      expect(s.countBefore(START + seconds * 1000)).toBe(Math.ceil(rate * seconds));
    }
  });

  test("batches never pass the end of the run", () => {
    const s = new RateSchedule(START, 10_000);
    const end = START + 1000;
    expect(s.batchUpTo(9_990, end + 50, end)).toBe(10_000);
    expect(s.batchUpTo(10_000, end + 50, end)).toBe(10_000);
  });

  test("a batch is empty when nothing new is due", () => {
    const s = new RateSchedule(START, 100);
    expect(s.batchUpTo(3, START + 25, START + 1000)).toBe(3);
  });

  test("sending each batch as the schedule says keeps the rate exact whatever the wake-up jitter", () => {
    const rate = 10_000;
    const s = new RateSchedule(START, rate);
    const end = START + 2000;
    let sent = 0;
    // Wake-ups at irregular gaps between 0.05 and 1.9 ms, from a fixed sequence.
    const gaps = [0.05, 1.9, 0.3, 0.13, 1.1, 0.7, 0.02, 1.5];
    for (let t = START, i = 0; t < end + 5; t += gaps[i++ % gaps.length] as number) {
      sent = s.batchUpTo(sent, t, end);
    }
    expect(sent).toBe(rate * 2);
  });

  test("rejects a rate of zero: saturation has no schedule", () => {
    expect(() => new RateSchedule(START, 0)).toThrow(RangeError);
  });
});

describe("RateSchedule.seqsWithin", () => {
  test("a 1 s warmup then a 15 s window at 10000/s holds seqs 10001..160000", () => {
    const s = new RateSchedule(START, 10_000);
    expect(s.seqsWithin(START + 1000, START + 16_000)).toEqual({ first: 10_001, last: 160_000 });
  });

  test("consecutive windows share no seq and miss none", () => {
    const s = new RateSchedule(START, 333);
    const a = s.seqsWithin(START, START + 1234.5);
    const b = s.seqsWithin(START + 1234.5, START + 5000);
    expect(b.first).toBe(a.last + 1);
    expect(b.last - a.first + 1).toBe(s.countBefore(START + 5000));
  });
});
