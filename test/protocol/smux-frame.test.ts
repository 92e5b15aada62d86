import { describe, expect, test } from "bun:test";
import {
  commandName,
  encodeFin,
  encodeFrame,
  encodeNop,
  encodePsh,
  encodeSyn,
  encodeUpd,
  HEADER_SIZE,
  headerViolation,
  INITIAL_PEER_WINDOW,
  isClientStreamId,
  nextStreamId,
  pshFramesSize,
  SMUX_DEFAULTS,
  SmuxCmd,
  SmuxErrorCode,
  STREAM_ID_COUNTER_START,
  writeHeader,
  writePshFrames,
  writeUpd,
} from "../../src/protocol/smux-frame.ts";
import { bytes, concat } from "../support/harness.ts";
import { decodeChunks, frameEvent, hex, toHex, updateEvent } from "./smux-recorder.ts";

/**
 * Written by Debian's xtaci/smux 1.5.16 (golang-github-xtaci-smux-dev), one socket write per
 * line: a Go client and server over net.Pipe, the client opening stream 3, writing "hi" and
 * then "hello world", closing it, each side opening more streams and sending a keepalive.
 * Recorded once by a throwaway Go program; these bytes are the reference, not our encoder.
 */
const GO_V1 = {
  syn3: "0100000003000000",
  pshHi: "01020200030000006869",
  pshHelloWorld: "01020b000300000068656c6c6f20776f726c64",
  fin3: "0101000003000000",
  serverSyn2: "0100000002000000",
  serverSyn4: "0100000004000000",
  clientSyn5: "0100000005000000",
  nop: "0103000000000000",
};
/** The same run in version 2 with MaxFrameSize 4: "hello world" leaves as three frames. */
const GO_V2 = {
  syn3: "0200000003000000",
  pshHi: "02020200030000006869",
  /** The server's window update after reading "hi": consumed 2, window 65536. */
  upd3: "02040800030000000200000000000100",
  pshHelloWorldBy4: "020204000300000068656c6c02020400030000006f20776f0202030003000000726c64",
  fin3: "0201000003000000",
  nop: "0203000000000000",
};

describe("encoders write what Go smux 1.5.16 writes", () => {
  test("v1 PSH on stream 3 with 'hi' is 01 02 02 00 03 00 00 00 68 69", () => {
    expect(encodePsh(1, 3, bytes("hi"))).toEqual(hex("01 02 02 00 03 00 00 00 68 69"));
  });

  test("v1 frames", () => {
    expect(toHex(encodeSyn(1, 3))).toBe(GO_V1.syn3);
    expect(toHex(encodePsh(1, 3, bytes("hi")))).toBe(GO_V1.pshHi);
    expect(toHex(encodePsh(1, 3, bytes("hello world")))).toBe(GO_V1.pshHelloWorld);
    expect(toHex(encodeFin(1, 3))).toBe(GO_V1.fin3);
    expect(toHex(encodeSyn(1, 2))).toBe(GO_V1.serverSyn2);
    expect(toHex(encodeSyn(1, 4))).toBe(GO_V1.serverSyn4);
    expect(toHex(encodeSyn(1, 5))).toBe(GO_V1.clientSyn5);
    expect(toHex(encodeNop(1))).toBe(GO_V1.nop);
  });

  test("v2 frames, and a payload split at MaxFrameSize 4", () => {
    expect(toHex(encodeSyn(2, 3))).toBe(GO_V2.syn3);
    expect(toHex(encodePsh(2, 3, bytes("hi")))).toBe(GO_V2.pshHi);
    expect(toHex(encodeUpd(3, 2, 65536))).toBe(GO_V2.upd3);
    const payload = bytes("hello world");
    const out = new Uint8Array(pshFramesSize(payload.length, 4));
    expect(writePshFrames(out, 0, 2, 3, payload, 0, payload.length, 4)).toBe(out.length);
    expect(toHex(out)).toBe(GO_V2.pshHelloWorldBy4);
    expect(toHex(encodeFin(2, 3))).toBe(GO_V2.fin3);
    expect(toHex(encodeNop(2))).toBe(GO_V2.nop);
  });

  test("the decoder reads Go's bytes back as the frames Go sent", () => {
    const v1 = decodeChunks(1, Object.values(GO_V1).map(hex)).recorder.events;
    expect(v1).toEqual([
      "SYN 3",
      frameEvent(SmuxCmd.PSH, 3, bytes("hi")),
      frameEvent(SmuxCmd.PSH, 3, bytes("hello world")),
      "FIN 3",
      "SYN 2",
      "SYN 4",
      "SYN 5",
      "NOP 0",
    ]);
    const v2 = decodeChunks(2, Object.values(GO_V2).map(hex)).recorder.events;
    expect(v2).toEqual([
      "SYN 3",
      frameEvent(SmuxCmd.PSH, 3, bytes("hi")),
      updateEvent(3, 2, 65536),
      frameEvent(SmuxCmd.PSH, 3, bytes("hell")),
      frameEvent(SmuxCmd.PSH, 3, bytes("o wo")),
      frameEvent(SmuxCmd.PSH, 3, bytes("rld")),
      "FIN 3",
      "NOP 0",
    ]);
  });
});

