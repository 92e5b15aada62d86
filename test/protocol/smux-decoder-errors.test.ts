/**
 * SmuxDecoder against bad input: each fatal rule of smux-frame.ts's table, and garbage.
 */
import { describe, expect, test } from "bun:test";
import {
  encodeFin,
  encodeFrame,
  encodeNop,
  encodePsh,
  encodeSyn,
  SmuxCmd,
  SmuxErrorCode,
  type SmuxVersion,
} from "../../src/protocol/smux-frame.ts";
import { bytes, concat, seededRandom } from "../support/harness.ts";
import { decodeChunks, frameEvent } from "./smux-recorder.ts";

describe("fatal rules: the session closes with a code, earlier frames delivered, none after", () => {
  const before = (version: SmuxVersion) =>
    concat([encodeSyn(version, 3), encodePsh(version, 3, bytes("ok"))]);
  const beforeEvents = ["SYN 3", frameEvent(SmuxCmd.PSH, 3, bytes("ok"))];

  /** Feeds good frames, the bad one, then good ones: in one chunk and split around the bad. */
  function expectFatal(
    version: SmuxVersion,
    bad: Uint8Array,
    code: SmuxErrorCode,
    reason: string,
  ): void {
    const good = before(version);
    const after = concat([encodeNop(version), encodeFin(version, 3)]);
    const wire = concat([good, bad, after]);
    const splits = [[wire], [good, bad, after], Array.from(wire, (b) => Uint8Array.of(b))];
    for (const chunks of splits) {
      const { recorder, decoder } = decodeChunks(version, chunks);
      expect(recorder.events).toEqual([...beforeEvents, `ERROR ${code}`]);
      expect(recorder.errors.length).toBe(1);
      const error = recorder.errors[0];
      expect(error?.code).toBe(code);
      expect(error?.reason).toBe(reason);
      expect(error?.header.offset).toBe(good.length);
      expect(decoder.error).toBe(error);
      expect(decoder.bytesDecoded).toBe(good.length);
      // Stopped for good: more input is ignored, and the error is not reported again.
      expect(decoder.push(concat([encodeNop(version), bad]))).toBe(false);
      expect(recorder.events.length).toBe(beforeEvents.length + 1);
    }
  }

  test("a version byte other than the session's closes it with MUX_ERR_BAD_VERSION", () => {
    expectFatal(1, encodeSyn(2, 5), SmuxErrorCode.BadVersion, "version 2 on a version 1 session");
    expectFatal(2, encodeNop(1), SmuxErrorCode.BadVersion, "version 1 on a version 2 session");
    expectFatal(
      2,
      encodeFrame(0, 0, 5),
      SmuxErrorCode.BadVersion,
      "version 0 on a version 2 session",
    );
  });

  test("a command above 4 closes the session with MUX_ERR_UNKNOWN_COMMAND", () => {
    expectFatal(2, encodeFrame(2, 5, 3), SmuxErrorCode.UnknownCommand, "unknown command 5");
    expectFatal(
      1,
      encodeFrame(1, 255, 3, bytes("x")),
      SmuxErrorCode.UnknownCommand,
      "unknown command 255",
    );
  });

  test("a SYN with a body closes the session with MUX_ERR_UNEXPECTED_BODY", () => {
    const bad = encodeFrame(1, SmuxCmd.SYN, 5, bytes("x"));
    expectFatal(1, bad, SmuxErrorCode.UnexpectedBody, "SYN with a body of 1 byte (must be empty)");
  });

  test("a FIN with a body closes the session with MUX_ERR_UNEXPECTED_BODY", () => {
    const bad = encodeFrame(2, SmuxCmd.FIN, 3, bytes("bye"));
    expectFatal(2, bad, SmuxErrorCode.UnexpectedBody, "FIN with a body of 3 bytes (must be empty)");
  });

  test("a NOP with a body closes the session with MUX_ERR_UNEXPECTED_BODY", () => {
    const bad = encodeFrame(1, SmuxCmd.NOP, 0, new Uint8Array(8));
    expectFatal(1, bad, SmuxErrorCode.UnexpectedBody, "NOP with a body of 8 bytes (must be empty)");
  });

  test("an UPD body shorter than 8 bytes closes a v2 session with MUX_ERR_BAD_UPD", () => {
    const bad = encodeFrame(2, SmuxCmd.UPD, 3, new Uint8Array(4));
    expectFatal(2, bad, SmuxErrorCode.BadUpd, "UPD body of 4 bytes (must be 8)");
  });

  test("an UPD body longer than 8 bytes closes a v2 session with MUX_ERR_BAD_UPD", () => {
    const bad = encodeFrame(2, SmuxCmd.UPD, 3, new Uint8Array(12));
    expectFatal(2, bad, SmuxErrorCode.BadUpd, "UPD body of 12 bytes (must be 8)");
    const empty = encodeFrame(2, SmuxCmd.UPD, 3);
    expectFatal(2, empty, SmuxErrorCode.BadUpd, "UPD body of 0 bytes (must be 8)");
  });

  test("any UPD on a v1 session closes it with MUX_ERR_UPD_ON_V1, whatever its length", () => {
    const reason = "UPD (window update) on a version 1 session";
    expectFatal(
      1,
      encodeFrame(1, SmuxCmd.UPD, 3, new Uint8Array(8)),
      SmuxErrorCode.UpdOnV1,
      reason,
    );
    expectFatal(1, encodeFrame(1, SmuxCmd.UPD, 3), SmuxErrorCode.UpdOnV1, reason);
  });

  test("the error names the offending header and where it began", () => {
    const { recorder } = decodeChunks(2, [before(2), encodeFrame(2, SmuxCmd.FIN, 7, bytes("zz"))]);
    const error = recorder.errors[0];
    expect(error?.name).toBe("SmuxProtocolError");
    expect(error?.sessionVersion).toBe(2);
    expect(error?.header).toEqual({ version: 2, cmd: 1, length: 2, streamId: 7, offset: 18 });
    expect(error?.message).toBe(
      "MUX_ERR_UNEXPECTED_BODY: FIN with a body of 2 bytes (must be empty) (stream 7, byte 18)",
    );
  });

  test("a bad header is refused as soon as its 8 bytes are in, before its body arrives", () => {
    // A FIN announcing a 1000-byte body: only the header is fed, whole or in two pieces.
    const header = encodeFrame(2, SmuxCmd.FIN, 3, new Uint8Array(1000)).subarray(0, 8);
    for (const pieces of [[header], [header.subarray(0, 3), header.subarray(3)]]) {
      const { recorder, decoder } = decodeChunks(2, [before(2), ...pieces]);
      expect(recorder.events).toEqual([...beforeEvents, `ERROR ${SmuxErrorCode.UnexpectedBody}`]);
      expect(decoder.bufferedBytes).toBe(0);
    }
    // Seven bytes are not yet a header: nothing is judged.
    const { recorder } = decodeChunks(2, [before(2), header.subarray(0, 7)]);
    expect(recorder.events).toEqual(beforeEvents);
  });
});

test("random bytes never throw: each run ends in delivered frames or one error (fixed seed)", () => {
  const random = seededRandom(0xbad_f00d);
  for (let round = 0; round < 500; round++) {
    const version: SmuxVersion = random() < 0.5 ? 1 : 2;
    const garbage = Uint8Array.from({ length: Math.floor(random() * 300) }, () =>
      // Mostly plausible header bytes, so some frames get through before the error.
      random() < 0.5 ? Math.floor(random() * 6) : Math.floor(random() * 256),
    );
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < garbage.length; at += 7) chunks.push(garbage.subarray(at, at + 7));
    const { recorder } = decodeChunks(version, chunks);
    expect(recorder.errors.length).toBeLessThanOrEqual(1);
    const errorAt = recorder.events.findIndex((event) => event.startsWith("ERROR"));
    expect(errorAt === -1 || errorAt === recorder.events.length - 1).toBe(true);
  }
});
