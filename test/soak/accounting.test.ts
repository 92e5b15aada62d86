import { describe, expect, test } from "bun:test";
import {
  accountSession,
  JOIN_SLACK_MS,
  type PublisherHistory,
  type RelayView,
  type SessionEnding,
  StreamRecord,
  type SubscriberSession,
  sumAccounts,
} from "../../soak/accounting.ts";

/** Publisher `id` stamps seq k at ms 1000 + k: one message per millisecond. */
function publisher(id: number): PublisherHistory {
  return { id, lastSeqStampedBy: (ms) => Math.max(0, Math.floor(ms - 1000)) };
}

/** The relay logged OPEN at the ms publisher messages up to `seq` were stamped. */
function relayOpenAfter(seq: number, extra: Partial<RelayView> = {}): RelayView {
  return {
    openMs: 1000 + seq,
    closeReason: "peer_closed",
    closeDroppedBytes: 0,
    dropMessages: 0,
    ...extra,
  };
}

function seqs(from: number, to: number, skip: readonly number[] = []): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) if (!skip.includes(s)) out.push(s);
  return out;
}

function session(
  ending: SessionEnding,
  seen: Record<number, number[]>,
  sentAtConnect: Record<number, number>,
  sentAtEnd: Record<number, number>,
): SubscriberSession {
  const streams = new Map<number, StreamRecord>();
  for (const [id, list] of Object.entries(seen)) {
    const stream = new StreamRecord();
    for (const seq of list) stream.observe(seq);
    streams.set(Number(id), stream);
  }
  const map = (record: Record<number, number>) =>
    new Map(Object.entries(record).map(([id, seq]) => [Number(id), seq]));
  return {
    id: 1,
    slow: false,
    peer: "127.0.0.1:40000",
    peerOccurrence: 0,
    ending,
    streams,
    sentAtConnect: map(sentAtConnect),
    sentAtEnd: map(sentAtEnd),
    malformedLines: 0,
  };
}

const ONE = [publisher(1)];

describe("StreamRecord", () => {
  test("counts gaps between the first and last seq, and anything going backwards", () => {
    const stream = new StreamRecord();
    for (const seq of [5, 6, 9, 10, 10, 8, 14]) stream.observe(seq);
    expect(stream).toMatchObject({
      firstSeen: 5,
      lastSeen: 14,
      received: 7,
      gapMessages: 5,
      gaps: 2,
    });
    expect(stream.disorder).toBe(2);
  });
});

