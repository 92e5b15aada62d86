/**
 * Keepalive (session.go `keepalive`): a NOP every interval; the session closes after the
 * timeout without a frame from the peer, but not while it stopped reading for its budget.
 * Short timings in the config; these tests are about time passing, so they wait for it.
 */
import { describe, expect, test } from "bun:test";
import { MuxErrorCode } from "../../src/mux/index.ts";
import { encodeNop, encodePsh, encodeSyn } from "../../src/protocol/smux-frame.ts";
import { cleanupAfterEach, concat, rawClientOf, sessionPair, toHex } from "./support.ts";

cleanupAfterEach();

const FAST = { keepAliveIntervalMs: 40, keepAliveTimeoutMs: 200 } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("keepalive", () => {
  test("a peer that sends one SYN and goes silent is dropped after the timeout", async () => {
    const { raw, session } = await rawClientOf({ version: 1, ...FAST });
    const started = performance.now();
    raw.write(encodeSyn(1, 3));
    const stream = await session.accept();
    const cause = await session.closed;
    const elapsed = performance.now() - started;
    expect(cause.code).toBe(MuxErrorCode.KeepAliveTimeout);
    expect(cause.reason).toMatch(/^no frame from the peer for \d+ ms \(keepAliveTimeoutMs 200\)$/);
    // Within one interval past the timeout (timer jitter allowed).
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + 40 + 300);
    expect(await stream.closed).toBe(cause);
    // The session sent NOPs meanwhile, nothing else, and then closed the connection.
    await raw.when((peer) => peer.closed);
    const received = raw.all();
    expect(received.length % 8).toBe(0);
    expect(received.length / 8).toBe(session.counters.keepAlivesSent);
    expect(session.counters.keepAlivesSent).toBeGreaterThanOrEqual(3);
    expect(toHex(received)).toBe(toHex(encodeNop(1)).repeat(received.length / 8));
  });

  test("two live sessions keep each other open with NOPs alone", async () => {
    const { client, server } = await sessionPair({ version: 2, ...FAST });
    await sleep(3 * FAST.keepAliveTimeoutMs);
    expect(client.isClosed).toBe(false);
    expect(server.isClosed).toBe(false);
    expect(client.counters.keepAlivesSent).toBeGreaterThanOrEqual(5);
    expect(server.counters.framesIn).toBeGreaterThanOrEqual(5);
  });

  test("no timeout while reading is paused for the receive budget, as Go", async () => {
    const budget = { maxReceiveBuffer: 1024, maxStreamBuffer: 1024 };
    const { raw, session } = await rawClientOf({ version: 1, ...FAST, ...budget });
    raw.write(concat([encodeSyn(1, 3), encodePsh(1, 3, new Uint8Array(1500))]));
    const stream = await session.accept();
    // Nobody reads: 1500 bytes spent the budget and the session stopped reading.
    expect(stream.bufferedBytes).toBe(1500);
    expect(session.readingPaused).toBe(true);
    await sleep(2 * FAST.keepAliveTimeoutMs + 2 * FAST.keepAliveIntervalMs);
    expect(session.isClosed).toBe(false);
    // Reading again: the peer is silent, so now the timeout runs.
    const started = performance.now();
    stream.onData(() => {});
    expect(session.readingPaused).toBe(false);
    const cause = await session.closed;
    expect(cause.code).toBe(MuxErrorCode.KeepAliveTimeout);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  test("keepAliveDisabled sends no NOP and never times out", async () => {
    const { raw, session } = await rawClientOf({ version: 1, keepAliveDisabled: true });
    raw.write(encodeSyn(1, 3));
    await session.accept();
    await sleep(150);
    expect(session.counters.keepAlivesSent).toBe(0);
    expect(raw.receivedBytes).toBe(0);
    expect(session.isClosed).toBe(false);
  });
});
