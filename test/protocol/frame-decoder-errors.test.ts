/**
 * FrameDecoder on bad input: one test per rule of issue 12's list ("totalLength below 5 or
 * above --max-frame (checked from the header, before buffering the body), unknown commandID,
 * a Submit or Conn body shorter than its ID, an ack sent by a client"), plus the ack length.
 * Each asserts the error code, that the frames before the bad one were delivered and nothing
 * of it, at every split point of the stream.
 */
import { describe, expect, test } from "bun:test";
import {
  FrameErrorCode as Code,
  encodeSubmit,
  type FrameCodes,
  FrameDecoder,
  type FrameErrorCode,
  writeU32,
} from "../../src/protocol/frame-codec.ts";
import { concat, seededRandom } from "../support/harness.ts";
import {
  conn,
  type DecoderSetup,
  decode,
  RecordingSink,
  stream,
  submit,
} from "./frame-test-support.ts";

/** Frames the peer sent before the bad one: they must all be delivered. */
const BEFORE = stream([
  conn("00000001", "token"),
  submit("00000002", "ok"),
  submit("00000003", ""),
]);
/** A good frame after the bad one: it must never be delivered. */
const AFTER = encodeSubmit("00000009", "too late");

/** A frame whose header says `totalLength` and `command`, followed by `body` (any length). */
function rawFrame(
  totalLength: number,
  command: number,
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  writeU32(out, 0, totalLength);
  out[4] = command;
  out.set(body, 5);
  return out;
}

const ID_AND_MORE = new TextEncoder().encode("00000004 and some payload bytes");

/**
 * Checks one bad frame: fed whole, at every 2-way split point and byte by byte, behind the
 * BEFORE frames and ahead of AFTER, the decoder reports `code` once, at the bad frame's offset.
 */
function expectRefused(bad: Uint8Array, code: FrameErrorCode, setup: DecoderSetup = {}): void {
  const input = concat([BEFORE.input, bad, AFTER]);
  const chunkings: Uint8Array[][] = [[input], Array.from(input, (b) => Uint8Array.of(b))];
  for (let i = 0; i <= input.length; i++) chunkings.push([input.subarray(0, i), input.subarray(i)]);
  for (const chunks of chunkings) {
    const { events, errors, count, decoder } = decode(chunks, setup);
    expect(events).toEqual(BEFORE.events);
    expect(count).toBe(BEFORE.events.length);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe(code);
    expect(errors[0]?.offset).toBe(BEFORE.input.length);
    expect(decoder.error).toBe(errors[0]);
    expect(decoder.pendingBytes).toBe(0);
  }
}

