import { describe, expect, test } from "bun:test";
import { parseRelayLine, RelayLedger } from "../../soak/relay-log.ts";
import { formatEvent } from "../../src/log.ts";
import type { RelayEvent, StatsSnapshot } from "../../src/relay/events.ts";

const AT = "2026-11-22T04:00:00.123Z";
const AT_MS = Date.parse(AT);

/** The line the relay's own logger writes for `event`, so these tests follow its format. */
function line(event: RelayEvent, at = AT): string {
  return `${at} ${formatEvent(event, false)}`;
}

const stats: StatsSnapshot = {
  seconds: 1,
  messagesReceived: 8000,
  messagesSent: 48000,
  bytesReceived: 1,
  bytesSent: 1,
  publishers: 4,
  subscribers: 6,
  slowConsumerDisconnects: 2,
  writeTimeouts: 1,
  messagesDropped: 77,
  publisherPauses: 3,
  publishersHeldMs: 1234.5,
  stallTimeouts: 1,
  linesTooLong: 0,
  submitsReceived: 0,
  acksOk: 0,
  acksFailed: 0,
  frameErrors: 0,
  authFailures: 0,
  messagesNotLines: 0,
  messagesTooLargeForNats: 0,
  refusedConnections: 0,
  publishersAccepted: 4,
  subscribersAccepted: 9,
  natsClientsAccepted: 0,
  pendingBytes: 4096,
};

describe("parseRelayLine", () => {
  test("reads LISTEN, OPEN, CLOSE with and without dropped bytes and detail", () => {
    expect(
      parseRelayLine(
        line({ type: "listening", side: "subscriber", host: "127.0.0.1", port: 4321 }),
      ),
    ).toEqual({
      kind: "listen",
      ms: AT_MS,
      side: "subscriber",
      host: "127.0.0.1",
      port: 4321,
    });
    expect(
      parseRelayLine(line({ type: "open", side: "subscriber", peer: "127.0.0.1:5000" })),
    ).toEqual({
      kind: "open",
      ms: AT_MS,
      side: "subscriber",
      peer: "127.0.0.1:5000",
    });
    const cut = line({
      type: "close",
      side: "subscriber",
      peer: "127.0.0.1:5000",
      reason: "slow_consumer",
      detail: "backlog would reach 300000 B, over --max-pending 262144 B",
      droppedBytes: 262000,
    });
    expect(parseRelayLine(cut)).toMatchObject({
      kind: "close",
      reason: "slow_consumer",
      droppedBytes: 262000,
      detail: "backlog would reach 300000 B, over --max-pending 262144 B",
    });
    const plain = line({
      type: "close",
      side: "publisher",
      peer: "127.0.0.1:6000",
      reason: "peer_closed",
      droppedBytes: 0,
    });
    expect(parseRelayLine(plain)).toMatchObject({
      kind: "close",
      side: "publisher",
      droppedBytes: 0,
      detail: undefined,
    });
  });

  test("reads DROP, STATS and BYE", () => {
    const drop = line({
      type: "drop_episode",
      peer: "127.0.0.1:5000",
      messages: 12,
      bytes: 1536,
      totalMessages: 40,
    });
    expect(parseRelayLine(drop)).toEqual({
      kind: "drop",
      ms: AT_MS,
      peer: "127.0.0.1:5000",
      messages: 12,
      bytes: 1536,
      total: 40,
    });
    expect(parseRelayLine(line({ type: "stats", stats }))).toEqual({
      kind: "stats",
      ms: AT_MS,
      stats: {
        seconds: 1,
        received: 8000,
        sent: 48000,
        subscribers: 6,
        publishers: 4,
        slowConsumers: 2,
        writeTimeouts: 1,
        dropped: 77,
        pauses: 3,
        pendingBytes: 4096,
      },
    });
    const bye = parseRelayLine(
      line({ type: "shutdown_finished", unflushedBytes: 0, totals: stats }),
    );
    expect(bye).toMatchObject({ kind: "bye", allFlushed: true, totals: { received: 8000 } });
  });

  test("keeps unknown lines, skips lines without a timestamp", () => {
    expect(parseRelayLine(`${AT} SIGNAL SIGTERM received, shutting down`)).toMatchObject({
      kind: "other",
    });
    expect(parseRelayLine("bun-relay: something on stderr")).toBeUndefined();
  });
});

describe("RelayLedger", () => {
  function ledgerOf(lines: string[]): RelayLedger {
    const ledger = new RelayLedger();
    for (const text of lines) {
      const record = parseRelayLine(text);
      if (record) ledger.add(record);
    }
    return ledger;
  }
  const peer = "127.0.0.1:5000";

  test("files DROP episodes and the CLOSE under the connection they belong to", () => {
    const ledger = ledgerOf([
      line({ type: "open", side: "subscriber", peer }),
      line({ type: "drop_episode", peer, messages: 10, bytes: 1280, totalMessages: 10 }),
      line({ type: "drop_episode", peer, messages: 5, bytes: 640, totalMessages: 15 }),
      line({
        type: "close",
        side: "subscriber",
        peer,
        reason: "write_timeout",
        droppedBytes: 9,
        detail: "x",
      }),
    ]);
    expect(ledger.subscriber(peer, 0)).toEqual({
      peer,
      openMs: AT_MS,
      close: { ms: AT_MS, reason: "write_timeout", droppedBytes: 9, detail: "x" },
      dropEpisodes: 2,
      dropMessages: 15,
      dropBytes: 1920,
    });
  });

  test("a port that comes back is a second connection from that peer", () => {
    const later = "2026-11-22T04:05:00.000Z";
    const ledger = ledgerOf([
      line({ type: "open", side: "subscriber", peer }),
      line({ type: "close", side: "subscriber", peer, reason: "peer_closed", droppedBytes: 0 }),
      line({ type: "open", side: "subscriber", peer }, later),
      line({ type: "drop_episode", peer, messages: 3, bytes: 384, totalMessages: 3 }, later),
    ]);
    expect(ledger.subscriber(peer, 0)?.dropMessages).toBe(0);
    expect(ledger.subscriber(peer, 1)).toMatchObject({
      openMs: Date.parse(later),
      dropMessages: 3,
      close: undefined,
    });
    expect(ledger.allSubscribers()).toHaveLength(2);
  });

  test("keeps listening ports, stats, publisher closes, and notes lines it cannot file", () => {
    const ledger = ledgerOf([
      line({ type: "listening", side: "publisher", host: "127.0.0.1", port: 1111 }),
      line({ type: "stats", stats }),
      line({
        type: "close",
        side: "publisher",
        peer: "127.0.0.1:7000",
        reason: "peer_closed",
        droppedBytes: 0,
      }),
      line({
        type: "close",
        side: "subscriber",
        peer: "127.0.0.1:9999",
        reason: "max_conns",
        droppedBytes: 0,
      }),
    ]);
    expect(ledger.listening.get("publisher")).toBe(1111);
    expect(ledger.stats).toHaveLength(1);
    expect(ledger.publisherCloses).toHaveLength(1);
    expect(ledger.others[0]).toContain("never seen opening: 127.0.0.1:9999");
  });
});
