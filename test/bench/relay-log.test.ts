import { describe, expect, test } from "bun:test";
import { ReadPacer } from "../../bench/lib/extra-subscribers.ts";
import {
  firstCutOf,
  formatRelayLog,
  parseRelayLogLine,
  peerPort,
  RelayLogReader,
  type RelayLogRecord,
  summarizeRelayLog,
} from "../../bench/lib/relay-log.ts";
import { relayLogOf } from "../../bench/report/bench-result.ts";
import { CloseReason } from "../../src/errors.ts";
import { formatEvent, jsonLogger } from "../../src/log.ts";
import type { RelayEvent, StatsSnapshot } from "../../src/relay/events.ts";

const T0 = Date.parse("2026-11-30T16:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** The counters this test is about; any other counter the relay adds reads as 0. */
const counted = {
  seconds: 7,
  messagesReceived: 1000,
  messagesSent: 3000,
  bytesReceived: 80_000,
  bytesSent: 240_000,
  slowConsumerDisconnects: 1,
  writeTimeouts: 0,
  messagesDropped: 0,
  publisherPauses: 2314,
  publishersHeldMs: 262,
  stallTimeouts: 1,
  linesTooLong: 0,
  refusedConnections: 0,
  publishersAccepted: 1,
  subscribersAccepted: 4,
  natsClientsAccepted: 0,
  publishers: 0,
  subscribers: 3,
  pendingBytes: 0,
};
const totals = new Proxy(counted, {
  get: (target, key) => (key in target ? target[key as keyof typeof target] : 0),
}) as unknown as StatsSnapshot;

/** The relay's own text line for an event, stamped `ms` after T0. */
const textLine = (event: RelayEvent, ms: number) => `${at(ms)} ${formatEvent(event, true)}`;

/** The relay's own JSON line for an event. */
function jsonLine(event: RelayEvent): string {
  let out = "";
  jsonLogger({ quiet: true, write: (line) => (out = line) })(event);
  return out;
}

const listen: RelayEvent = { type: "listening", side: "publisher", host: "0.0.0.0", port: 27001 };
const cut: RelayEvent = {
  type: "close",
  side: "subscriber",
  peer: "127.0.0.1:40123",
  reason: CloseReason.SlowConsumer,
  detail: "backlog would pass --max-pending",
  droppedBytes: 8_388_000,
};
const stall: RelayEvent = {
  type: "stall_expired",
  peer: "127.0.0.1:40123",
  heldMs: 251,
  pendingBytes: 1_048_600,
};
const bye: RelayEvent = { type: "shutdown_finished", unflushedBytes: 0, totals };

describe("relay log lines", () => {
  test("reads the relay's own text lines: LISTEN, a cut, a STALL and BYE", () => {
    expect(parseRelayLogLine(textLine(listen, 0))).toEqual({
      kind: "listen",
      ms: T0,
      side: "publisher",
      port: 27001,
    });
    expect(parseRelayLogLine(textLine(cut, 410))).toEqual({
      kind: "cut",
      ms: T0 + 410,
      peer: "127.0.0.1:40123",
      reason: "slow_consumer",
      droppedBytes: 8_388_000,
    });
    expect(parseRelayLogLine(textLine(stall, 300))).toEqual({
      kind: "stall",
      ms: T0 + 300,
      peer: "127.0.0.1:40123",
      heldMs: 251,
      pendingBytes: 1_048_600,
    });
    const line = textLine(bye, 7000);
    const record = parseRelayLogLine(line);
    expect(record?.kind).toBe("bye");
    if (record?.kind !== "bye") return;
    expect(record.totals).toMatchObject({ slowConsumers: 1, writeTimeouts: 0, pauses: 2314 });
    // Held= and Stalls= are read when the line has them, null otherwise.
    expect(record.totals.heldSec === null).toBe(!line.includes("Held="));
    expect(record.totals.stalls === null).toBe(!line.includes("Stalls="));
  });

  test("reads Held= (seconds) and Stalls= on a BYE line", () => {
    const record = parseRelayLogLine(
      `${at(0)} BYE all queued data flushed | total Interval 7s | Recv: 5 (0.71/s), Sent: 15 (2.14/s) | ` +
        "SendConn=3 RecvConn=0 | SlowConsumers=1 WriteTimeouts=2 Dropped=0 Pauses=2314 Held=0.262s " +
        "Stalls=1 LinesTooLong=0 Refused=0 Pending=0B",
    );
    expect(record).toEqual({
      kind: "bye",
      ms: T0,
      totals: { slowConsumers: 1, writeTimeouts: 2, pauses: 2314, heldSec: 0.262, stalls: 1 },
    });
  });

  test("a write_timeout cut and an IPv6 peer", () => {
    expect(
      parseRelayLogLine(
        `${at(5)} CLOSE subscriber [::1]:5555 reason=write_timeout (no bytes taken)`,
      ),
    ).toMatchObject({ kind: "cut", peer: "[::1]:5555", reason: "write_timeout", droppedBytes: 0 });
    expect(peerPort("[::1]:5555")).toBe(5555);
    expect(peerPort("127.0.0.1:40123")).toBe(40123);
    expect(peerPort("nothing")).toBeUndefined();
  });

  test("ignores ordinary closes, publishers, STATS, other relays' lines and garbage", () => {
    for (const line of [
      `${at(0)} CLOSE subscriber 127.0.0.1:1 reason=peer_closed`,
      `${at(0)} CLOSE publisher 127.0.0.1:1 reason=line_too_long`,
      `${at(0)} OPEN subscriber 127.0.0.1:1`,
      `${at(0)} STATS ${"Interval 60s | Recv: 1 (0.02/s), Sent: 3 (0.05/s) | SendConn=3 RecvConn=1 | SlowConsumers=0 WriteTimeouts=0 Dropped=0 Pauses=0 LinesTooLong=0 Refused=0 Pending=0B"}`,
      "2026/11/30 16:00:00 [SUB] 127.0.0.1:5000 connected",
      "[1234] 2026/11/30 16:00:00.000000 [INF] Server is ready",
      "",
      "{not json",
      '{"ts":"x","event":"close"}',
    ]) {
      expect(parseRelayLogLine(line)).toBeUndefined();
    }
  });

  test("reads the same events in --log-format json, totals from the relay's counters", () => {
    expect(parseRelayLogLine(jsonLine(listen))).toMatchObject({ kind: "listen", port: 27001 });
    expect(parseRelayLogLine(jsonLine(cut))).toMatchObject({
      kind: "cut",
      peer: "127.0.0.1:40123",
      reason: "slow_consumer",
      droppedBytes: 8_388_000,
    });
    expect(parseRelayLogLine(jsonLine(stall))).toMatchObject({ kind: "stall", heldMs: 251 });
    expect(parseRelayLogLine(jsonLine(bye))).toMatchObject({
      kind: "bye",
      totals: { slowConsumers: 1, writeTimeouts: 0, pauses: 2314, heldSec: 0.262, stalls: 1 },
    });
  });

  test("the reader joins lines split across chunks and keeps a last line without newline", () => {
    const reader = new RelayLogReader();
    const text = `${textLine(listen, 0)}\nnoise\n${textLine(cut, 410)}\n${textLine(bye, 7000)}`;
    reader.push(text.slice(0, 30));
    reader.push(text.slice(30, 100));
    reader.push(text.slice(100));
    expect(reader.records.map((r) => r.kind)).toEqual(["listen", "cut"]);
    reader.end();
    expect(reader.records.map((r) => r.kind)).toEqual(["listen", "cut", "bye"]);
    expect(reader.lines).toBe(4);
  });
});

describe("relay log summary", () => {
  const records = (lines: string[]) =>
    lines.map(parseRelayLogLine).filter((r): r is RelayLogRecord => r !== undefined);
  const run = records([
    textLine(listen, -500),
    textLine(stall, 300),
    textLine(cut, 410),
    `${at(1500)} CLOSE subscriber 127.0.0.1:40999 reason=slow_consumer`,
    `${at(7000)} BYE all queued data flushed | total Interval 7s | Recv: 5 (0.71/s), Sent: 15 (2.14/s) | SendConn=3 RecvConn=0 | SlowConsumers=2 WriteTimeouts=0 Dropped=0 Pauses=2314 Held=0.262s Stalls=1 LinesTooLong=0 Refused=0 Pending=0B`,
  ]);

  test("times are seconds after publishing start; extras are named by port", () => {
    const s = summarizeRelayLog(run, T0 + 100, new Map([[40123, "stalled"]]));
    expect(s).not.toBeNull();
    if (s === null) return;
    expect(s.cuts).toEqual([
      {
        peer: "127.0.0.1:40123",
        who: "stalled",
        reason: "slow_consumer",
        atSec: 0.31,
        droppedBytes: 8_388_000,
      },
      {
        peer: "127.0.0.1:40999",
        who: "counted",
        reason: "slow_consumer",
        atSec: 1.4,
        droppedBytes: 0,
      },
    ]);
    expect(s.stalls).toEqual([
      { peer: "127.0.0.1:40123", who: "stalled", atSec: 0.2, heldMs: 251 },
    ]);
    expect(s.maxStallHeldMs).toBe(251);
    expect(s.totals).toEqual({
      slowConsumers: 2,
      writeTimeouts: 0,
      pauses: 2314,
      heldSec: 0.262,
      stalls: 1,
    });
    expect(firstCutOf(s, "stalled")).toBe(0.31);
    expect(firstCutOf(s, "pausing")).toBeUndefined();
  });

  test("null when no line is our relay's (another relay, or nothing read)", () => {
    expect(summarizeRelayLog([], T0)).toBeNull();
    expect(
      summarizeRelayLog(
        run.filter((r) => r.kind !== "listen"),
        T0,
      ),
    ).toBeNull();
    expect(relayLogOf(undefined, { publishStartMs: T0, extras: [] })).toBeNull();
  });

  test("relayLogOf names the run's extra subscribers", () => {
    const s = relayLogOf(run, {
      publishStartMs: T0,
      extras: [{ kind: "slow-reader", port: 40123, closedAtMs: undefined, bytes: 0 }],
    });
    expect(s?.cuts.map((c) => c.who)).toEqual(["slow-reader", "counted"]);
  });

  test("one report line: cuts, stall timeouts, holds", () => {
    const s = summarizeRelayLog(run, T0, new Map([[40123, "stalled"]]));
    expect(formatRelayLog(s)).toBe(
      "Relay: cut 2 subscribers (stalled: slow_consumer at +0.41 s, slow_consumer at +1.50 s); " +
        "stall timeouts 1 (longest 251 ms); publishers held 2,314 times, 0.262 s in total",
    );
    const quiet = summarizeRelayLog(records([textLine(listen, 0)]), T0);
    expect(formatRelayLog(quiet)).toBe(
      "Relay: cut no subscriber; stall timeouts 0; no BYE line (totals unknown)",
    );
    expect(formatRelayLog(null)).toContain("log not read");
  });
});

describe("slow reader pacing", () => {
  test("pauses each chunk for chunk/rate, and debts add up while paused", () => {
    const pacer = new ReadPacer(1_000_000);
    expect(pacer.take(65_536, 0)).toBeCloseTo(65.536, 6);
    // A second chunk before the first is paid for waits behind it.
    expect(pacer.take(10_000, 10)).toBeCloseTo(65.536 + 10 - 10, 6);
  });

  test("time not spent reading is not saved up: the rate is a ceiling", () => {
    const pacer = new ReadPacer(1000);
    expect(pacer.take(100, 0)).toBe(100);
    expect(pacer.take(100, 5000)).toBe(100);
    expect(() => new ReadPacer(0)).toThrow(RangeError);
  });
});