describe("FrameDecoder refuses bad input", () => {
  test("a totalLength below 5 is refused with FRAME_ERR_TOO_SHORT", () => {
    for (const length of [0, 1, 4])
      expectRefused(rawFrame(length, 0x02, ID_AND_MORE), Code.TooShort);
  });

  test("a totalLength above maxFrame is refused with FRAME_ERR_TOO_LONG", () => {
    const body = new Uint8Array(60).fill(0x61);
    expectRefused(rawFrame(5 + 60 + 1, 0x02, body), Code.TooLong, { maxFrame: 65 });
    expectRefused(rawFrame(0xffff_ffff, 0x02, body), Code.TooLong);
  });

  test("a too-long header is rejected before the body arrives: the 5 header bytes suffice, and 4", () => {
    for (const header of [rawFrame(1 << 30, 0x02), rawFrame(1 << 30, 0x02).subarray(0, 4)]) {
      for (const chunks of [[BEFORE.input, header], [concat([BEFORE.input, header])]]) {
        const { events, errors, decoder } = decode(chunks, { maxFrame: 1 << 20 });
        expect(events).toEqual(BEFORE.events);
        expect(errors.map((e) => e.code)).toEqual([Code.TooLong]);
        expect(errors[0]?.totalLength).toBe(1 << 30);
        expect(errors[0]?.reason).toBe("totalLength 1073741824 is above the 1048576 B frame limit");
        expect(decoder.pendingBytes).toBe(0);
      }
    }
  });

  test("a bad command is rejected from the 5 header bytes, before the body arrives", () => {
    const { errors } = decode([BEFORE.input, rawFrame(100, 0x07)]);
    expect(errors.map((e) => e.code)).toEqual([Code.UnknownCommand]);
    expect(errors[0]?.command).toBe(0x07);
  });

  test("an unknown commandID is refused with FRAME_ERR_UNKNOWN_COMMAND", () => {
    for (const command of [0x00, 0x03, 0x7f, 0x83, 0xff]) {
      expectRefused(rawFrame(14, command, ID_AND_MORE), Code.UnknownCommand, { acceptAcks: true });
    }
  });

  test("each code set knows only its own ack codes: 0x82 is unknown in article, 0x80 in spec", () => {
    const ack = (command: number) => rawFrame(14, command, ID_AND_MORE.subarray(0, 9));
    expectRefused(ack(0x82), Code.UnknownCommand, { codes: "article", acceptAcks: true });
    expectRefused(ack(0x80), Code.UnknownCommand, { codes: "spec", acceptAcks: true });
    const { errors } = decode([ack(0x82)], { codes: "article", acceptAcks: true });
    expect(errors[0]?.reason).toBe("unknown commandID 0x82 (article codes)");
  });

  test("a Submit body shorter than its 8-byte ID is refused with FRAME_ERR_SHORT_ID", () => {
    for (const length of [5, 6, 12])
      expectRefused(rawFrame(length, 0x02, ID_AND_MORE), Code.ShortId);
    const { errors } = decode([rawFrame(12, 0x02, ID_AND_MORE)]);
    expect(errors[0]?.reason).toBe("Submit body of 7 B is shorter than its 8-byte ID");
  });

  test("a Conn body shorter than its 8-byte ID is refused with FRAME_ERR_SHORT_ID", () => {
    for (const length of [5, 12]) expectRefused(rawFrame(length, 0x01, ID_AND_MORE), Code.ShortId);
  });

  test("an ack sent by a client is refused with FRAME_ERR_UNEXPECTED_ACK, in both code sets", () => {
    const cases: [FrameCodes, number][] = [
      ["spec", 0x81],
      ["spec", 0x82],
      ["article", 0x80],
      ["article", 0x81],
    ];
    for (const [codes, command] of cases) {
      const ack = rawFrame(14, command, ID_AND_MORE.subarray(0, 9));
      expectRefused(ack, Code.UnexpectedAck, { codes, acceptAcks: false });
      // Whatever its length: the server takes no ack at all.
      expectRefused(rawFrame(40, command, ID_AND_MORE), Code.UnexpectedAck, { codes });
    }
  });

  test("an ack that is not 14 bytes is refused on the client side with FRAME_ERR_BAD_ACK_LENGTH", () => {
    for (const codes of ["spec", "article"] as const) {
      const submitAckCode = codes === "spec" ? 0x82 : 0x81;
      for (const length of [5, 13, 15, 40]) {
        expectRefused(rawFrame(length, submitAckCode, ID_AND_MORE), Code.BadAckLength, {
          codes,
          acceptAcks: true,
        });
      }
    }
  });

  test("after an error every later push is ignored, and the error is reported once", () => {
    const decoder = new FrameDecoder({ codes: "spec", maxFrame: 1 << 20, acceptAcks: false });
    const sink = new RecordingSink();
    expect(decoder.push(concat([BEFORE.input, rawFrame(3, 0x02)]), sink)).toBe(
      BEFORE.events.length,
    );
    expect(decoder.push(AFTER, sink)).toBe(0);
    expect(decoder.push(BEFORE.input, sink)).toBe(0);
    expect(sink.events).toEqual(BEFORE.events);
    expect(sink.errors).toHaveLength(1);
  });

  test("the error names the rule, the bad frame's offset, length and command", () => {
    const { errors } = decode([BEFORE.input, rawFrame(9, 0x01, ID_AND_MORE)]);
    const error = errors[0];
    expect(error).toBeInstanceOf(Error);
    expect(error?.name).toBe("FrameError");
    expect({ ...error }).toMatchObject({
      code: "FRAME_ERR_SHORT_ID",
      offset: BEFORE.input.length,
      totalLength: 9,
      command: 1,
    });
    expect(error?.message).toBe(
      `FRAME_ERR_SHORT_ID: Conn body of 4 B is shorter than its 8-byte ID (frame at stream offset ${BEFORE.input.length})`,
    );
  });

  test("garbage in random chunkings never throws, and reports at most one error (fixed seed)", () => {
    const random = seededRandom(0xbad_f00d);
    for (let round = 0; round < 300; round++) {
      const garbage = Uint8Array.from({ length: Math.floor(random() * 300) }, () =>
        // Small numbers often, so lengths and commands are sometimes plausible.
        random() < 0.5 ? Math.floor(random() * 20) : Math.floor(random() * 256),
      );
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < garbage.length; ) {
        const size = 1 + Math.floor(random() * 30);
        chunks.push(garbage.subarray(at, at + size));
        at += size;
      }
      const acceptAcks = random() < 0.5;
      const { errors } = decode(chunks, { acceptAcks, maxFrame: 14 + Math.floor(random() * 200) });
      expect(errors.length).toBeLessThanOrEqual(1);
    }
  });
});
