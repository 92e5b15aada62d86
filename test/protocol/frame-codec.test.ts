/**
 * FrameDecoder: every split point of multi-frame streams, byte-by-byte feeding, thousands of
 * frames per chunk, random frames in random chunkings, the zero-copy contract, and each
 * bad-input rule of issue 12 (encoder bytes are pinned in frame-encoder.test.ts).
 */
import { describe, expect, test } from "bun:test";
import {
  encodeSubmit,
  type FrameCodes,
  FrameDecoder,
  FrameErrorCode,
  type FrameSink,
} from "../../src/protocol/frame-codec.ts";
import { concat, seededRandom } from "../support/harness.ts";
import {
  conn,
  connAck,
  decode,
  type FixtureFrame,
  fromHex,
  RecordingSink,
  type RunRecordingSink,
  stream,
  submit,
  submitAck,
} from "./frame-test-support.ts";

const CODE_SETS: FrameCodes[] = ["spec", "article"];

/** What a client sends: a Conn with a token, then Submits (empty, with \n, binary, larger). */
const REQUESTS: FixtureFrame[] = [
  conn("00000001", "s3cret-token"),
  submit("00000002", "hello"),
  submit("00000003", ""),
  submit("00000004", "two\nlines\n"),
  submit("00000005", Uint8Array.of(0, 0, 0, 5, 2, 0xff, 10, 13)),
  submit("00000006", "x".repeat(300)),
];

/** What a client reads: acks in either order and result, and Submits from the relay. */
function clientStream(codes: FrameCodes): FixtureFrame[] {
  return [
    connAck("00000001", 0, codes),
    submitAck("00000002", 0, codes),
    submit("r0000001", "fanned out\n"),
    submitAck("00000003", 1, codes),
    connAck("00000009", 1, codes),
    submit("r0000002", ""),
    submitAck("00000004", 0, codes),
  ];
}

const FIXTURES: { name: string; frames: FixtureFrame[]; codes: FrameCodes; acceptAcks: boolean }[] =
  [
    { name: "server side: Conn + Submits", frames: REQUESTS, codes: "spec", acceptAcks: false },
    ...CODE_SETS.map((codes) => ({
      name: `client side (${codes} codes): acks + Submits`,
      frames: clientStream(codes),
      codes,
      acceptAcks: true,
    })),
  ];

describe("FrameDecoder on whole streams", () => {
  for (const { name, frames, codes, acceptAcks } of FIXTURES) {
    const { input, events } = stream(frames);
    const setup = { codes, acceptAcks };

    test(`${name}: whole input, every frame a view of the chunk`, () => {
      const { events: seen, count, errors, sink, decoder } = decode([input], setup);
      expect(seen).toEqual(events);
      expect(count).toBe(frames.length);
      expect(errors).toEqual([]);
      expect(sink.stableFrames).toBe(frames.length);
      expect(decoder.pendingBytes).toBe(0);
    });

    test(`${name}: every 2-way split point`, () => {
      for (let i = 0; i <= input.length; i++) {
        const result = decode([input.subarray(0, i), input.subarray(i)], setup);
        expect(result.events).toEqual(events);
        expect(result.count).toBe(frames.length);
        expect(result.errors).toEqual([]);
      }
    });

    test(`${name}: every 3-way split of the first 120 bytes`, () => {
      const head = Math.min(120, input.length);
      for (let i = 0; i <= head; i++) {
        for (let j = i; j <= head; j++) {
          const parts = [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
          const result = decode(parts, setup);
          expect(result.events).toEqual(events);
          expect(result.count).toBe(frames.length);
        }
      }
    });

    test(`${name}: one byte at a time`, () => {
      const parts = Array.from(input, (byte) => Uint8Array.of(byte));
      const result = decode(parts, setup);
      expect(result.events).toEqual(events);
      expect(result.count).toBe(frames.length);
      expect(result.sink.stableFrames).toBe(0);
    });
  }

  test("thousands of frames in one chunk: all delivered, in order, as views of that chunk", () => {
    const frames = Array.from({ length: 5000 }, (_, i) =>
      submit(String(i).padStart(8, "0"), `message ${i}`),
    );
    const { input, events } = stream(frames);
    const { events: seen, count, sink } = decode([input]);
    expect(count).toBe(5000);
    expect(sink.stableFrames).toBe(5000);
    expect(seen).toEqual(events);
  });

  test("an empty chunk delivers nothing and changes nothing", () => {
    const { input, events } = stream(REQUESTS);
    const result = decode([
      new Uint8Array(0),
      input.subarray(0, 7),
      new Uint8Array(0),
      input.subarray(7),
    ]);
    expect(result.events).toEqual(events);
  });

  test("random frames in random chunkings match what was encoded (fixed seed)", () => {
    const random = seededRandom(0x5eed_0003);
    for (let round = 0; round < 200; round++) {
      const codes = CODE_SETS[round % 2] as FrameCodes;
      const frames: FixtureFrame[] = [];
      const frameCount = 1 + Math.floor(random() * 20);
      for (let f = 0; f < frameCount; f++) {
        const id = String(Math.floor(random() * 1e8)).padStart(8, "0");
        const size = random() < 0.1 ? Math.floor(random() * 3000) : Math.floor(random() * 40);
        const payload = Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
        const pick = random();
        if (pick < 0.55) frames.push(submit(id, payload));
        else if (pick < 0.7) frames.push(conn(id, payload));
        else if (pick < 0.85) frames.push(submitAck(id, random() < 0.5 ? 0 : 1, codes));
        else frames.push(connAck(id, random() < 0.5 ? 0 : 1, codes));
      }
      const { input, events } = stream(frames);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < input.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 16 : 600));
        chunks.push(input.subarray(at, at + size));
        at += size;
      }
      for (const runs of [false, true]) {
        const result = decode(chunks, { codes, acceptAcks: true, runs });
        expect(result.events).toEqual(events);
        expect(result.count).toBe(frames.length);
        expect(result.errors).toEqual([]);
        expect(result.decoder.pendingBytes).toBe(0);
      }
    }
  });
});

