/**
 * `bun run bench --framing frame` (issue 12), without sockets: flags, the relay command,
 * Submit messages and their reader, the publishers' ack checks, merging and reporting.
 */
import { describe, expect, test } from "bun:test";
import { AckTracker } from "../../bench/lib/ack-tracker.ts";
import { parseBenchArgs, UsageError } from "../../bench/lib/args.ts";
import { NS_PER_MS } from "../../bench/lib/clock.ts";
import {
  encodeSubmitMessage,
  idIsSeq,
  messageEnd,
  SUBMIT_OVERHEAD,
  SubmitReader,
} from "../../bench/lib/frame-messages.ts";
import { createHistogram } from "../../bench/lib/latency-histogram.ts";
import { decoded, decodeLine } from "../../bench/lib/message.ts";
import { framingFlags, OUR_RELAY_CMD, relayTemplate } from "../../bench/lib/relay-launcher.ts";
import { mergeAcks, type RunMeasurement } from "../../bench/lib/run-bench.ts";
import { deliveredEverything, toBenchResult } from "../../bench/report/bench-result.ts";
import { ackLine, extraLines, headerLines } from "../../bench/report/text-report.ts";
import {
  encodeSubmitAck,
  FrameDecoder,
  FrameIdCounter,
  type FrameSink,
} from "../../src/protocol/frame-codec.ts";
import { seededRandom } from "../support/harness.ts";

const STAMP = 1_700_000_000_123.456;

