/**
 * What a peer's bytes can do to a session: each protocol violation closes it with its code
 * (from a raw socket, over TCP), the frames Go ignores are ignored (and an ignored PSH costs
 * no receive budget), and random bytes never throw out of the data handler.
 */
import { describe, expect, test } from "bun:test";
import { MuxErrorCode, Session } from "../../src/mux/index.ts";
import {
  encodeFin,
  encodeFrame,
  encodeNop,
  encodePsh,
  encodeSyn,
  encodeUpd,
  SmuxCmd,
  SmuxErrorCode,
} from "../../src/protocol/smux-frame.ts";
import {
  bytes,
  cleanupAfterEach,
  concat,
  hex,
  randomBytes,
  rawClientOf,
  ScriptedTransport,
  seededRandom,
  until,
} from "./support.ts";

cleanupAfterEach();

const QUIET = { keepAliveDisabled: true } as const;

const VIOLATIONS: {
  name: string;
  version: 1 | 2;
  wire: Uint8Array;
  code: string;
  reason: string;
}[] = [
  {
    name: "a frame of version 2 on a version 1 session",
    version: 1,
    wire: hex("02 00 00 00 03 00 00 00"),
    code: SmuxErrorCode.BadVersion,
    reason: "version 2 on a version 1 session",
  },
  {
    name: "command 5",
    version: 2,
    wire: hex("02 05 00 00 03 00 00 00"),
    code: SmuxErrorCode.UnknownCommand,
    reason: "unknown command 5",
  },
  {
    name: "UPD on version 1",
    version: 1,
    wire: hex("01 04 08 00 03 00 00 00 00 00 00 00 00 00 01 00"),
    code: SmuxErrorCode.UpdOnV1,
    reason: "UPD (window update) on a version 1 session",
  },
  {
    name: "SYN with a body",
    version: 1,
    wire: hex("01 00 01 00 03 00 00 00 ff"),
    code: SmuxErrorCode.UnexpectedBody,
    reason: "SYN with a body of 1 byte (must be empty)",
  },
  {
    name: "FIN with a body",
    version: 2,
    wire: hex("02 01 02 00 03 00 00 00 ff ff"),
    code: SmuxErrorCode.UnexpectedBody,
    reason: "FIN with a body of 2 bytes (must be empty)",
  },
  {
    name: "NOP with a body",
    version: 1,
    wire: hex("01 03 04 00 00 00 00 00 00 00 00 00"),
    code: SmuxErrorCode.UnexpectedBody,
    reason: "NOP with a body of 4 bytes (must be empty)",
  },
  {
    name: "UPD with a 4-byte body",
    version: 2,
    wire: hex("02 04 04 00 03 00 00 00 00 00 00 00"),
    code: SmuxErrorCode.BadUpd,
    reason: "UPD body of 4 bytes (must be 8)",
  },
];

describe("each violation from a raw socket closes the session with its code", () => {
  for (const { name, version, wire, code, reason } of VIOLATIONS) {
    test(`${name}: ${code}`, async () => {
      const { raw, session } = await rawClientOf({ version, ...QUIET });
      // A valid SYN first: the violation comes after a frame that was taken.
      raw.write(concat([encodeSyn(version, 3), wire]));
      const cause = await session.closed;
      expect(cause.code).toBe(code as MuxErrorCode);
      expect(cause.reason).toBe(`${reason} at byte 8`);
      expect(cause.message).toContain(cause.peer as string);
      expect(session.counters.protocolErrors[code as SmuxErrorCode]).toBe(1);
      expect(session.counters.streamsAccepted).toBe(1);
      // The session ended its transport.
      await raw.when((peer) => peer.closed);
    });
  }
});

describe("frames Go ignores", () => {
  test("a duplicate SYN and PSH/FIN/UPD for unknown streams are ignored, uncharged", async () => {
    const { raw, session } = await rawClientOf({ version: 2, ...QUIET });
    const budget = session.receiveBudget;
    raw.write(
      concat([
        encodeSyn(2, 3),
        encodeSyn(2, 3),
        encodePsh(2, 9, new Uint8Array(1000)),
        encodeFin(2, 9),
        encodeUpd(9, 0, 65536),
        encodeNop(2),
        encodeSyn(2, 5),
        encodePsh(2, 5, bytes("still alive")),
      ]),
    );
    const first = await session.accept();
    const second = await session.accept();
    expect([first.id, second.id]).toEqual([3, 5]);
    await until(() => second.bufferedBytes === 11, "the PSH on stream 5");
    expect(session.counters.framesIgnored).toBe(4);
    expect(session.counters.framesIn).toBe(8);
    // Only stream 5's unread 11 bytes hold budget; the 1000 for stream 9 never counted.
    expect(session.receiveBudget).toBe(budget - 11);
    expect(session.isClosed).toBe(false);
  });
});

describe("random bytes never throw out of the data handler", () => {
  test("2,000 random streams of garbage, fed in random chunks", () => {
    const random = seededRandom(13);
    const outcomes = new Set<string>();
    for (let run = 0; run < 2000; run++) {
      const version = run % 2 === 0 ? 1 : 2;
      const session = Session.server(new ScriptedTransport(), { version, ...QUIET });
      session.onStream = (stream) => stream.onData(() => {});
      const garbage = new Uint8Array(1 + Math.floor(random() * 300));
      for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
      // Half the runs start with a plausible header, so the decoder gets past byte 0.
      if (run % 4 < 2) garbage[0] = version;
      for (let at = 0; at < garbage.length; ) {
        const size = 1 + Math.floor(random() * 40);
        expect(() => session.onData(garbage.subarray(at, at + size))).not.toThrow();
        at += size;
      }
      outcomes.add(session.cause?.code ?? "open");
      session.close();
    }
    expect(outcomes).toContain(SmuxErrorCode.BadVersion);
    expect(outcomes).toContain(SmuxErrorCode.UnknownCommand);
  });

  test("random frames (smux TestRandomFrame): valid headers, random commands, IDs and bodies", () => {
    const random = seededRandom(7);
    const pick = (n: number) => Math.floor(random() * n);
    for (let run = 0; run < 200; run++) {
      const version = run % 2 === 0 ? 1 : 2;
      const session = Session.server(new ScriptedTransport(), { version, ...QUIET });
      session.onStream = (stream) => {
        if (pick(2) === 0) stream.onData(() => {});
      };
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        const cmd =
          pick(7) === 0
            ? pick(256)
            : [SmuxCmd.SYN, SmuxCmd.PSH, SmuxCmd.FIN, SmuxCmd.UPD, SmuxCmd.NOP][pick(5)];
        const body =
          cmd === SmuxCmd.PSH || pick(8) === 0
            ? randomBytes(pick(100))
            : new Uint8Array(cmd === SmuxCmd.UPD ? 8 : 0);
        frames.push(
          encodeFrame(pick(12) === 0 ? pick(256) : version, cmd as number, pick(8), body),
        );
      }
      expect(() => session.onData(concat(frames))).not.toThrow();
      session.close();
    }
  });

  test("64 KiB of garbage over TCP closes the session with a protocol code", async () => {
    const { raw, session } = await rawClientOf({ version: 1, ...QUIET });
    const garbage = randomBytes(65_536);
    garbage[0] = 0x7f; // not version 1: fatal at byte 0
    raw.write(garbage);
    const cause = await session.closed;
    expect(cause.code).toBe(MuxErrorCode.BadVersion);
    await raw.when((peer) => peer.closed);
  });
});