describe("FrameDecoder runs of Submits (a sink with submitRun)", () => {
  const fixture = stream([
    submit("00000001", "a"),
    submit("00000002", ""),
    conn("00000003", "tok"),
    submit("00000004", "bcd"),
    submit("00000005", "e".repeat(300)),
    submit("00000006", "f"),
  ]);

  test("every 2-way split point gives the same events as frame-by-frame delivery", () => {
    for (let split = 0; split <= fixture.input.length; split++) {
      const chunks = [fixture.input.subarray(0, split), fixture.input.subarray(split)];
      const result = decode(chunks, { runs: true });
      expect(result.events).toEqual(fixture.events);
      expect(result.count).toBe(6);
    }
  });

  test("back-to-back Submits in one chunk are one run; a Conn between them ends it", () => {
    const result = decode([fixture.input], { runs: true });
    expect(result.events).toEqual(fixture.events);
    expect((result.sink as RunRecordingSink).runs).toBe(2);
  });

  test("a bad frame after a run: the run is delivered first, then the one error", () => {
    const bad = new Uint8Array([0, 0, 0, 3, 2]);
    const input = concat([submit("00000001", "x").bytes, submit("00000002", "y").bytes, bad]);
    const result = decode([input], { runs: true });
    expect(result.events.map((e) => e.id)).toEqual(["00000001", "00000002"]);
    expect(result.errors.map((e) => e.code)).toEqual(["FRAME_ERR_TOO_SHORT"]);
  });

  test("a Submit over maxFrame is not taken into a run: it is refused from its header", () => {
    const big = submit("00000002", "z".repeat(100)).bytes;
    const input = concat([submit("00000001", "x").bytes, big]);
    const result = decode([input], { runs: true, maxFrame: 64 });
    expect(result.events.map((e) => e.id)).toEqual(["00000001"]);
    expect(result.errors.map((e) => e.code)).toEqual(["FRAME_ERR_TOO_LONG"]);
  });
});