describe("accountSession", () => {
  test("a drained leave that got everything owes nothing; messages before the join are late", () => {
    // Connected when 8 were sent; the relay registered it when 10 were (free through 10 + slack).
    const s = session("drained", { 1: seqs(11, 50) }, { 1: 8 }, { 1: 50 });
    const a = accountSession(s, ONE, relayOpenAfter(10));
    expect(a).toMatchObject({ received: 40, joinedLate: 2, leftInFlight: 0, cut: 0, dropped: 0 });
    expect(a.unaccounted).toBe(0);
    expect(a.problems).toEqual([]);
  });

  test("a message stamped before OPEN may still arrive: the relay read it afterwards", () => {
    const s = session("drained", { 1: seqs(5, 50) }, { 1: 3 }, { 1: 50 });
    const a = accountSession(s, ONE, relayOpenAfter(10));
    expect(a).toMatchObject({ received: 46, joinedLate: 1, unaccounted: 0 });
  });

  test("a drained leave missing its last messages is an unaccounted loss", () => {
    const s = session("drained", { 1: seqs(11, 40) }, { 1: 8 }, { 1: 50 });
    const a = accountSession(s, ONE, relayOpenAfter(10));
    expect(a.unaccounted).toBe(10);
    expect(a.problems[0]).toContain("10 owed messages missing");
  });

  test("DROP lines for the connection cover owed messages, up to their total", () => {
    const s = session("drained", { 1: seqs(11, 40) }, { 1: 8 }, { 1: 50 });
    expect(accountSession(s, ONE, relayOpenAfter(10, { dropMessages: 10 }))).toMatchObject({
      dropped: 10,
      unaccounted: 0,
    });
    expect(accountSession(s, ONE, relayOpenAfter(10, { dropMessages: 4 }))).toMatchObject({
      dropped: 4,
      unaccounted: 6,
    });
  });

  test("a gap in the middle is owed whatever the ending", () => {
    for (const ending of ["left", "reset", "drained"] as const) {
      const s = session(ending, { 1: seqs(11, 50, seqs(20, 29)) }, { 1: 8 }, { 1: 50 });
      expect(accountSession(s, ONE, relayOpenAfter(10)).unaccounted).toBe(10);
    }
  });

  test("messages stamped after OPEN that never came before the first one seen are owed", () => {
    // Free through 10 + JOIN_SLACK_MS; 13..19 were written after the relay registered it.
    const s = session("left", { 1: seqs(20, 50) }, { 1: 8 }, { 1: 50 });
    const a = accountSession(s, ONE, relayOpenAfter(10));
    expect(a.unaccounted).toBe(19 - (10 + JOIN_SLACK_MS));
    expect(a.joinedLate).toBe(10 + JOIN_SLACK_MS - 8);
  });

  test("leaving at once or by reset: the tail after the last message is in flight, not lost", () => {
    for (const ending of ["left", "reset"] as const) {
      const s = session(ending, { 1: seqs(11, 40) }, { 1: 8 }, { 1: 50 });
      expect(accountSession(s, ONE, relayOpenAfter(10))).toMatchObject({
        leftInFlight: 10,
        unaccounted: 0,
      });
    }
  });

  test("a cut logged as slow_consumer or write_timeout explains the tail", () => {
    for (const reason of ["slow_consumer", "write_timeout"]) {
      const s = session("cut", { 1: seqs(11, 40) }, { 1: 8 }, { 1: 60 });
      const a = accountSession(s, ONE, relayOpenAfter(10, { closeReason: reason }));
      expect(a).toMatchObject({ cut: 20, cutReason: reason, unaccounted: 0 });
    }
  });

  test("a close the client did not ask for, logged as anything else, is unaccounted", () => {
    const s = session("cut", { 1: seqs(11, 40) }, { 1: 8 }, { 1: 60 });
    const a = accountSession(s, ONE, relayOpenAfter(10, { closeReason: "peer_reset" }));
    expect(a).toMatchObject({ cut: 0, unaccounted: 20 });
    expect(a.problems[0]).toContain("closed by the relay with reason=peer_reset");
    const b = accountSession(s, ONE, relayOpenAfter(10, { closeReason: undefined }));
    expect(b.problems[0]).toContain("(no CLOSE line)");
  });

  test("a subscriber that saw nothing: tail when it left, owed when it drained", () => {
    const left = accountSession(session("left", {}, { 1: 8 }, { 1: 20 }), ONE, relayOpenAfter(10));
    expect(left).toMatchObject({ joinedLate: 4, leftInFlight: 8, unaccounted: 0 });
    const drained = accountSession(
      session("drained", {}, { 1: 8 }, { 1: 20 }),
      ONE,
      relayOpenAfter(10),
    );
    expect(drained).toMatchObject({ joinedLate: 4, unaccounted: 8 });
  });

  test("duplicates, reorderings and malformed lines are never explained", () => {
    const s = session("drained", { 1: [11, 12, 12, 13] }, { 1: 10 }, { 1: 13 });
    expect(accountSession(s, ONE, relayOpenAfter(10)).unaccounted).toBe(1);
    const malformed = {
      ...session("drained", { 1: seqs(11, 13) }, { 1: 10 }, { 1: 13 }),
      malformedLines: 2,
    };
    expect(accountSession(malformed, ONE, relayOpenAfter(10)).unaccounted).toBe(2);
  });

  test("no OPEN line is a problem in itself", () => {
    const s = session("drained", { 1: seqs(11, 50) }, { 1: 10 }, { 1: 50 });
    const a = accountSession(s, ONE, undefined);
    expect(a.problems[0]).toContain("no OPEN line");
    expect(a.received).toBe(40);
  });

  test("publishers are accounted separately and summed", () => {
    const two = [publisher(1), publisher(2)];
    const s = session(
      "left",
      { 1: seqs(11, 40), 2: seqs(11, 45) },
      { 1: 8, 2: 8 },
      { 1: 50, 2: 50 },
    );
    const a = accountSession(s, two, relayOpenAfter(10));
    expect(a).toMatchObject({ received: 65, joinedLate: 4, leftInFlight: 15, unaccounted: 0 });
  });
});

describe("sumAccounts", () => {
  test("adds causes and counts cuts by reason", () => {
    const cut = accountSession(
      session("cut", { 1: seqs(11, 40) }, { 1: 8 }, { 1: 60 }),
      ONE,
      relayOpenAfter(10, { closeReason: "write_timeout" }),
    );
    const left = accountSession(
      session("left", { 1: seqs(11, 40) }, { 1: 8 }, { 1: 50 }),
      ONE,
      relayOpenAfter(10),
    );
    expect(sumAccounts([cut, left])).toEqual({
      sessions: 2,
      received: 60,
      joinedLate: 4,
      leftInFlight: 10,
      cut: 20,
      cutBySlowConsumer: 0,
      cutByWriteTimeout: 1,
      dropped: 0,
      unaccounted: 0,
    });
  });
});
