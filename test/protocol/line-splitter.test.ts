import { beforeEach, describe, expect, test } from "bun:test";
import { LineSplitter, type SegmentSink } from "../../src/protocol/line-splitter.ts";
import {
  countNewlinesByIndexOf,
  createSimdNewlineCounter,
  type NewlineCounter,
} from "../../src/protocol/newline-count.ts";
import { bytes, concat } from "../support/harness.ts";

/**
 * Copies every segment at once, so later reuse of the splitter's buffers cannot hide a bug;
 * checks that a segment marked stable lies in the chunk being pushed (or is the constant
 * newline), since the relay keeps stable bytes by reference.
 */
class CollectingSink implements SegmentSink {
  parts: Uint8Array[] = [];
  pushing: Uint8Array | undefined;
  segment(source: Uint8Array, start: number, end: number, stable: boolean): void {
    expect(end).toBeGreaterThanOrEqual(start);
    if (this.pushing) {
      if (stable && source !== this.pushing) expect(Array.from(source)).toEqual([10]);
      if (!stable) expect(source).not.toBe(this.pushing);
    }
    this.parts.push(source.slice(start, end));
  }
  output(): Uint8Array {
    return concat(this.parts);
  }
}

/** What the relay must emit for a stream: each complete line, `\r` stripped, plus `\n`. */
function expectedOutput(
  input: Uint8Array,
  cleanClose: boolean,
): { out: Uint8Array; count: number } {
  const lines: Uint8Array[] = [];
  let start = 0;
  let count = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== 10) continue;
    const end = i > start && input[i - 1] === 13 ? i - 1 : i;
    lines.push(input.subarray(start, end), Uint8Array.of(10));
    count++;
    start = i + 1;
  }
  if (cleanClose && start < input.length) {
    const end = input[input.length - 1] === 13 ? input.length - 1 : input.length;
    lines.push(input.subarray(start, end), Uint8Array.of(10));
    count++;
  }
  return { out: concat(lines), count };
}

const simdCounter = createSimdNewlineCounter();
/** The splitter is exercised with each way of counting a run of whole lines. */
const COUNTERS: [string, NewlineCounter][] = [
  ...(simdCounter ? [["SIMD count", simdCounter] as [string, NewlineCounter]] : []),
  ["indexOf count", countNewlinesByIndexOf],
];

let counter: NewlineCounter = countNewlinesByIndexOf;

function run(chunks: Uint8Array[], maxLine = 1 << 20, cleanClose = true) {
  const splitter = new LineSplitter(maxLine, counter);
  const sink = new CollectingSink();
  let count = 0;
  for (const chunk of chunks) {
    sink.pushing = chunk;
    count += splitter.push(chunk, sink);
  }
  sink.pushing = undefined;
  if (cleanClose) count += splitter.finish(sink);
  return { out: sink.output(), count, splitter };
}

const FIXTURES: Record<string, Uint8Array> = {
  "plain lines": bytes("alpha\nbeta\ngamma\n"),
  "CRLF lines": bytes("one\r\ntwo\r\n\r\nthree\r\n"),
  "empty lines": bytes("\n\n\nx\n\n"),
  "a CR inside a line": bytes("a\rb\n\rc\n"),
  "unterminated last line": bytes("first\nsecond"),
  "unterminated last line with CR": bytes("first\nsecond\r"),
  "binary bytes": Uint8Array.from([0, 255, 1, 13, 10, 128, 13, 13, 10, 0, 10, 200, 201]),
};

test("this runtime compiles the SIMD newline counter (the relay would fall back to indexOf)", () => {
  expect(simdCounter).toBeDefined();
});

