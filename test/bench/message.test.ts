import { describe, expect, test } from "bun:test";
import { decoded, decodeLine, encodeMessage, prefixLength } from "../../bench/lib/message.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("encodeMessage", () => {
  test("writes pubId,seq,epoch-ns, padding and newline to exactly msgSize bytes", () => {
    const buf = new Uint8Array(128);
    const end = encodeMessage(buf, 0, 2, 15, 1_700_000_000_123.25, 80);
    expect(end).toBe(80);
    const line = text(buf.subarray(0, end));
    expect(line.startsWith("2,15,1700000000123250000,x")).toBe(true);
    expect(line.endsWith("x\n")).toBe(true);
    expect(line.length).toBe(80);
  });

  test("matches the Go client's layout: the timestamp is 19 digits of epoch nanoseconds", () => {
    const buf = new Uint8Array(64);
    const end = encodeMessage(buf, 0, 0, 1, 1_795_316_318_916.5, 64);
    const fields = text(buf.subarray(0, end)).split(",");
    expect(fields[2]).toBe("1795316318916500000");
    expect(fields[3]).toMatch(/^x+\n$/);
  });

  test("zero-pads the sub-millisecond nanoseconds", () => {
    const buf = new Uint8Array(64);
    encodeMessage(buf, 0, 0, 1, 1_000_000_000_000.0625, 64);
    expect(text(buf).split(",")[2]).toBe("1000000000000062500");
  });

  test("never truncates: a prefix longer than msgSize gives prefix + newline, like the Go client", () => {
    const buf = new Uint8Array(64);
    const end = encodeMessage(buf, 0, 7, 123456, 1_700_000_000_000, 16);
    expect(text(buf.subarray(0, end))).toBe("7,123456,1700000000000000000,\n");
    expect(end).toBe(prefixLength(7, 123456, 1_700_000_000_000) + 1);
  });

  test("appends at an offset, so a batch is consecutive messages in one buffer", () => {
    const buf = new Uint8Array(200);
    let end = encodeMessage(buf, 0, 0, 1, 1_700_000_000_000, 40);
    end = encodeMessage(buf, end, 0, 2, 1_700_000_000_000, 40);
    const lines = text(buf.subarray(0, end)).split("\n");
    expect(lines.length).toBe(3);
    expect(lines[1]?.startsWith("0,2,")).toBe(true);
  });
});

describe("decodeLine", () => {
  test("round-trips what encodeMessage wrote (to sub-microsecond precision)", () => {
    const buf = new Uint8Array(128);
    const stamp = 1_795_316_318_916.568;
    const end = encodeMessage(buf, 0, 3, 987654, stamp, 80);
    expect(decodeLine(buf, 0, end - 1)).toBe(true);
    expect(decoded.pubId).toBe(3);
    expect(decoded.seq).toBe(987654);
    expect(Math.abs(decoded.stampMs - stamp)).toBeLessThan(0.001);
  });

  test("reads a line from the Go client", () => {
    const line = new TextEncoder().encode("0,42,1795316318916568123,xxxxxxxx");
    expect(decodeLine(line, 0, line.length)).toBe(true);
    expect(decoded.seq).toBe(42);
    expect(decoded.stampMs).toBeCloseTo(1_795_316_318_916.568, 3);
  });

  test("reads only the window it is given", () => {
    const bytes = new TextEncoder().encode("garbage\n1,2,1700000000000000000,xx\nmore");
    expect(decodeLine(bytes, 8, 34)).toBe(true);
    expect(decoded.pubId).toBe(1);
    expect(decoded.seq).toBe(2);
  });

  test.each([
    ["empty line", ""],
    ["no fields", "hello"],
    ["non-digit publisher", "a,1,1700000000000000000,x"],
    ["missing seq", "1,,1700000000000000000,x"],
    ["timestamp without trailing comma", "1,2,1700000000000000000"],
    ["timestamp too short to hold nanoseconds", "1,2,123456,x"],
    ["letters in timestamp", "1,2,17000000000000x0000,x"],
  ])("rejects %s", (_name, raw) => {
    const bytes = new TextEncoder().encode(raw);
    expect(decodeLine(bytes, 0, bytes.length)).toBe(false);
  });
});
