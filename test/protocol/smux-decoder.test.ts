import { describe, expect, test } from "bun:test";
import { SmuxDecoder } from "../../src/protocol/smux-decoder.ts";
import {
  encodeFin,
  encodeFrame,
  encodeNop,
  encodePsh,
  encodeSyn,
  encodeUpd,
  SmuxCmd,
  SmuxErrorCode,
  type SmuxVersion,
} from "../../src/protocol/smux-frame.ts";
import { bytes, concat, seededRandom } from "../support/harness.ts";
import { decodeChunks, frameEvent, Recorder, updateEvent } from "./smux-recorder.ts";

/** A fixture: frames as bytes and the events they must produce. */
interface Fixture {
  version: SmuxVersion;
  wire: Uint8Array;
  events: string[];
}

function fixture(version: SmuxVersion, frames: [Uint8Array, string][]): Fixture {
  return {
    version,
    wire: concat(frames.map(([frame]) => frame)),
    events: frames.map(([, event]) => event),
  };
}

const HELLO = bytes("hello");

const FIXTURES: Record<string, Fixture> = {
  "v2: SYN, PSH with data, empty PSH, UPD, NOP, FIN": fixture(2, [
    [encodeSyn(2, 3), "SYN 3"],
    [encodePsh(2, 3, HELLO), frameEvent(SmuxCmd.PSH, 3, HELLO)],
    [encodePsh(2, 3, new Uint8Array(0)), "PSH 3"],
    [encodeUpd(3, 5, 65536), updateEvent(3, 5, 65536)],
    [encodeNop(2), "NOP 0"],
    [encodeFin(2, 3), "FIN 3"],
  ]),
  "v1: SYN, PSH with data, empty PSH, NOP, FIN on two streams": fixture(1, [
    [encodeSyn(1, 3), "SYN 3"],
    [encodeSyn(1, 2), "SYN 2"],
    [encodePsh(1, 2, HELLO), frameEvent(SmuxCmd.PSH, 2, HELLO)],
    [encodePsh(1, 3, new Uint8Array(0)), "PSH 3"],
    [encodeNop(1), "NOP 0"],
    [encodeFin(1, 3), "FIN 3"],
  ]),
  "v2: UPD counters at the u32 limits, a 300-byte PSH, a high stream ID": fixture(2, [
    [encodeUpd(0xffff_fffe, 0xffff_ffff, 0), updateEvent(0xffff_fffe, 0xffff_ffff, 0)],
    [
      encodePsh(2, 0xffff_ffff, new Uint8Array(300).fill(0xab)),
      frameEvent(SmuxCmd.PSH, 0xffff_ffff, new Uint8Array(300).fill(0xab)),
    ],
    [encodeFin(2, 0xffff_ffff), `FIN ${0xffff_ffff}`],
  ]),
};

for (const [name, { version, wire, events }] of Object.entries(FIXTURES)) {
  describe(name, () => {
    test("whole, in one chunk", () => {
      const { recorder, decoder } = decodeChunks(version, [wire]);
      expect(recorder.events).toEqual(events);
      expect(decoder.bytesDecoded).toBe(wire.length);
      expect(decoder.bufferedBytes).toBe(0);
    });

    test("every 2-way split point", () => {
      for (let i = 0; i <= wire.length; i++) {
        const { recorder, decoder } = decodeChunks(version, [
          wire.subarray(0, i),
          wire.subarray(i),
        ]);
        expect(recorder.events).toEqual(events);
        expect(decoder.bufferedBytes).toBe(0);
      }
    });

    test("one byte at a time", () => {
      const { recorder, decoder } = decodeChunks(
        version,
        Array.from(wire, (byte) => Uint8Array.of(byte)),
      );
      expect(recorder.events).toEqual(events);
      expect(decoder.bytesDecoded).toBe(wire.length);
    });

    test("pausing after every frame and resuming from outside, at every split point", () => {
      for (let i = 0; i <= wire.length; i++) {
        const recorder = new Recorder();
        const decoder = new SmuxDecoder(version, recorder);
        recorder.afterFrame = () => decoder.pause();
        decoder.push(wire.subarray(0, i));
        decoder.push(wire.subarray(i));
        for (let rounds = 0; decoder.paused && rounds < 100; rounds++) decoder.resume();
        expect(recorder.events).toEqual(events);
        expect(decoder.bufferedBytes).toBe(0);
      }
    });
  });
}

