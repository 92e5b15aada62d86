import { describe, expect, test } from "bun:test";
import { SequenceTracker, sumCounts } from "../../bench/lib/sequence-tracker.ts";

function track(seqs: number[], lastSent: number) {
  const t = new SequenceTracker();
  for (const s of seqs) t.observe(s);
  return t.counts(lastSent);
}

describe("SequenceTracker", () => {
  test("an in-order stream has no loss, duplicates or reordering", () => {
    expect(track([1, 2, 3, 4, 5], 5)).toEqual({
      received: 5,
      lost: 0,
      duplicated: 0,
      reordered: 0,
    });
  });

  test("a gap is lost", () => {
    expect(track([1, 2, 5, 6], 6)).toEqual({ received: 4, lost: 2, duplicated: 0, reordered: 0 });
  });

  test("messages never received after the last one seen are lost", () => {
    expect(track([1, 2, 3], 10).lost).toBe(7);
  });

  test("nothing received at all: everything sent is lost", () => {
    expect(track([], 4).lost).toBe(4);
  });

  test("a late message filling a gap is reordered, not lost", () => {
    expect(track([1, 3, 2, 4], 4)).toEqual({ received: 4, lost: 0, duplicated: 0, reordered: 1 });
  });

  test("a message seen twice is a duplicate", () => {
    expect(track([1, 2, 2, 3, 1], 3)).toEqual({
      received: 5,
      lost: 0,
      duplicated: 2,
      reordered: 0,
    });
  });

  test("a seq filled from a gap and then repeated is reordered once and duplicated once", () => {
    expect(track([1, 4, 2, 2, 3], 4)).toEqual({
      received: 5,
      lost: 0,
      duplicated: 1,
      reordered: 2,
    });
  });

  test("filling the middle of a gap splits it", () => {
    const c = track([1, 10, 5, 2, 9], 10);
    expect(c.reordered).toBe(3);
    expect(c.lost).toBe(5); // 3, 4, 6, 7, 8
  });

  test("a huge jump is one gap, not millions of entries", () => {
    const t = new SequenceTracker();
    t.observe(1);
    t.observe(5_000_001);
    t.observe(2_500_000);
    expect(t.counts(5_000_001)).toEqual({
      received: 3,
      lost: 4_999_998,
      duplicated: 0,
      reordered: 1,
    });
  });

  test("hasAllUpTo is true only when no gap is open and the last seq has arrived", () => {
    const t = new SequenceTracker();
    t.observe(1);
    t.observe(3);
    expect(t.hasAllUpTo(3)).toBe(false);
    t.observe(2);
    expect(t.hasAllUpTo(3)).toBe(true);
    expect(t.hasAllUpTo(4)).toBe(false);
  });

  test("sumCounts adds every field", () => {
    const total = sumCounts([
      { received: 3, lost: 1, duplicated: 0, reordered: 2 },
      { received: 4, lost: 0, duplicated: 5, reordered: 1 },
    ]);
    expect(total).toEqual({ received: 7, lost: 1, duplicated: 5, reordered: 3 });
  });
});
