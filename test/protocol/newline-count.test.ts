import { describe, expect, test } from "bun:test";
import {
  countNewlines,
  countNewlinesByIndexOf,
  createSimdNewlineCounter,
  type NewlineCounter,
} from "../../src/protocol/newline-count.ts";
import { bytes, concat, seededRandom } from "../support/harness.ts";

/** The contract, spelled out byte by byte: the reference for both counters. */
function reference(data: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) {
    if (data[i] !== 10) continue;
    if (i > start && data[i - 1] === 13) return -1;
    count++;
  }
  return count;
}

const simd = createSimdNewlineCounter();
const COUNTERS: [string, NewlineCounter | undefined][] = [
  ["SIMD", simd],
  ["indexOf", countNewlinesByIndexOf],
  ["relay's (indexOf under 256 B, SIMD from there)", countNewlines],
];

/** Filler bytes with newlines at the given positions and \r where asked. */
function layout(length: number, newlines: number[], carriageReturns: number[] = []): Uint8Array {
  const data = new Uint8Array(length).fill(0x61);
  for (const at of newlines) data[at] = 10;
  for (const at of carriageReturns) data[at] = 13;
  return data;
}

for (const [name, count] of COUNTERS) {
  describe(`${name} newline counter`, () => {
    test("is available in this runtime", () => {
      expect(count).toBeDefined();
    });
    if (!count) return;

    test("every start and end over small inputs", () => {
      for (const input of [
        bytes("alpha\nbeta\ngamma\n"),
        bytes("one\r\ntwo\r\n\r\nthree"),
        bytes("\n\n\n\r\r\n\r"),
        bytes("a\rb\n\rc\n\r"),
        Uint8Array.from([0, 255, 13, 10, 128, 13, 13, 10, 0, 10, 200, 13]),
      ]) {
        for (let start = 0; start <= input.length; start++) {
          for (let end = start; end <= input.length; end++) {
            expect([start, end, count(input, start, end)]).toEqual([
              start,
              end,
              reference(input, start, end),
            ]);
          }
        }
      }
    });

    test("every start and end over 400 bytes of mixed line ends (short and kernel ranges)", () => {
      const pattern = bytes("ab\ncd\r\n\r\n\nefg\rh\n");
      const input = concat(Array.from({ length: 25 }, () => pattern)).subarray(0, 400);
      for (let start = 0; start <= input.length; start++) {
        for (let end = start; end <= input.length; end += 7) {
          expect(count(input, start, end)).toBe(reference(input, start, end));
        }
      }
      const noCr = input.map((byte) => (byte === 13 ? 0x2e : byte));
      for (let start = 0; start <= noCr.length; start += 3) {
        expect(count(noCr, start, noCr.length)).toBe(reference(noCr, start, noCr.length));
      }
    });

    test("a \\r before the range's first byte does not count", () => {
      expect(count(bytes("\r\nx\n"), 1, 4)).toBe(2);
    });

    test("newlines and a \\r\\n at every offset around 16-byte, 64-byte, 4032-byte and 16 KiB edges", () => {
      for (const edge of [16, 64, 4032, 16 * 1024, 32 * 1024]) {
        for (let at = Math.max(1, edge - 18); at <= edge + 18; at++) {
          const plain = layout(edge + 40, [at, edge + 39]);
          expect(count(plain, 0, plain.length)).toBe(2);
          const crlf = layout(edge + 40, [at, edge + 39], [at - 1]);
          expect(count(crlf, 0, crlf.length)).toBe(-1);
        }
      }
    });

    test("every byte a newline: no lane overflows (600,000 in one call)", () => {
      for (const length of [4032, 4033, 4095, 4096, 4160, 16 * 1024 + 17, 600_000]) {
        expect(count(new Uint8Array(length).fill(10), 0, length)).toBe(length);
      }
    });

    test("random bytes, random ranges up to 300 KB (fixed seed)", () => {
      const random = seededRandom(0x5eed);
      for (let round = 0; round < 300; round++) {
        const length = Math.floor(random() * (round % 10 === 0 ? 300_000 : 2_000));
        const data = Uint8Array.from({ length }, () => {
          const r = random();
          return r < 0.05 ? 10 : r < 0.06 ? 13 : Math.floor(random() * 256);
        });
        const start = Math.floor(random() * (length + 1));
        const end = start + Math.floor(random() * (length - start + 1));
        expect(count(data, start, end)).toBe(reference(data, start, end));
      }
    });
  });
}