describe("writeHeader", () => {
  test("writes length and stream ID little-endian at the offset, returns the offset after", () => {
    const out = new Uint8Array(12).fill(0xee);
    expect(writeHeader(out, 2, 2, SmuxCmd.PSH, 0xffff, 0xfffe_fdfc)).toBe(10);
    expect(toHex(out)).toBe("eeee0202fffffcfdfeffeeee");
  });

  test("refuses fields out of range and a buffer without room, rather than truncate", () => {
    const out = new Uint8Array(16);
    expect(() => writeHeader(out, 0, 1, 2, 0x1_0000, 3)).toThrow(RangeError);
    expect(() => writeHeader(out, 0, 1, 2, -1, 3)).toThrow(RangeError);
    expect(() => writeHeader(out, 0, 1, 2, 1.5, 3)).toThrow(RangeError);
    expect(() => writeHeader(out, 0, 1, 2, 0, 2 ** 32)).toThrow(RangeError);
    expect(() => writeHeader(out, 0, 1, 2, 0, -1)).toThrow(RangeError);
    expect(() => writeHeader(out, 0, 256, 2, 0, 3)).toThrow(RangeError);
    expect(() => writeHeader(out, 9, 1, 2, 0, 3)).toThrow(RangeError);
    expect(writeHeader(out, 8, 1, 2, 0, 3)).toBe(16);
    expect(() => encodePsh(1, 3, new Uint8Array(0x1_0000))).toThrow(RangeError);
  });

  test("writeUpd writes a 16-byte v2 UPD with u32 counters", () => {
    const out = new Uint8Array(17);
    expect(writeUpd(out, 1, 7, 0xffff_ffff, 0x0004_0000)).toBe(17);
    expect(toHex(out)).toBe("000204080007000000ffffffff00000400");
    expect(() => writeUpd(out, 2, 7, 0, 0)).toThrow(RangeError);
    expect(() => writeUpd(out, 0, 7, 2 ** 32, 0)).toThrow(RangeError);
  });
});

describe("PSH frames for batched writes", () => {
  test("pshFramesSize counts one header per frame of at most maxFrameSize", () => {
    expect(pshFramesSize(0)).toBe(0);
    expect(pshFramesSize(1)).toBe(9);
    expect(pshFramesSize(32_768)).toBe(32_776);
    expect(pshFramesSize(32_769)).toBe(32_769 + 16);
    expect(pshFramesSize(65_535 * 2 + 1, 65_535)).toBe(65_535 * 2 + 1 + 24);
    expect(() => pshFramesSize(10, 0)).toThrow(RangeError);
    expect(() => pshFramesSize(10, 65_536)).toThrow(RangeError);
    expect(() => pshFramesSize(10, 2.5)).toThrow(RangeError);
  });

  test("an empty write makes no frame, as Go's Stream.Write", () => {
    const out = new Uint8Array(4);
    expect(writePshFrames(out, 1, 1, 3, new Uint8Array(0))).toBe(1);
    expect(out).toEqual(new Uint8Array(4));
  });

  test("several streams' writes laid out in one buffer decode back to the same data", () => {
    const a = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    const b = bytes("small write");
    const c = Uint8Array.from({ length: 32_768 }, (_, i) => (i * 7) & 0xff);
    const out = new Uint8Array(
      pshFramesSize(a.length) + pshFramesSize(b.length) + pshFramesSize(c.length - 100) + 8,
    );
    let at = writePshFrames(out, 0, 2, 3, a);
    at = writePshFrames(out, at, 2, 4, b);
    at = writePshFrames(out, at, 2, 5, c, 100, c.length);
    at = writeHeader(out, at, 2, SmuxCmd.FIN, 0, 3);
    expect(at).toBe(out.length);
    expect(toHex(out.subarray(0, 4))).toBe("02020080"); // PSH, length 32768

    const { recorder } = decodeChunks(2, [out]);
    expect(recorder.events).toEqual([
      frameEvent(SmuxCmd.PSH, 3, a.subarray(0, 32_768)),
      frameEvent(SmuxCmd.PSH, 3, a.subarray(32_768, 65_536)),
      frameEvent(SmuxCmd.PSH, 3, a.subarray(65_536)),
      frameEvent(SmuxCmd.PSH, 4, b),
      frameEvent(SmuxCmd.PSH, 5, c.subarray(100)),
      "FIN 3",
    ]);
  });

  test("refuses a range outside the payload or a buffer too small", () => {
    const payload = bytes("abcdef");
    expect(() => writePshFrames(new Uint8Array(100), 0, 1, 3, payload, 4, 2)).toThrow(RangeError);
    expect(() => writePshFrames(new Uint8Array(100), 0, 1, 3, payload, 0, 7)).toThrow(RangeError);
    expect(() => writePshFrames(new Uint8Array(13), 0, 1, 3, payload)).toThrow(RangeError);
    expect(writePshFrames(new Uint8Array(14), 0, 1, 3, payload)).toBe(14);
  });
});

