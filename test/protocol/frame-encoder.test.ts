/**
 * Frame encoders, the ack batch and relay-assigned IDs: exact bytes against hex written out by
 * hand from seed 003's layout, in both code sets.
 */
import { describe, expect, test } from "bun:test";
import {
  AckBatch,
  encodeConn,
  encodeConnAck,
  encodeSubmit,
  encodeSubmitAck,
  FrameIdCounter,
  frameId,
  writeConn,
  writeConnAck,
  writeHeader,
  writeSubmit,
  writeSubmitAck,
} from "../../src/protocol/frame-codec.ts";
import { bytes, concat } from "../support/harness.ts";
import { decode, fromHex, toHex } from "./frame-test-support.ts";

const ID_1 = "30 30 30 30 30 30 30 31"; // "00000001"

describe("request frames (the same in both code sets)", () => {
  test("Submit: length 15, command 02, ID, payload", () => {
    expect(toHex(encodeSubmit("00000001", "hi"))).toBe(`00 00 00 0f 02 ${ID_1} 68 69`);
  });

  test("Submit with an empty payload is the 13-byte minimum", () => {
    expect(toHex(encodeSubmit("00000001"))).toBe(`00 00 00 0d 02 ${ID_1}`);
  });

  test("Submit with a 300-byte payload has totalLength 0x139 (313)", () => {
    const frame = encodeSubmit("00000001", new Uint8Array(300).fill(0xab));
    expect(toHex(frame.subarray(0, 13))).toBe(`00 00 01 39 02 ${ID_1}`);
    expect(frame.length).toBe(313);
  });

  test("Conn without a token is the seed's bare Conn; with one, the token follows the ID", () => {
    expect(toHex(encodeConn("00000001"))).toBe(`00 00 00 0d 01 ${ID_1}`);
    expect(toHex(encodeConn("00000001", "tok"))).toBe(`00 00 00 10 01 ${ID_1} 74 6f 6b`);
  });

  test("a string payload is UTF-8, a binary one is sent as is", () => {
    expect(toHex(encodeSubmit("00000001", "é\n"))).toBe(`00 00 00 10 02 ${ID_1} c3 a9 0a`);
    expect(toHex(encodeSubmit(Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 0xff), Uint8Array.of(0)))).toBe(
      "00 00 00 0e 02 00 01 02 03 04 05 06 ff 00",
    );
  });
});

describe("acks in each code set", () => {
  test("spec codes (the seed's table): ConnAck 0x81, SubmitAck 0x82", () => {
    expect(toHex(encodeConnAck("00000001", 0, "spec"))).toBe(`00 00 00 0e 81 ${ID_1} 00`);
    expect(toHex(encodeSubmitAck("00000001", 1, "spec"))).toBe(`00 00 00 0e 82 ${ID_1} 01`);
  });

  test("article codes (the seed's Go iota): ConnAck 0x80, SubmitAck 0x81", () => {
    expect(toHex(encodeConnAck("00000001", 1, "article"))).toBe(`00 00 00 0e 80 ${ID_1} 01`);
    expect(toHex(encodeSubmitAck("00000001", 0, "article"))).toBe(`00 00 00 0e 81 ${ID_1} 00`);
  });

  test("spec is the default", () => {
    expect(encodeSubmitAck("00000001", 0)).toEqual(encodeSubmitAck("00000001", 0, "spec"));
  });
});

describe("writing into a caller's buffer", () => {
  test("frames go at the offset given and each write returns the offset after its frame", () => {
    const out = new Uint8Array(80).fill(0xee);
    const source = bytes("xxxx00000007yyyy-the payload-zzz");
    let at = 3;
    at = writeSubmit(out, at, source, 4, source, 17, 28); // ID and payload are ranges of source
    expect(at).toBe(3 + 13 + 11);
    at = writeSubmitAck(out, at, "article", source, 4, 0);
    at = writeConnAck(out, at, "spec", source, 4, 1);
    at = writeConn(out, at, source, 4);
    expect(at).toBe(27 + 14 + 14 + 13);
    expect(out.subarray(0, 3)).toEqual(Uint8Array.of(0xee, 0xee, 0xee));
    expect(out.subarray(at)).toEqual(new Uint8Array(80 - at).fill(0xee));
    expect(toHex(out.subarray(3, at))).toBe(
      toHex(
        concat([
          encodeSubmit("00000007", "the payload"),
          encodeSubmitAck("00000007", 0, "article"),
          encodeConnAck("00000007", 1, "spec"),
          encodeConn("00000007"),
        ]),
      ),
    );
  });

  test("a payload range is copied exactly, short (byte loop) or long (set)", () => {
    const source = Uint8Array.from({ length: 200 }, (_, i) => i);
    const id = frameId("00000001");
    for (const [start, end] of [
      [10, 10],
      [10, 42],
      [10, 43],
      [0, 200],
      [150, 200],
    ] as const) {
      const out = new Uint8Array(13 + end - start);
      expect(writeSubmit(out, 0, id, 0, source, start, end)).toBe(out.length);
      expect(out).toEqual(encodeSubmit(id, source.slice(start, end)));
    }
  });

  test("a payload range outside its array throws a RangeError", () => {
    const id = frameId("00000001");
    const out = new Uint8Array(100);
    for (const [start, end] of [
      [-1, 3],
      [5, 4],
      [0, 11],
    ] as const) {
      expect(() => writeSubmit(out, 0, id, 0, new Uint8Array(10), start, end)).toThrow(RangeError);
    }
    expect(out).toEqual(new Uint8Array(100));
  });

  test("a frame that does not fit throws a RangeError and writes nothing", () => {
    const out = new Uint8Array(20);
    const id = frameId("00000001");
    expect(() => writeSubmit(out, 0, id, 0, new Uint8Array(8))).toThrow(RangeError);
    expect(() => writeSubmitAck(out, 7, "spec", id, 0, 0)).toThrow(RangeError);
    expect(out).toEqual(new Uint8Array(20));
  });

  test("an ID range shorter than 8 bytes throws a RangeError", () => {
    expect(() => writeSubmit(new Uint8Array(40), 0, bytes("0001"), 0, bytes("p"))).toThrow(
      RangeError,
    );
    expect(() => writeSubmitAck(new Uint8Array(40), 0, "spec", bytes("00000001"), 1, 0)).toThrow(
      RangeError,
    );
  });

  test("a relay-built Submit (header, counter ID, payload) equals encodeSubmit", () => {
    const ids = new FrameIdCounter();
    const payload = bytes("from a line publisher");
    const out = new Uint8Array(64);
    let at = writeHeader(out, 0, 0x02, 8 + payload.length);
    at = ids.write(out, at);
    out.set(payload, at);
    expect(out.subarray(0, at + payload.length)).toEqual(encodeSubmit("00000001", payload));
  });
});