test("a PSH body within one chunk is passed as a range of that chunk (zero-copy)", () => {
  const chunk = concat([encodeSyn(1, 3), encodePsh(1, 3, bytes("abc")), encodeNop(1)]);
  const { recorder } = decodeChunks(1, [chunk]);
  const psh = recorder.sources[1];
  expect(psh?.bytes).toBe(chunk);
  expect(psh?.start).toBe(16);
  expect(psh?.end).toBe(19);
});

test("a PSH body across chunks is copied once into a fresh buffer of its length", () => {
  const wire = encodePsh(2, 5, bytes("across"));
  const first = wire.subarray(0, 11);
  const second = wire.subarray(11);
  const { recorder } = decodeChunks(2, [first, second]);
  const psh = recorder.sources[0];
  expect(psh?.bytes).not.toBe(first);
  expect(psh?.bytes.buffer).not.toBe(wire.buffer);
  expect(psh?.bytes.length).toBe(6);
  expect([psh?.start, psh?.end]).toEqual([0, 6]);
  expect(recorder.events).toEqual([frameEvent(SmuxCmd.PSH, 5, bytes("across"))]);
});

test("20,000 frames in one chunk are all delivered, each body in place", () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) {
    frames.push(i % 3 === 2 ? encodeUpd(i, i * 7, 65536) : encodePsh(2, i, bytes(`m${i}`)));
  }
  const chunk = concat(frames);
  const { recorder, decoder } = decodeChunks(2, [chunk]);
  expect(recorder.events.length).toBe(20_000);
  expect(recorder.events[19_999]).toBe(frameEvent(SmuxCmd.PSH, 19_999, bytes("m19999")));
  expect(recorder.events[5]).toBe(updateEvent(5, 35, 65536));
  expect(recorder.sources.every((source) => source.bytes === chunk)).toBe(true);
  expect(decoder.bytesDecoded).toBe(chunk.length);
});

test("random valid frames in random chunkings match what was encoded (fixed seed)", () => {
  const random = seededRandom(0x5eed_0013);
  for (let round = 0; round < 200; round++) {
    const version: SmuxVersion = random() < 0.5 ? 1 : 2;
    const frames: Uint8Array[] = [];
    const events: string[] = [];
    const count = 1 + Math.floor(random() * 40);
    for (let i = 0; i < count; i++) {
      const cmd = Math.floor(random() * (version === 2 ? 5 : 4));
      const sid = random() < 0.1 ? 0xffff_ffff : Math.floor(random() * 1000);
      if (cmd === SmuxCmd.PSH) {
        const big = random() < 0.05;
        const length = big ? 60_000 + Math.floor(random() * 5536) : Math.floor(random() * 200);
        const body = Uint8Array.from({ length }, (_, k) => (k * 31 + i) & 0xff);
        frames.push(encodePsh(version, sid, body));
        events.push(frameEvent(cmd, sid, body));
      } else if (cmd === SmuxCmd.UPD) {
        const consumed = Math.floor(random() * 2 ** 32);
        const window = Math.floor(random() * 2 ** 32);
        frames.push(encodeUpd(sid, consumed, window));
        events.push(updateEvent(sid, consumed, window));
      } else {
        frames.push(encodeFrame(version, cmd, sid));
        events.push(frameEvent(cmd, sid));
      }
    }
    const wire = concat(frames);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < wire.length; ) {
      const size = random() < 0.2 ? Math.floor(random() * 9) : 1 + Math.floor(random() * 5000);
      chunks.push(wire.subarray(at, at + size));
      at += size;
    }
    const { recorder, decoder } = decodeChunks(version, chunks);
    expect(recorder.events).toEqual(events);
    expect(decoder.bytesDecoded).toBe(wire.length);
  }
});