describe("the fatal-rule table, header by header", () => {
  const { BadVersion, UnknownCommand, UpdOnV1, UnexpectedBody, BadUpd } = SmuxErrorCode;
  // [session version, header version, cmd, length, expected]
  const cases: [1 | 2, number, number, number, SmuxErrorCode | null][] = [
    [1, 1, SmuxCmd.SYN, 0, null],
    [1, 1, SmuxCmd.FIN, 0, null],
    [1, 1, SmuxCmd.NOP, 0, null],
    [1, 1, SmuxCmd.PSH, 0, null],
    [1, 1, SmuxCmd.PSH, 65_535, null],
    [2, 2, SmuxCmd.UPD, 8, null],
    [1, 2, SmuxCmd.SYN, 0, BadVersion],
    [2, 1, SmuxCmd.UPD, 8, BadVersion],
    [2, 3, 9, 1, BadVersion], // the version is judged first
    [1, 1, 5, 0, UnknownCommand],
    [2, 2, 255, 8, UnknownCommand],
    [1, 1, SmuxCmd.UPD, 8, UpdOnV1],
    [1, 1, SmuxCmd.UPD, 3, UpdOnV1], // UPD on v1 outranks its length
    [1, 1, SmuxCmd.SYN, 1, UnexpectedBody],
    [2, 2, SmuxCmd.FIN, 65_535, UnexpectedBody],
    [2, 2, SmuxCmd.NOP, 8, UnexpectedBody],
    [2, 2, SmuxCmd.UPD, 7, BadUpd],
    [2, 2, SmuxCmd.UPD, 9, BadUpd],
  ];
  for (const [session, version, cmd, length, expected] of cases) {
    test(`v${session} session, header v${version} ${commandName(cmd)} length ${length}: ${expected ?? "accepted"}`, () => {
      expect(headerViolation(session, version, cmd, length)).toBe(expected);
    });
  }
});

describe("stream IDs", () => {
  test("a client opens 3, 5, 7 and a server 2, 4, 6, as Go's counter adds 2 before use", () => {
    const sequence = (start: number) => {
      const ids: number[] = [];
      let id = start;
      for (let i = 0; i < 3; i++) {
        id = nextStreamId(id);
        ids.push(id);
      }
      return ids;
    };
    expect(sequence(STREAM_ID_COUNTER_START.client)).toEqual([3, 5, 7]);
    expect(sequence(STREAM_ID_COUNTER_START.server)).toEqual([2, 4, 6]);
    expect([3, 5, 7].every(isClientStreamId)).toBe(true);
    expect([2, 4, 6, 0].some(isClientStreamId)).toBe(false);
  });

  test("the last IDs are 0xFFFFFFFF and 0xFFFFFFFE; after them the space is spent (-1)", () => {
    expect(nextStreamId(0xffff_fffd)).toBe(0xffff_ffff);
    expect(nextStreamId(0xffff_ffff)).toBe(-1);
    expect(nextStreamId(0xffff_fffc)).toBe(0xffff_fffe);
    expect(nextStreamId(0xffff_fffe)).toBe(-1);
  });
});

test("defaults are Go's DefaultConfig and initialPeerWindow", () => {
  expect(SMUX_DEFAULTS).toEqual({
    version: 1,
    keepAliveIntervalMs: 10_000,
    keepAliveTimeoutMs: 30_000,
    maxFrameSize: 32_768,
    maxReceiveBuffer: 4_194_304,
    maxStreamBuffer: 65_536,
  });
  expect(INITIAL_PEER_WINDOW).toBe(262_144);
  expect(HEADER_SIZE).toBe(8);
});

test("encodeFrame builds any header, hostile ones included, with the body after it", () => {
  const frame = encodeFrame(7, 200, 1, bytes("xy"));
  expect(toHex(frame)).toBe("07c80200010000007879");
  expect(concat([encodeNop(2)])).toEqual(encodeFrame(2, SmuxCmd.NOP, 0));
  expect(commandName(200)).toBe("cmd 200");
  expect(commandName(SmuxCmd.UPD)).toBe("UPD");
});