describe("FrameDecoder zero-copy and buffer reuse", () => {
  test("a frame inside one chunk is delivered as a view into that chunk, at its offsets", () => {
    const first = encodeSubmit("00000001", "abc");
    const second = encodeSubmit("00000002", "defgh");
    const chunk = concat([first, second]);
    const seen: unknown[] = [];
    const sink = ignoringSink({
      submit: (bytes, start, end, idStart, payloadStart, stable) =>
        seen.push({ same: bytes === chunk, start, end, idStart, payloadStart, stable }),
    });
    const decoder = new FrameDecoder({ codes: "spec", maxFrame: 100, acceptAcks: false });
    expect(decoder.push(chunk, sink)).toBe(2);
    expect(seen).toEqual([
      { same: true, start: 0, end: 16, idStart: 5, payloadStart: 13, stable: true },
      { same: true, start: 16, end: 34, idStart: 21, payloadStart: 29, stable: true },
    ]);
  });

  test("a frame across chunks is copied once and marked not stable", () => {
    const frame = encodeSubmit("00000001", "payload");
    const sink = new RecordingSink();
    const decoder = new FrameDecoder({ codes: "spec", maxFrame: 100, acceptAcks: false });
    sink.pushing = frame.subarray(0, 9);
    expect(decoder.push(sink.pushing, sink)).toBe(0);
    expect(decoder.pendingBytes).toBe(9);
    sink.pushing = frame.subarray(9);
    expect(decoder.push(sink.pushing, sink)).toBe(1);
    expect(sink.stableFrames).toBe(0);
    expect(sink.events).toEqual([submit("00000001", "payload").event]);
  });

  test("a frame emitted from the buffer stays intact while the next one starts in the same push", () => {
    const a = encodeSubmit("0000000A", "first frame");
    const b = encodeSubmit("0000000B", "second frame");
    const c = encodeSubmit("0000000C", "third");
    const views: Uint8Array[] = [];
    const sink = ignoringSink({
      submit: (bytes, start, end) => views.push(bytes.subarray(start, end)), // kept, not copied
    });
    const decoder = new FrameDecoder({ codes: "spec", maxFrame: 100, acceptAcks: false });
    decoder.push(a.subarray(0, 10), sink);
    // Completes a (emitted from the buffer), then holds the start of b.
    decoder.push(concat([a.subarray(10), b.subarray(0, 20)]), sink);
    expect(views[0]).toEqual(a);
    // Completes b, then holds the start of c: a's buffer is reused, b's must stay intact.
    decoder.push(concat([b.subarray(20), c.subarray(0, 6)]), sink);
    expect(views[1]).toEqual(b);
    expect(decoder.pendingBytes).toBe(6);
  });

  test("discard drops an unfinished frame (the connection closed mid-frame)", () => {
    const frame = encodeSubmit("00000001", "never finished");
    const { decoder, events } = decode([frame.subarray(0, 17)]);
    expect(decoder.discard()).toBe(17);
    expect(decoder.pendingBytes).toBe(0);
    expect(events).toEqual([]);
  });

  test("an ack's result byte is passed on as sent, even outside 0 and 1", () => {
    const frame = fromHex("00 00 00 0e 82 30 30 30 30 30 30 30 37 02");
    expect(decode([frame], { acceptAcks: true }).events).toEqual([
      { kind: "submitAck", id: "00000007", result: 2 },
    ]);
  });
});

describe("FrameDecoder options", () => {
  test("maxFrame must be an integer from 14 to 2^32 - 1", () => {
    for (const maxFrame of [13, 0, -1, 14.5, 2 ** 32, Number.NaN]) {
      expect(() => new FrameDecoder({ codes: "spec", maxFrame, acceptAcks: true })).toThrow(
        RangeError,
      );
    }
    expect(() => new FrameDecoder({ codes: "spec", maxFrame: 14, acceptAcks: true })).not.toThrow();
    expect(
      () => new FrameDecoder({ codes: "spec", maxFrame: 2 ** 32 - 1, acceptAcks: true }),
    ).not.toThrow();
  });

  test("a frame of exactly maxFrame bytes is accepted", () => {
    const frame = encodeSubmit("00000001", "x".repeat(50)); // 63 bytes
    expect(decode([frame], { maxFrame: 63 }).events).toHaveLength(1);
    expect(decode([frame], { maxFrame: 62 }).errors[0]?.code).toBe(FrameErrorCode.TooLong);
  });
});

/** A FrameSink whose methods do nothing unless given. */
function ignoringSink(methods: Partial<FrameSink>): FrameSink {
  return {
    submit: () => {},
    conn: () => {},
    connAck: () => {},
    submitAck: () => {},
    error: () => {},
    ...methods,
  };
}