describe("AckBatch", () => {
  test("many acks become one buffer, byte for byte the acks one after another, in order", () => {
    const batch = new AckBatch("spec", 28); // two acks' room: it has to grow
    const ids = bytes("0000000000000001000000020000000300000004");
    const expected: Uint8Array[] = [];
    for (let n = 0; n < 200; n++) {
      const idStart = (n % 5) * 8;
      const id = new TextDecoder().decode(ids.subarray(idStart, idStart + 8));
      const result = n % 7 === 0 ? 1 : 0;
      if (n % 3 === 0) {
        batch.connAck(ids, idStart, result);
        expected.push(encodeConnAck(id, result, "spec"));
      } else {
        batch.submitAck(ids, idStart, result);
        expected.push(encodeSubmitAck(id, result, "spec"));
      }
    }
    expect(batch.acks).toBe(200);
    expect(batch.byteLength).toBe(200 * 14);
    expect(batch.view()).toEqual(concat(expected));
  });

  test("the batch decodes back to its acks on a client-side decoder", () => {
    const batch = new AckBatch("article");
    batch.submitAck(bytes("00000001"), 0, 0);
    batch.submitAck(bytes("00000002"), 0, 1);
    const { events } = decode([batch.view()], { codes: "article", acceptAcks: true });
    expect(events).toEqual([
      { kind: "submitAck", id: "00000001", result: 0 },
      { kind: "submitAck", id: "00000002", result: 1 },
    ]);
  });

  test("take hands over a copy and clears; clear forgets; the buffer is reused", () => {
    const batch = new AckBatch("spec");
    batch.submitAck(bytes("00000001"), 0, 0);
    const taken = batch.take();
    expect(toHex(taken)).toBe(`00 00 00 0e 82 ${ID_1} 00`);
    expect(batch.acks).toBe(0);
    expect(batch.byteLength).toBe(0);
    batch.connAck(bytes("00000002"), 0, 1);
    expect(toHex(taken)).toBe(`00 00 00 0e 82 ${ID_1} 00`); // the copy is the caller's
    const view = batch.view();
    batch.clear();
    expect(batch.view().length).toBe(0);
    batch.connAck(bytes("00000003"), 0, 0);
    expect(batch.view().buffer).toBe(view.buffer);
  });
});

describe("IDs", () => {
  test("relay-assigned IDs are 8 ASCII digits counting from 00000001", () => {
    const ids = new FrameIdCounter();
    expect(toHex(ids.next())).toBe(ID_1);
    expect(ids.peek()).toBe("00000002");
    const out = new Uint8Array(20);
    expect(ids.write(out, 2)).toBe(10);
    expect(new TextDecoder().decode(out.subarray(2, 10))).toBe("00000002");
    expect(ids.peek()).toBe("00000003");
  });

  test("the counter carries across digits and wraps from 99999999 to 00000000", () => {
    const carry = new FrameIdCounter(1999);
    expect(new TextDecoder().decode(carry.next())).toBe("00001999");
    expect(carry.peek()).toBe("00002000");
    const wrap = new FrameIdCounter(99_999_999);
    expect(new TextDecoder().decode(wrap.next())).toBe("99999999");
    expect(wrap.peek()).toBe("00000000");
    expect(new FrameIdCounter(100_000_005).peek()).toBe("00000005");
    expect(new FrameIdCounter(-1).peek()).toBe("99999999");
  });

  test("writing an ID where 8 bytes do not fit throws a RangeError", () => {
    expect(() => new FrameIdCounter().write(new Uint8Array(10), 3)).toThrow(RangeError);
  });

  test("frameId takes 8 bytes, or 8 characters below U+0100, one byte each", () => {
    expect(toHex(frameId("00000001"))).toBe(ID_1);
    expect(toHex(frameId("\u00ff0000000"))).toBe("ff 30 30 30 30 30 30 30");
    expect(() => frameId("0001")).toThrow(RangeError);
    expect(() => frameId("00000€00")).toThrow(RangeError);
    expect(() => frameId(new Uint8Array(9))).toThrow(RangeError);
    expect(toHex(fromHex(ID_1))).toBe(ID_1);
  });
});
