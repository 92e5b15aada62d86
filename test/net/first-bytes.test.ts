/**
 * The first-bytes classifier (src/net/first-bytes.ts) on real openings: ClientHellos captured
 * from Bun's TLS client and openssl, seed 003 Conn and Submit frames, Bun's fetch request, and
 * lines that must pass. Each is fed the way the listener feeds it: at every 2-way split point
 * and byte by byte, the bytes so far classified after each piece, held while undecided.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  classifyFirstBytes,
  type FirstBytesRefusal,
  type FirstBytesVerdict,
  MAX_REQUEST_LINE,
  type PortProtocol,
  verdictAtBound,
} from "../../src/net/first-bytes.ts";
import { encodeConn, encodeSubmit, MAX_U32 } from "../../src/protocol/frame-codec.ts";
import { bytes, concat } from "../support/harness.ts";
import { bunClientHello, fetchRequestHead, opensslClientHello } from "./captured-openings.ts";

const LINE: PortProtocol = { framing: "line", maxFrame: 1024 * 1024 };
const FRAME: PortProtocol = { framing: "frame", maxFrame: 1024 * 1024 };

interface Fed {
  verdict: FirstBytesVerdict;
  /** Bytes seen when it was decided; -1 when still undecided after the last piece. */
  decidedAt: number;
}

/** Feeds `pieces` as the listener does: classify everything so far after each piece. */
function feed(pieces: readonly Uint8Array[], port: PortProtocol): Fed {
  let seen: Uint8Array = new Uint8Array(0);
  for (const piece of pieces) {
    seen = concat([seen, piece]);
    const verdict = classifyFirstBytes(seen, port);
    if (verdict.kind !== "undecided") return { verdict, decidedAt: seen.length };
  }
  return { verdict: { kind: "undecided" }, decidedAt: -1 };
}

/** Every way the listener can meet `opening`: whole, each 2-way split, byte by byte. */
function everySplit(opening: Uint8Array): { name: string; pieces: Uint8Array[] }[] {
  const ways = [{ name: "whole", pieces: [opening] }];
  for (let at = 1; at < opening.length; at++) {
    ways.push({ name: `split at ${at}`, pieces: [opening.subarray(0, at), opening.subarray(at)] });
  }
  ways.push({ name: "byte by byte", pieces: Array.from(opening, (b) => Uint8Array.of(b)) });
  return ways;
}

/** Asserts: undecided before `decideAt` bytes, then the same verdict at every split. */
function expectDecidedAt(
  opening: Uint8Array,
  port: PortProtocol,
  decideAt: number,
  expected: Partial<Extract<FirstBytesVerdict, { kind: "refuse" }>> | { kind: "accept" },
): void {
  for (let length = 1; length < decideAt; length++) {
    expect(classifyFirstBytes(opening.subarray(0, length), port)).toEqual({ kind: "undecided" });
  }
  for (const { name, pieces } of everySplit(opening)) {
    const fed = feed(pieces, port);
    expect({ name, ...fed.verdict }).toMatchObject({ name, ...expected });
    // Decided as soon as the piece holding byte `decideAt` arrived, never later.
    const ends = pieces.map((_, i) => pieces.slice(0, i + 1).reduce((n, p) => n + p.length, 0));
    expect(fed.decidedAt).toBe(ends.find((end) => end >= decideAt) as number);
  }
}

const refused = (reason: FirstBytesRefusal) => ({ kind: "refuse", reason }) as const;