describe("bench flags: --framing and --frame-codes", () => {
  test("default to lines and the seed's table", () => {
    expect(parseBenchArgs([])).toMatchObject({ framing: "line", frameCodes: "spec" });
  });

  test("read frame and article", () => {
    const o = parseBenchArgs(["--framing", "frame", "--frame-codes", "article"]);
    expect(o).toMatchObject({ framing: "frame", frameCodes: "article", notes: [] });
  });

  test("refuse other values and frames over NATS", () => {
    expect(() => parseBenchArgs(["--framing", "binary"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["--framing", "frame", "--frame-codes", "go"])).toThrow(
      /spec or article/,
    );
    expect(() => parseBenchArgs(["--framing", "frame", "--protocol", "nats"])).toThrow(/NATS/);
  });

  test("--frame-codes without frames is a note, not an error", () => {
    expect(parseBenchArgs(["--frame-codes", "article"]).notes.join()).toContain("ignored");
  });
});

describe("the relay the bench starts", () => {
  const request = {
    pubHost: "127.0.0.1",
    pubPort: 1,
    subHost: "127.0.0.1",
    subPort: 2,
    noSpawn: false,
    relayCmd: undefined,
  };

  test("gets --framing frame and the codes in frame mode, nothing more in line mode", () => {
    expect(framingFlags({ framing: "line" })).toEqual([]);
    expect(framingFlags({ framing: "frame", frameCodes: "article" })).toEqual([
      "--framing",
      "frame",
      "--frame-codes",
      "article",
    ]);
    expect(relayTemplate({ ...request, framing: "frame", frameCodes: "spec" })).toBe(
      `${OUR_RELAY_CMD} --framing frame --frame-codes spec`,
    );
    expect(relayTemplate({ ...request, framing: "line" })).toBe(OUR_RELAY_CMD);
  });

  test("--relay-cmd is taken as given", () => {
    expect(relayTemplate({ ...request, relayCmd: "x {pub}", framing: "frame" })).toBe("x {pub}");
  });
});

/** Sink for FrameDecoder in tests: Submits as [id, payload] strings. */
function collectSubmits(): { sink: FrameSink; got: [string, string][] } {
  const got: [string, string][] = [];
  const text = (b: Uint8Array, from: number, to: number) =>
    String.fromCharCode(...b.subarray(from, to));
  const sink: FrameSink = {
    submit: (b, _s, end, id, payload) => got.push([text(b, id, id + 8), text(b, payload, end)]),
    conn: () => {},
    connAck: () => {},
    submitAck: () => {},
    error: (e) => {
      throw e;
    },
  };
  return { sink, got };
}

describe("Submit messages", () => {
  test("carry the line message as payload and the seq as ID, read by the relay's decoder", () => {
    const ids = new FrameIdCounter(1);
    const buf = new Uint8Array(3 * (80 + SUBMIT_OVERHEAD));
    let end = 0;
    for (let seq = 1; seq <= 3; seq++) end = encodeSubmitMessage(buf, end, ids, 7, seq, STAMP, 80);
    expect(end).toBe(3 * 93);
    const { sink, got } = collectSubmits();
    new FrameDecoder({ codes: "spec", maxFrame: 1024, acceptAcks: false }).push(buf, sink);
    expect(got.map(([id]) => id)).toEqual(["00000001", "00000002", "00000003"]);
    for (const [, payload] of got) {
      expect(payload).toHaveLength(80);
      expect(payload.endsWith("x\n")).toBe(true);
    }
    expect(got[1]?.[1]).toStartWith("7,2,1700000000123");
  });

  test("idIsSeq compares the 8 ID digits with the seq modulo 10^8", () => {
    const id = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    expect(idIsSeq(id("00000042"), 0, 42)).toBe(true);
    expect(idIsSeq(id("00000042"), 0, 43)).toBe(false);
    expect(idIsSeq(id("00000001"), 0, 100_000_001)).toBe(true);
    expect(idIsSeq(id("..00000009"), 2, 9)).toBe(true);
  });

  test("messageEnd drops the payload's newline only", () => {
    const b = Uint8Array.from([1, 2, 10]);
    expect(messageEnd(b, 0, 3)).toBe(2);
    expect(messageEnd(b, 0, 2)).toBe(2);
    expect(messageEnd(b, 2, 2)).toBe(2);
  });
});

describe("SubmitReader (the subscribers' frame reader)", () => {
  const stream = (count: number) => {
    const ids = new FrameIdCounter(1);
    const buf = new Uint8Array(count * (64 + SUBMIT_OVERHEAD));
    let end = 0;
    for (let seq = 1; seq <= count; seq++)
      end = encodeSubmitMessage(buf, end, ids, 0, seq, STAMP, 64);
    return buf.subarray(0, end);
  };

  test("counts every Submit of random chunkings and hands over checked messages", () => {
    const random = seededRandom(12);
    const whole = stream(500);
    for (let round = 0; round < 20; round++) {
      const seqs: number[] = [];
      const reader = new SubmitReader(1, (bytes, start, end, idStart) => {
        expect(decodeLine(bytes, start, end)).toBe(true);
        expect(idIsSeq(bytes, idStart, decoded.seq)).toBe(true);
        seqs.push(decoded.seq);
      });
      let completed = 0;
      for (let at = 0; at < whole.length; ) {
        const size = 1 + Math.floor(random() * 300);
        completed += reader.push(whole.slice(at, at + size));
        at += size;
      }
      expect(completed).toBe(500);
      expect(reader.count).toBe(500);
      expect(reader.errors).toBe(0);
      expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    }
  });

  test("light mode hands over one message in N", () => {
    const seqs: number[] = [];
    const reader = new SubmitReader(100, (bytes, start, end) => {
      decodeLine(bytes, start, end);
      seqs.push(decoded.seq);
    });
    reader.push(stream(350));
    expect(reader.count).toBe(350);
    expect(seqs).toEqual([1, 101, 201, 301]);
  });

  test("an ack or a bad frame from the relay is an error", () => {
    const reader = new SubmitReader(1, () => {});
    reader.push(encodeSubmitAck("00000001", 0));
    expect(reader.errors).toBe(1);
    expect(reader.failure?.code).toBe("FRAME_ERR_UNEXPECTED_ACK");
  });
});

describe("AckTracker (the publishers' ack checks)", () => {
  const ack = (seq: number, result: 0 | 1 = 0) =>
    encodeSubmitAck(String(seq).padStart(8, "0"), result);
  const always = () => true;

  test("times in-order acks from their batch's stamp", () => {
    const t = new AckTracker(always);
    t.sent(2, 1000);
    t.sent(5, 1001);
    expect(t.unacked).toBe(5);
    for (let seq = 1; seq <= 5; seq++) t.ack(ack(seq), 5, 0, 1002);
    expect(t.received).toBe(5);
    expect(t.unacked).toBe(0);
    expect(t.inWindow).toBe(5);
    expect(t.outOfOrder + t.failed + t.errors).toBe(0);
    const report = AckTracker.report([t]);
    const merged = mergeAcks([report]);
    expect(merged?.latency.histogram.totalCount).toBe(5);
    // 2 acks 2 ms after their stamp, 3 acks 1 ms after.
    expect(merged?.latency.sumNs).toBe(2 * 2 * NS_PER_MS + 3 * NS_PER_MS);
  });

  test("counts a wrong ID, a failed result and acks for nothing sent", () => {
    const t = new AckTracker(always);
    t.sent(3, 0);
    t.ack(ack(1), 5, 0, 1);
    t.ack(ack(3), 5, 0, 1); // seq 2's ack is missing: this one is out of order
    t.ack(ack(3, 1), 5, 1, 1);
    t.ack(ack(4), 5, 0, 1); // nothing was sent as seq 4
    expect(t.outOfOrder).toBe(1);
    expect(t.failed).toBe(1);
    expect(t.received).toBe(4);
    expect(t.unacked).toBe(0);
    expect(t.inWindow).toBe(3);
  });

  test("only Submits of the window are timed", () => {
    const t = new AckTracker((seq) => seq >= 2);
    t.sent(3, 0);
    for (let seq = 1; seq <= 3; seq++) t.ack(ack(seq), 5, 0, 1);
    expect(t.inWindow).toBe(2);
  });

  test("forgets acked batches as it goes (many batches, bounded memory)", () => {
    const t = new AckTracker(always);
    for (let seq = 1; seq <= 5000; seq++) {
      t.sent(seq, seq);
      t.ack(ack(seq), 5, 0, seq + 0.5);
    }
    expect(t.outOfOrder).toBe(0);
    expect(mergeAcks([AckTracker.report([t])])?.latency.sumNs).toBe(5000 * 0.5 * NS_PER_MS);
  });

  test("mergeAcks is null in line mode and sums workers in frame mode", () => {
    expect(mergeAcks([null, null])).toBeNull();
    const a = new AckTracker(always);
    a.sent(1, 0);
    a.ack(ack(1), 5, 0, 1);
    const b = new AckTracker(always);
    b.sent(2, 0);
    const merged = mergeAcks([AckTracker.report([a]), AckTracker.report([b])]);
    expect(merged).toMatchObject({ received: 1, inWindow: 1, unacked: 2 });
  });
});

function measurement(overrides: Partial<RunMeasurement> = {}): RunMeasurement {
  const histogram = createHistogram();
  for (let us = 1; us <= 100; us++) histogram.recordValue(us * 1000);
  return {
    threads: 2,
    windowSec: 10,
    sent: 100_000,
    received: 300_000,
    sentTotal: 110_000,
    receivedTotal: 330_000,
    service: { histogram, sumNs: 5050 * 1000 },
    corrected: null,
    sequence: { received: 330_000, lost: 0, duplicated: 0, reordered: 0 },
    malformed: 0,
    foreign: 0,
    negative: 0,
    sampled: 0,
    relayCpuPct: null,
    clientCpuPct: null,
    relayRssBytes: null,
    relayRssBaselineBytes: null,
    disconnected: 0,
    unflushedBytes: 0,
    publishStartMs: 0,
    extras: [],
    acks: {
      received: 110_000,
      inWindow: 100_000,
      failed: 0,
      outOfOrder: 0,
      unacked: 0,
      errors: 0,
      latency: { histogram, sumNs: 5050 * 1000 },
    },
    ...overrides,
  };
}

describe("reporting acks", () => {
  const options = parseBenchArgs("--framing frame --sub 3 --rate 10000 --duration 10".split(" "));

  test("the result carries the acks, their rate and latency", () => {
    const r = toBenchResult(options, "relay", measurement());
    expect(r.params.framing).toBe("frame");
    expect(r.acks?.rate).toBe(10_000);
    expect(r.acks?.latencyMs.p50Ms).toBeCloseTo(0.05, 3);
    expect(deliveredEverything(r)).toBe(true);
  });

  test("the text report adds an Acks: line after the article's block, and says framing in the header", () => {
    const r = toBenchResult(options, "relay", measurement());
    const lines = extraLines(r);
    expect(lines[0]).toStartWith("Acks: 100000 in window (10000.00 acks/s), 110000 in all;");
    expect(lines[0]).toContain("p50=0.050");
    expect(lines[0]).toContain("p99=0.099");
    expect(lines[0]).toEndWith("all in order, result 0");
    expect(headerLines({ ...r.params, frameCodes: "article" })[1]).toEndWith(
      "framing=frame codes=article",
    );
  });

  test("line mode has no Acks: line and an unchanged header", () => {
    const line = parseBenchArgs("--sub 3 --rate 10000 --duration 10".split(" "));
    const r = toBenchResult(line, "relay", measurement({ acks: null }));
    expect(r.acks).toBeNull();
    expect(extraLines(r).some((l) => l.startsWith("Acks:"))).toBe(false);
    expect(headerLines(r.params)[1]).toBe(
      "pubs=1 subs=3 rate=10000/pub msg_size=64 duration=10s threads=2",
    );
  });

  test("a missing, failed or out-of-order ack is a failed run, named in the line", () => {
    const bad = measurement();
    if (bad.acks) bad.acks = { ...bad.acks, unacked: 3, outOfOrder: 1 };
    const r = toBenchResult(options, "relay", bad);
    expect(deliveredEverything(r)).toBe(false);
    expect(r.acks && ackLine(r.acks)).toEndWith("out of order=1, never acked=3");
  });
});