for (const [counterName, counterUnderTest] of COUNTERS) {
  describe(`LineSplitter (${counterName})`, () => {
    beforeEach(() => {
      counter = counterUnderTest;
    });

    for (const [name, input] of Object.entries(FIXTURES)) {
      const expected = expectedOutput(input, true);

      test(`${name}: whole input`, () => {
        const { out, count } = run([input]);
        expect(out).toEqual(expected.out);
        expect(count).toBe(expected.count);
      });

      test(`${name}: every 2-way split point`, () => {
        for (let i = 0; i <= input.length; i++) {
          const { out, count } = run([input.subarray(0, i), input.subarray(i)]);
          expect(out).toEqual(expected.out);
          expect(count).toBe(expected.count);
        }
      });

      test(`${name}: every 3-way split`, () => {
        for (let i = 0; i <= input.length; i++) {
          for (let j = i; j <= input.length; j++) {
            const parts = [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
            const { out, count } = run(parts);
            expect(out).toEqual(expected.out);
            expect(count).toBe(expected.count);
          }
        }
      });

      test(`${name}: one byte at a time`, () => {
        const parts = Array.from(input, (byte) => Uint8Array.of(byte));
        const { out, count } = run(parts);
        expect(out).toEqual(expected.out);
        expect(count).toBe(expected.count);
      });
    }

    test("a chunk of complete lines comes out as one zero-copy segment", () => {
      const chunk = bytes("a\nbb\nccc\n");
      const seen: { source: Uint8Array; start: number; end: number }[] = [];
      const count = new LineSplitter(100, counter).push(chunk, {
        segment: (source, start, end) => seen.push({ source, start, end }),
      });
      expect(count).toBe(3);
      expect(seen).toEqual([{ source: chunk, start: 0, end: chunk.length }]);
    });

    test("64 KiB of whole lines after a carried-over line: two segments, every line counted", () => {
      const lines = concat(Array.from({ length: 800 }, (_, i) => bytes(`${"m".repeat(70)}${i}\n`)));
      const chunk = concat([bytes("tail of the first\n"), lines, bytes("next")]);
      const splitter = new LineSplitter(1 << 20, counter);
      const seen: { start: number; end: number; stable: boolean }[] = [];
      const sink = {
        segment: (source: Uint8Array, start: number, end: number, stable: boolean) => {
          seen.push({ start, end, stable });
          if (stable) expect(source).toBe(chunk);
        },
      };
      expect(splitter.push(bytes("the "), sink)).toBe(0);
      expect(splitter.push(chunk, sink)).toBe(801);
      expect(seen).toEqual([
        { start: 0, end: 4, stable: false },
        { start: 0, end: chunk.length - 4, stable: true },
      ]);
      expect(splitter.pendingBytes).toBe(4);
    });

    test("a chunk longer than --max-line still has each line checked", () => {
      const ok = concat(Array.from({ length: 50 }, () => bytes(`${"a".repeat(79)}\n`)));
      const { out, count, splitter } = run(
        [concat([ok, bytes(`${"b".repeat(101)}\nlater\n`)])],
        100,
      );
      expect(out).toEqual(ok);
      expect(count).toBe(50);
      expect(splitter.tooLong).toBe(true);
    });

    test("holds back an unfinished line and reports it as pending", () => {
      const splitter = new LineSplitter(100, counter);
      const sink = new CollectingSink();
      expect(splitter.push(bytes("done\npart"), sink)).toBe(1);
      expect(splitter.pendingBytes).toBe(4);
      expect(sink.output()).toEqual(bytes("done\n"));
    });

    test("discard drops the unfinished line (a publisher reset)", () => {
      const splitter = new LineSplitter(100, counter);
      const sink = new CollectingSink();
      splitter.push(bytes("x\nhalf a mess"), sink);
      expect(splitter.discard()).toBe(11);
      expect(splitter.finish(sink)).toBe(0);
      expect(sink.output()).toEqual(bytes("x\n"));
    });

    test("emitted bytes stay intact until the next call, even when a new tail is held back", () => {
      const splitter = new LineSplitter(100, counter);
      const seen: Uint8Array[] = [];
      const sink = {
        segment: (s: Uint8Array, a: number, b: number) => seen.push(s.subarray(a, b)),
      };
      splitter.push(bytes("abc"), sink);
      splitter.push(bytes("def\nXYZW"), sink); // emits the held "abc", then holds "XYZW"
      expect(concat(seen)).toEqual(bytes("abcdef\n"));
    });

    describe("--max-line", () => {
      test("a line of exactly max-line bytes passes, CR and LF not counted", () => {
        expect(run([bytes("12345\n")], 5).out).toEqual(bytes("12345\n"));
        expect(run([bytes("12345\r\n")], 5).out).toEqual(bytes("12345\n"));
        expect(run([bytes("123"), bytes("45\r"), bytes("\n")], 5).out).toEqual(bytes("12345\n"));
      });

      test("lines before the long one are delivered, nothing of it or after it", () => {
        for (const chunks of [
          [bytes("ok\n123456\nlater\n")],
          [bytes("ok\n1234"), bytes("56\nlater\n")],
          [bytes("ok\n123"), bytes("4"), bytes("5"), bytes("6"), bytes("7")],
        ]) {
          const { out, splitter } = run(chunks, 5, false);
          expect(out).toEqual(bytes("ok\n"));
          expect(splitter.tooLong).toBe(true);
          expect(splitter.push(bytes("more\n"), new CollectingSink())).toBe(0);
        }
      });

      test("an over-long unterminated last line is not delivered on close", () => {
        const { out, count, splitter } = run([bytes("ok\n123456")], 5, true);
        expect(out).toEqual(bytes("ok\n"));
        expect(count).toBe(1);
        expect(splitter.tooLong).toBe(true);
      });
    });

    test("random bytes in random chunkings match the reference (fixed seed)", () => {
      let seed = 0x2545f491;
      const random = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      for (let round = 0; round < 300; round++) {
        const input = Uint8Array.from({ length: Math.floor(random() * 400) }, () => {
          const r = random();
          return r < 0.1 ? 10 : r < 0.15 ? 13 : Math.floor(random() * 256);
        });
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < input.length; ) {
          const size = 1 + Math.floor(random() * 40);
          chunks.push(input.subarray(at, at + size));
          at += size;
        }
        const cleanClose = random() < 0.5;
        const expected = expectedOutput(input, cleanClose);
        const { out, count } = run(chunks, 1 << 20, cleanClose);
        expect(out).toEqual(expected.out);
        expect(count).toBe(expected.count);
      }
    });
  });
}
