import { describe, expect, test } from "bun:test";
import { LineCounter, SampledSequenceCheck } from "../../bench/lib/light-count.ts";
import { decoded, decodeLine, encodeMessage } from "../../bench/lib/message.ts";

const text = new TextEncoder();

function collect(every: number) {
  const samples: string[] = [];
  const counter = new LineCounter(every, (bytes, start, end) =>
    samples.push(new TextDecoder().decode(bytes.subarray(start, end))),
  );
  return { counter, samples };
}

describe("LineCounter", () => {
  test("counts newline-terminated messages whatever the chunking", () => {
    const { counter } = collect(1000);
    expect(counter.push(text.encode("a\nb\nc"))).toBe(2);
    expect(counter.push(text.encode("c\n"))).toBe(1);
    expect(counter.push(text.encode(""))).toBe(0);
    expect(counter.push(text.encode("d"))).toBe(0);
    expect(counter.push(text.encode("\n\n"))).toBe(2);
    expect(counter.count).toBe(5);
  });

  test("samples every Nth message, the first one included", () => {
    const { counter, samples } = collect(3);
    counter.push(text.encode("1\n2\n3\n4\n5\n6\n7\n"));
    expect(samples).toEqual(["1", "4", "7"]);
  });

  test("a sample due on a message split across chunks moves to the next whole one", () => {
    const { counter, samples } = collect(2);
    counter.push(text.encode("1\n2\n3"));
    counter.push(text.encode("3\n4\n5\n"));
    // 1 sampled, 3 is due but began in the earlier chunk: 4 is taken instead, then 6 would be.
    expect(samples).toEqual(["1", "4"]);
    expect(counter.count).toBe(5);
  });

  test("a chunk with no newline keeps the counter mid-message", () => {
    const { counter, samples } = collect(1);
    counter.push(text.encode("ab"));
    counter.push(text.encode("cd"));
    counter.push(text.encode("e\nf\n"));
    expect(samples).toEqual(["f"]);
  });

  test("refuses a sample interval below 1", () => {
    expect(() => new LineCounter(0, () => {})).toThrow(RangeError);
  });

  test("sampled bytes decode as bench messages", () => {
    const buf = new Uint8Array(800);
    let end = 0;
    for (let seq = 1; seq <= 10; seq++)
      end = encodeMessage(buf, end, 2, seq, 1_700_000_000_000.5, 80);
    const seqs: number[] = [];
    const counter = new LineCounter(4, (bytes, start, stop) => {
      expect(decodeLine(bytes, start, stop)).toBe(true);
      seqs.push(decoded.seq);
    });
    counter.push(buf.subarray(0, end));
    expect(seqs).toEqual([1, 5, 9]);
  });
});

describe("SampledSequenceCheck", () => {
  test("a lossless single-publisher stream: count equals the sampled seq", () => {
    const check = new SampledSequenceCheck(1);
    check.observe(0, 1, 1);
    check.observe(0, 1001, 1001);
    check.observe(0, 2001, 2001);
    expect(check.counts(3000, [3000])).toEqual({
      received: 3000,
      lost: 0,
      duplicated: 0,
      reordered: 0,
    });
  });

  test("loss shows in a sample even when duplicates make up the final count", () => {
    const check = new SampledSequenceCheck(1);
    check.observe(0, 500, 400); // 100 never arrived before seq 500
    const counts = check.counts(3000, [3000]); // ...yet 100 extra copies arrived later
    expect(counts.lost).toBe(100);
  });

  test("final shortfall and excess are loss and duplicates", () => {
    expect(new SampledSequenceCheck(2).counts(90, [50, 50]).lost).toBe(10);
    expect(new SampledSequenceCheck(2).counts(105, [50, 50]).duplicated).toBe(5);
  });

  test("interleaved publishers: the bound is the sum of their latest samples", () => {
    const check = new SampledSequenceCheck(2);
    check.observe(0, 10, 19); // pub 1 may have sent 9 by now
    check.observe(1, 10, 20);
    expect(check.counts(20, [10, 10]).lost).toBe(0);
    check.observe(0, 30, 35); // 30 + 10 = 40 > 35: at least 5 lost
    expect(check.counts(40, [30, 10]).lost).toBe(5);
  });

  test("a sampled seq that does not rise is counted as out of order", () => {
    const check = new SampledSequenceCheck(1);
    check.observe(0, 10, 10);
    check.observe(0, 10, 11);
    check.observe(0, 5, 12);
    expect(check.counts(12, [12]).reordered).toBe(2);
  });

  test("complete once the count reaches everything sent", () => {
    expect(SampledSequenceCheck.complete(29, [10, 20])).toBe(false);
    expect(SampledSequenceCheck.complete(30, [10, 20])).toBe(true);
  });
});