describe("TLS ClientHello", () => {
  const hellos: { name: string; bytes: Uint8Array }[] = [];
  beforeAll(async () => {
    hellos.push({ name: "Bun's TLS client", bytes: await bunClientHello() });
    const openssl = await opensslClientHello();
    if (openssl) hellos.push({ name: "openssl s_client", bytes: openssl });
  });

  test("the captures are whole ClientHello records (0x16 0x03 0x01, handshake type 1)", () => {
    expect(hellos.length).toBeGreaterThanOrEqual(1);
    for (const { bytes: hello } of hellos) {
      expect([...hello.subarray(0, 3)]).toEqual([0x16, 0x03, 0x01]);
      expect(hello.length).toBe(5 + ((hello[3] as number) << 8) + (hello[4] as number));
      expect(hello[5]).toBe(0x01);
    }
  });

  test("held through the 5-byte record header, then refused tls_client at every split, on both kinds of port", () => {
    for (const { name, bytes: hello } of hellos) {
      for (const port of [LINE, FRAME]) {
        expect(name).toBeTruthy();
        expectDecidedAt(hello, port, 5, refused("tls_client"));
      }
    }
    const verdict = classifyFirstBytes((hellos[0] as { bytes: Uint8Array }).bytes, LINE);
    expect(verdict).toEqual({
      kind: "refuse",
      reason: "tls_client",
      detail: "a TLS ClientHello on a plaintext port: this port has no --tls-cert",
    });
  });

  test("1 to 4 bytes of the header and nothing more: refused first_bytes_timeout at the bound", () => {
    const hello = (hellos[0] as { bytes: Uint8Array }).bytes;
    for (let length = 1; length <= 4; length++) {
      for (const port of [LINE, FRAME]) {
        const verdict = verdictAtBound(hello.subarray(0, length), port);
        expect(verdict).toMatchObject(refused("first_bytes_timeout"));
        expect((verdict as { detail: string }).detail).toStartWith(
          `${length} B of a TLS record header, then nothing more within 1 s`,
        );
      }
    }
  });

  test("not a record header: decided at the first byte that rules it out", () => {
    expectDecidedAt(bytes("\x16 not a record\n"), LINE, 2, { kind: "accept" });
    expectDecidedAt(Uint8Array.of(0x16, 0x03, 0x05, 0, 1, 10), LINE, 3, { kind: "accept" });
    expectDecidedAt(Uint8Array.of(0x16, 0x03, 0x01, 0x41, 0, 10), LINE, 4, { kind: "accept" });
    expectDecidedAt(Uint8Array.of(0x16, 0x03, 0x01, 0, 0, 10), LINE, 5, { kind: "accept" });
  });
});

describe("seed 003 frames on a line port", () => {
  // The frame: Submit, ID 00000001, payload "x".
  const submit = encodeSubmit("00000001", "x");
  const conn = encodeConn("00000001", "");

  test("the fixtures are the seed's bytes", () => {
    expect([...submit]).toEqual([0, 0, 0, 0x0e, 0x02, ...bytes("00000001x")]);
    expect([...conn]).toEqual([0, 0, 0, 0x0d, 0x01, ...bytes("00000001")]);
  });

  test("a Conn and a Submit are held for their 5-byte header, then refused frame_client at every split", () => {
    expectDecidedAt(conn, LINE, 5, refused("frame_client"));
    expectDecidedAt(submit, LINE, 5, refused("frame_client"));
    expect(classifyFirstBytes(submit, LINE)).toEqual({
      kind: "refuse",
      reason: "frame_client",
      detail:
        "looks like a seed 003 frame (Submit, totalLength 14): is the client set to --framing line? This port speaks newline-terminated lines",
    });
  });

  test("on a frame port they are accepted at their first byte", () => {
    expectDecidedAt(conn, FRAME, 1, { kind: "accept" });
    expectDecidedAt(submit, FRAME, 1, { kind: "accept" });
  });

  test("a length outside 13 to --max-frame is no frame: accepted once the length rules it out", () => {
    // 2 MiB > --max-frame 1 MiB: 00 20 cannot start a length of at most 1 MiB.
    expectDecidedAt(Uint8Array.of(0, 0x20, 0, 0, 0x02, 10), LINE, 2, { kind: "accept" });
    // totalLength 12 < 13.
    expectDecidedAt(Uint8Array.of(0, 0, 0, 12, 0x02, 10), LINE, 4, { kind: "accept" });
    // With --max-frame 16 MiB, the same 2 MiB header is a frame.
    const big = { framing: "line", maxFrame: 16 * 1024 * 1024 } as const;
    expectDecidedAt(Uint8Array.of(0, 0x20, 0, 0, 0x02, 10), big, 5, refused("frame_client"));
  });
});

describe("binary lines on a line port", () => {
  test("a line starting 00 01 02 03 04 passes: held 4 bytes, accepted at the 5th (no command)", () => {
    const line = Uint8Array.of(0, 1, 2, 3, 4, 0xff, 10);
    expectDecidedAt(line, LINE, 5, { kind: "accept" });
    for (let length = 1; length <= 4; length++) {
      expect(verdictAtBound(line.subarray(0, length), LINE)).toEqual({ kind: "accept" });
    }
  });

  test("a short binary line that stays a frame prefix is accepted at the bound (\\0\\n)", () => {
    const line = Uint8Array.of(0, 10);
    expect(classifyFirstBytes(line, LINE)).toEqual({ kind: "undecided" });
    expect(verdictAtBound(line, LINE)).toEqual({ kind: "accept" });
  });

  test("any other first byte is accepted at once", () => {
    for (const first of [0x01, 0x0a, 0x17, 0x41, 0x61, 0x7f, 0x80, 0xff]) {
      expect(classifyFirstBytes(Uint8Array.of(first), LINE)).toEqual({ kind: "accept" });
    }
    expectDecidedAt(bytes("hello\n"), LINE, 1, { kind: "accept" });
    expectDecidedAt(bytes("Go fast\n"), LINE, 2, { kind: "accept" });
  });
});

