import { describe, expect, test } from "bun:test";
import { SendTimeline } from "../../soak/publisher.ts";

describe("SendTimeline", () => {
  test("answers the highest seq stamped at or before a time", () => {
    const timeline = new SendTimeline();
    timeline.record(4, 1000);
    timeline.record(9, 1002);
    timeline.record(12, 1005);
    expect(timeline.lastSeqStampedBy(999)).toBe(0);
    expect(timeline.lastSeqStampedBy(1000)).toBe(4);
    expect(timeline.lastSeqStampedBy(1001.5)).toBe(4);
    expect(timeline.lastSeqStampedBy(1004)).toBe(9);
    expect(timeline.lastSeqStampedBy(10_000)).toBe(12);
  });

  test("batches in one millisecond, or a clock stepping back, extend the last entry", () => {
    const timeline = new SendTimeline();
    timeline.record(4, 1000);
    timeline.record(6, 1000);
    timeline.record(8, 990);
    expect(timeline.lastSeqStampedBy(1000)).toBe(8);
    expect(timeline.lastSeqStampedBy(995)).toBe(0);
  });

  test("grows past its first allocation", () => {
    const timeline = new SendTimeline();
    for (let ms = 1; ms <= 5000; ms++) timeline.record(ms * 2, ms);
    expect(timeline.lastSeqStampedBy(4321)).toBe(8642);
  });
});
