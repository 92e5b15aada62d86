import { expect, test } from "bun:test";
import { copyRange } from "../../src/util/copy-range.ts";

test("copyRange copies source[start, end) to target at an offset, on plain Uint8Arrays", () => {
  const source = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  const target = new Uint8Array(6).fill(9);
  expect(copyRange.call(source.subarray(1), target, 2, 1, 4)).toBe(3);
  expect([...target]).toEqual([9, 9, 2, 3, 4, 9]);
});
