import { expect, test } from "bun:test";
import { ControlLineBuffer, OVER_LIMIT } from "../../src/protocol/nats-control-line.ts";
import { bytes, decoder } from "../support/harness.ts";

test("measure: the arguments up to the LF, without the CR before it", () => {
  const line = new ControlLineBuffer(5);
  expect(line.measure(bytes("abcde\r\n"), 0, 6)).toBe(5);
  expect(line.measure(bytes("abcde\n"), 0, 5)).toBe(5);
  expect(line.measure(bytes("abcdef\r\n"), 0, 7)).toBe(OVER_LIMIT);
  // A CR that is the first argument byte stays (parser.go takes that byte unread).
  expect(line.measure(bytes("\r\n"), 0, 1)).toBe(1);
});

test("hold: refused as soon as the arguments are known to be over the limit", () => {
  const line = new ControlLineBuffer(5);
  expect(line.hold(bytes("abcde"), 0, 5)).toBe(5);
  // limit + 1 bytes ending in CR may still be a line of exactly the limit.
  expect(line.hold(bytes("\r"), 0, 1)).toBe(6);
  expect(line.heldBytes).toBe(6);
  expect(line.hold(bytes("x"), 0, 1)).toBe(OVER_LIMIT);
  expect(line.heldBytes).toBe(0);
  const other = new ControlLineBuffer(5);
  expect(other.hold(bytes("abcdef"), 0, 6)).toBe(OVER_LIMIT);
});

test("complete: a CR held at the end of one chunk, the LF in the next", () => {
  const line = new ControlLineBuffer(5);
  line.hold(bytes("abcde\r"), 0, 6);
  expect(line.complete(bytes("\nrest"), 0, 0)).toBe(5);
  expect(decoder.decode(line.line.subarray(0, 5))).toBe("abcde");
  expect(line.heldBytes).toBe(0);
  line.hold(bytes("ab"), 0, 2);
  expect(line.complete(bytes("cdef\r\n"), 0, 5)).toBe(OVER_LIMIT);
  expect(line.heldBytes).toBe(0);
});

test("the buffer grows as needed up to limit + 1, and a lowered limit applies at once", () => {
  const line = new ControlLineBuffer(4096);
  const part = bytes("x".repeat(1000));
  for (let i = 0; i < 4; i++) expect(line.hold(part, 0, part.length)).toBe(1000 * (i + 1));
  expect(line.complete(bytes("y\r\n"), 0, 2)).toBe(4001);
  expect(line.line.length).toBeLessThanOrEqual(4097);
  line.hold(part, 0, part.length);
  line.limit = 999;
  expect(line.hold(bytes("z"), 0, 1)).toBe(OVER_LIMIT);
  expect(() => {
    line.limit = 0;
  }).toThrow(RangeError);
});