describe("pause and resume", () => {
  const wire = concat([
    encodeSyn(2, 3),
    encodePsh(2, 3, bytes("one")),
    encodePsh(2, 3, bytes("two")),
    encodeFin(2, 3),
  ]);
  const all = [
    "SYN 3",
    frameEvent(SmuxCmd.PSH, 3, bytes("one")),
    frameEvent(SmuxCmd.PSH, 3, bytes("two")),
    "FIN 3",
  ];

  test("a pause from the sink stops after that frame and keeps the rest of the chunk", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(2, recorder);
    recorder.afterFrame = (event) => {
      if (event.startsWith("PSH")) decoder.pause();
    };
    expect(decoder.push(wire)).toBe(false);
    expect(recorder.events).toEqual(all.slice(0, 2));
    expect(decoder.paused).toBe(true);
    expect(decoder.bufferedBytes).toBe(wire.length - 19);
    expect(decoder.bytesDecoded).toBe(19);

    recorder.afterFrame = undefined;
    decoder.resume();
    expect(recorder.events).toEqual(all);
    expect(decoder.paused).toBe(false);
    expect(decoder.bufferedBytes).toBe(0);
  });

  test("chunks pushed while paused are queued undecoded, then delivered in order", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(2, recorder);
    decoder.pause();
    expect(decoder.push(wire.subarray(0, 10))).toBe(false);
    expect(decoder.push(wire.subarray(10))).toBe(false);
    // Even a bad frame is not judged while paused: nothing is read.
    expect(decoder.push(encodeFrame(9, 0, 0))).toBe(false);
    expect(recorder.events).toEqual([]);
    expect(decoder.bufferedBytes).toBe(wire.length + 8);

    decoder.resume();
    expect(recorder.events).toEqual([...all, `ERROR ${SmuxErrorCode.BadVersion}`]);
    expect(decoder.paused).toBe(false);
    expect(decoder.bufferedBytes).toBe(0);
  });

  test("a pause while a body is half received holds it until resumed", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(2, recorder);
    expect(decoder.push(wire.subarray(0, 17))).toBe(true); // SYN, PSH header, 1 body byte
    decoder.pause();
    decoder.push(wire.subarray(17));
    expect(recorder.events).toEqual(["SYN 3"]);
    expect(decoder.bufferedBytes).toBe(wire.length - 16);
    decoder.resume();
    expect(recorder.events).toEqual(all);
  });

  test("a budget spent per frame: pause in the sink, resume from outside, one frame a round", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(2, recorder);
    recorder.afterFrame = () => decoder.pause();
    decoder.push(wire);
    const seen = [recorder.events.length];
    while (decoder.paused) {
      decoder.resume();
      seen.push(recorder.events.length);
    }
    expect(seen).toEqual([1, 2, 3, 4, 4]);
    expect(recorder.events).toEqual(all);
  });

  test("pause and resume inside the same sink call change nothing", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(2, recorder);
    recorder.afterFrame = () => {
      decoder.pause();
      decoder.resume();
    };
    expect(decoder.push(wire)).toBe(true);
    expect(recorder.events).toEqual(all);
  });

  test("a push from inside the sink is delivered after the frames already in hand", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(2, recorder);
    let pushed = false;
    recorder.afterFrame = () => {
      if (pushed) return;
      pushed = true;
      expect(decoder.push(encodeNop(2))).toBe(true);
    };
    decoder.push(wire);
    expect(recorder.events).toEqual([...all, "NOP 0"]);
  });

  test("resume without a pause, and pause after a failure, do nothing", () => {
    const recorder = new Recorder();
    const decoder = new SmuxDecoder(1, recorder);
    decoder.resume();
    decoder.push(encodeFrame(1, 9, 0));
    decoder.pause();
    expect(decoder.paused).toBe(false);
    expect(recorder.events).toEqual([`ERROR ${SmuxErrorCode.UnknownCommand}`]);
  });
});

test("the decoder refuses a version other than 1 or 2", () => {
  expect(() => new SmuxDecoder(3 as SmuxVersion, new Recorder())).toThrow(RangeError);
});
