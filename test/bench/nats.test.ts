import { describe, expect, test } from "bun:test";
import { decoded, decodeLine } from "../../bench/lib/message.ts";
import {
  encodePubFrame,
  NatsFrameReader,
  pubFrameLength,
  pubHeader,
} from "../../bench/lib/nats.ts";

const text = new TextEncoder();
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function reader(every: number) {
  const payloads: string[] = [];
  let pings = 0;
  const r = new NatsFrameReader(
    every,
    (bytes, start, end) => payloads.push(decode(bytes.subarray(start, end))),
    () => pings++,
  );
  return { r, payloads, pings: () => pings };
}

describe("NATS publish frames", () => {
  test("PUB header, the 80-byte bench message, CRLF", () => {
    const header = pubHeader(80);
    expect(decode(header)).toBe("PUB bench 80\r\n");
    const buf = new Uint8Array(pubFrameLength(header, 80));
    const end = encodePubFrame(buf, 0, header, 3, 42, 1_700_000_000_000.25, 80);
    expect(end).toBe(buf.length);
    const frame = decode(buf);
    expect(frame.startsWith("PUB bench 80\r\n3,42,")).toBe(true);
    expect(frame.endsWith("x\n\r\n")).toBe(true);
    expect(decodeLine(buf, header.length, header.length + 79)).toBe(true);
    expect(decoded.seq).toBe(42);
  });

  test("a msg-size too small for the fields is refused, not mis-framed", () => {
    const header = pubHeader(16);
    const buf = new Uint8Array(200);
    expect(() => encodePubFrame(buf, 0, header, 3, 42, 1_700_000_000_000, 16)).toThrow(RangeError);
  });
});

describe("NatsFrameReader", () => {
  test("counts MSG frames and skips payloads by length, newlines inside included", () => {
    const { r, payloads } = reader(1);
    const wire = 'INFO {"x":1}\r\nMSG bench 1 5\r\na\nb\nc\r\nMSG bench 1 2\r\nhi\r\n';
    expect(r.push(text.encode(wire))).toBe(2);
    expect(payloads).toEqual(["a\nb\nc", "hi"]);
    expect(r.unknown).toBe(0);
  });

  test("frames split at every byte boundary are still counted once", () => {
    const wire = text.encode("MSG bench 1 3\r\nabc\r\nMSG bench 1 reply 3\r\ndef\r\n");
    for (let cut = 1; cut < wire.length; cut++) {
      const { r } = reader(1);
      r.push(wire.subarray(0, cut));
      r.push(wire.subarray(cut));
      expect(r.count).toBe(2);
      expect(r.unknown).toBe(0);
    }
  });

  test("samples one frame in N whose payload lies in the chunk", () => {
    const { r, payloads } = reader(2);
    const frames = [1, 2, 3, 4, 5].map((i) => `MSG bench 1 1\r\n${i}\r\n`).join("");
    r.push(text.encode(frames));
    expect(payloads).toEqual(["1", "3", "5"]);
  });

  test("answers PING, counts -ERR, ignores +OK and PONG", () => {
    const { r, pings } = reader(1);
    r.push(text.encode("PING\r\n+OK\r\nPONG\r\n-ERR 'Slow Consumer'\r\n"));
    expect(pings()).toBe(1);
    expect(r.errors).toBe(1);
    expect(r.unknown).toBe(0);
    expect(r.count).toBe(0);
  });

  test("a long INFO line across chunks grows the carry", () => {
    const { r } = reader(1);
    const info = `INFO {"pad":"${"y".repeat(1000)}"}\r\n`;
    r.push(text.encode(info.slice(0, 400)));
    r.push(text.encode(`${info.slice(400)}MSG bench 1 1\r\nz\r\n`));
    expect(r.count).toBe(1);
    expect(r.unknown).toBe(0);
  });
});