describe("HTTP", () => {
  let request: Uint8Array;
  beforeAll(async () => {
    request = await fetchRequestHead();
  });

  test("Bun's fetch request is held until its request line is whole, then refused http_client", () => {
    expect(new TextDecoder().decode(request)).toStartWith("GET / HTTP/1.1\r\n");
    const lineEnd = "GET / HTTP/1.1\r\n".length;
    for (const port of [LINE, FRAME])
      expectDecidedAt(request, port, lineEnd, refused("http_client"));
    expect(classifyFirstBytes(request, LINE)).toMatchObject({
      detail:
        "looks like HTTP (a GET request line): this port speaks newline-terminated lines, not HTTP",
    });
    expect(classifyFirstBytes(bytes("CONNECT relay:7001 HTTP/1.0\n"), LINE)).toMatchObject(
      refused("http_client"),
    );
  });

  test("lines that only start like a request line pass once they cannot be one", () => {
    expectDecidedAt(bytes("GET /x\n"), LINE, 7, { kind: "accept" });
    expectDecidedAt(bytes("GETTING\n"), LINE, 4, { kind: "accept" });
    expectDecidedAt(bytes("POST  / HTTP/1.1\n"), LINE, 6, { kind: "accept" });
    expectDecidedAt(bytes("PUT /x HTTP/2.0\n"), LINE, 13, { kind: "accept" });
    expectDecidedAt(bytes("HEAD / HTTP/1.1\r\r\n"), LINE, 17, { kind: "accept" });
    const long = bytes(`GET /${"a".repeat(MAX_REQUEST_LINE)} HTTP/1.1\r\n`);
    expectDecidedAt(long, LINE, MAX_REQUEST_LINE + 1, { kind: "accept" });
  });

  test("a line port accepts a request line still unfinished at the bound", () => {
    expect(verdictAtBound(bytes("GET /x"), LINE)).toEqual({ kind: "accept" });
    expect(verdictAtBound(bytes("DEL"), LINE)).toEqual({ kind: "accept" });
  });
});

describe("text on a frame port", () => {
  test("a line is held for 4 bytes, then refused line_client at every split", () => {
    expectDecidedAt(bytes("hello world\n"), FRAME, 4, refused("line_client"));
    expect(classifyFirstBytes(bytes("hello world\n"), FRAME)).toEqual({
      kind: "refuse",
      reason: "line_client",
      detail:
        'looks like text (totalLength 1751477356 from "hell"): is this a line client? This port speaks seed 003 frames',
    });
  });

  test("text that stays short and silent is refused at the bound; a line port would accept it", () => {
    const verdict = verdictAtBound(bytes("hi\n"), FRAME);
    expect(verdict).toMatchObject(refused("first_bytes_timeout"));
    expect((verdict as { detail: string }).detail).toContain("is this a line client?");
    expect(classifyFirstBytes(bytes("hi\n"), LINE)).toEqual({ kind: "accept" });
  });

  test("without a --max-frame limit, only what the frame decoder would refuse too is text", () => {
    const unlimited = { framing: "frame", maxFrame: MAX_U32 } as const;
    expectDecidedAt(bytes("hello\n"), unlimited, 5, refused("line_client"));
    // A frame whose length bytes happen to be printable: a Submit of 0x20202020 bytes.
    expectDecidedAt(Uint8Array.of(0x20, 0x20, 0x20, 0x20, 0x02), unlimited, 5, {
      kind: "accept",
    });
  });

  test("binary is accepted at its first non-text byte", () => {
    expectDecidedAt(Uint8Array.of(0x41, 0x00, 0, 13, 2), FRAME, 2, { kind: "accept" });
    expectDecidedAt(Uint8Array.of(0xff, 0xff), FRAME, 1, { kind: "accept" });
  });
});
