/**
 * The slow-consumer policies (--slow-consumer disconnect|drop|block) and --write-timeout,
 * over real sockets. A "stalled" subscriber is a real client that has paused reading, so
 * the kernel's buffers fill and the relay's backlog for it grows.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { RelayConfig } from "../../src/cli/config.ts";
import { closeOf, numberedLines, relayPerTest, TestClient } from "../support/harness.ts";

setDefaultTimeout(30_000);
const start = relayPerTest();

const LINE = 1024;
const LINES_PER_BLOCK = 1024; // 1 MiB blocks

/** Every line is whole and numbered; returns the numbers in arrival order. */
function lineNumbers(client: TestClient): number[] {
  const text = client.text();
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      expect(line.length).toBe(LINE - 1);
      const match = /^m(\d+):\.*$/.exec(line);
      expect(match).not.toBeNull();
      return Number(match?.[1]);
    });
}

/** A relay with one subscriber that reads, one that has paused reading, and a publisher. */
async function withStalledSubscriber(overrides: Partial<RelayConfig>) {
  const r = start(overrides);
  const [fast] = (await r.subscribers(1)) as [TestClient];
  const stalled = await r.subscriberWith({ paused: true });
  const publisher = await r.publisher();
  return { r, fast, stalled, publisher };
}

/**
 * Publishes `blocks` 1 MiB blocks of numbered lines, each once the fast subscriber has the
 * one before (so it is never behind). Returns the bytes published.
 */
async function publishBlocks(
  publisher: TestClient,
  fast: TestClient,
  blocks: number,
): Promise<number> {
  const all = numberedLines(blocks * LINES_PER_BLOCK, LINE);
  const blockBytes = LINES_PER_BLOCK * LINE;
  for (let i = 0; i < blocks; i++) {
    await publisher.write(all.subarray(i * blockBytes, (i + 1) * blockBytes));
    await fast.waitForBytes((i + 1) * blockBytes);
  }
  return all.length;
}

describe("--slow-consumer drop", () => {
  test("drops whole messages for the stalled subscriber, counts them, keeps it connected", async () => {
    const { r, fast, stalled, publisher } = await withStalledSubscriber({
      slowConsumer: "drop",
      maxPending: 128 * 1024,
    });
    const blocks = 16;
    const blockBytes = LINES_PER_BLOCK * LINE;
    await publishBlocks(publisher, fast, blocks);
    expect(r.relay.totals().messagesDropped).toBeGreaterThan(0);

    // Let the stalled one read again and catch up on what was queued for it (everything the
    // relay handed out beyond the fast subscriber's share): its drain ends the drop episode.
    // One more message must reach it, after the gap.
    stalled.resume();
    await stalled.waitForBytes(r.relay.totals().bytesSent - blocks * blockBytes);
    await publisher.write(numberedLines(1, LINE, "m999999"));
    await r.waitFor((e) => e.type === "drop_episode");
    const total = blocks * LINES_PER_BLOCK + 1;
    await stalled.waitForBytes((total - r.relay.totals().messagesDropped) * LINE);

    const seen = lineNumbers(stalled);
    expect(seen.length + r.relay.totals().messagesDropped).toBe(total);
    // A small batch can fit under the bound between drops, so there may be several episodes;
    // together they account for every dropped message.
    const episodes = r.events.filter((e) => e.type === "drop_episode");
    const dropped = r.relay.totals().messagesDropped;
    expect(episodes.reduce((sum, e) => sum + e.messages, 0)).toBe(dropped);
    expect(episodes.at(-1)?.totalMessages).toBe(dropped);
    // In order, with gaps where the episodes were.
    for (let i = 1; i < seen.length - 1; i++)
      expect(seen[i] as number).toBeGreaterThan(seen[i - 1] as number);
    expect(r.events.some(closeOf("subscriber"))).toBe(false);
    await fast.waitForBytes(blocks * blockBytes + LINE);
    expect(fast.receivedBytes).toBe(blocks * blockBytes + LINE);
  });

  test("reports the episode once the subscriber caught up, with no further message", async () => {
    const maxPending = 128 * 1024;
    const { r, fast, stalled, publisher } = await withStalledSubscriber({
      slowConsumer: "drop",
      maxPending,
    });
    const blocksBytes = await publishBlocks(publisher, fast, 16);
    // Last, one message longer than the bound: the fast subscriber takes part of it at once
    // (so the rest is queued), the stalled one none (its socket is full), so it is dropped:
    // the burst surely ends inside an episode.
    const last = numberedLines(1, 2 * maxPending, "last");
    await publisher.write(last);
    const published = blocksBytes + last.length;
    await fast.waitForBytes(published);
    const dropped = r.relay.totals().messagesDropped;
    expect(dropped).toBeGreaterThan(0);
    const episodes = () => r.events.filter((e) => e.type === "drop_episode");
    const reported = () => episodes().reduce((sum, e) => sum + e.messages, 0);
    // Still not reading: the episode goes on, so its drops are not reported yet.
    expect(reported()).toBeLessThan(dropped);

    stalled.resume();
    await stalled.waitForBytes(r.relay.totals().bytesSent - published);
    // No publish since: the drain that emptied its backlog ends the episode.
    await r.waitFor((e) => e.type === "drop_episode" && e.totalMessages === dropped);
    expect(reported()).toBe(dropped);
    const droppedBytes = episodes().reduce((sum, e) => sum + e.bytes, 0);
    expect(droppedBytes + stalled.receivedBytes).toBe(published);
    expect(r.relay.totals().messagesDropped).toBe(dropped);
  }, 10_000);
});

describe("--slow-consumer block", () => {
  test("holds publishers while a subscriber is behind, then delivers everything", async () => {
    const maxPending = 512 * 1024;
    const { r, fast, stalled, publisher } = await withStalledSubscriber({
      slowConsumer: "block",
      maxPending,
    });
    const total = 24 * LINES_PER_BLOCK;
    const all = numberedLines(total, LINE);
    const written = publisher.write(all); // cannot finish while publishers are held

    await r.waitFor((e) => e.type === "publishers_held" && e.held);
    // Held: memory stays near the bound (the chunk in flight is the only excess).
    expect(r.relay.hub.pendingBytes).toBeLessThanOrEqual(maxPending + 512 * 1024);
    stalled.resume();
    await written;
    await stalled.waitForBytes(all.length);
    await fast.waitForBytes(all.length);
    expect(stalled.bytes()).toEqual(all);
    expect(fast.bytes()).toEqual(all);
    const totals = r.relay.totals();
    expect(totals.publisherPauses).toBeGreaterThan(0);
    expect(totals).toMatchObject({ messagesDropped: 0, slowConsumerDisconnects: 0 });
  });

  test("a publisher that connects while others are held is held too", async () => {
    const r = start({ slowConsumer: "block", maxPending: 256 * 1024 });
    const stalled = await r.subscriberWith({ paused: true });
    const first = await r.publisher();
    const written = first.write(numberedLines(8 * LINES_PER_BLOCK, LINE));
    await r.waitFor((e) => e.type === "publishers_held" && e.held);
    const late = await r.publisher();
    await r.waitForCount((e) => e.type === "open" && e.side === "publisher", 2);
    const before = r.relay.totals().bytesReceived;
    await late.write(numberedLines(64, LINE, "late"));
    // While held, the relay reads nothing more; resuming the reader releases both.
    expect(r.relay.totals().bytesReceived).toBe(before);
    stalled.resume();
    await written;
    await stalled.waitForBytes((8 * LINES_PER_BLOCK + 64) * LINE);
  });
});

describe("--write-timeout", () => {
  test("disconnects a subscriber that takes nothing while data waits; block releases publishers", async () => {
    const r = start({ slowConsumer: "block", maxPending: 256 * 1024, writeTimeout: 0.2 });
    const [fast] = (await r.subscribers(1)) as [TestClient];
    await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    const all = numberedLines(8 * LINES_PER_BLOCK, LINE);
    await publisher.write(all); // finishes only once the dead subscriber is cut
    const close = await r.waitFor(closeOf("subscriber", "write_timeout"));
    expect(close.type === "close" && close.detail).toMatch(
      /took no bytes for 0.2s with \d+ B waiting/,
    );
    await fast.waitForBytes(all.length);
    expect(fast.bytes()).toEqual(all);
    expect(r.relay.totals()).toMatchObject({ writeTimeouts: 1, subscribers: 1 });
  });

  test("leaves a subscriber that is slow but moving alone", async () => {
    const r = start({ maxPending: 64 * 1024 * 1024, writeTimeout: 0.2 });
    // Reads a chunk every 50 ms: 8 MiB takes far longer than the timeout, but never stops.
    const slow = await TestClient.connect(r.relay.subPort, { trickleMs: 50 });
    await r.waitFor((e) => e.type === "open" && e.side === "subscriber");
    const publisher = await r.publisher();
    const all = numberedLines(8 * LINES_PER_BLOCK, LINE);
    await publisher.write(all);
    await slow.waitForBytes(all.length);
    expect(slow.bytes()).toEqual(all);
    expect(r.events.some(closeOf("subscriber"))).toBe(false);
  });
});

describe("--slow-consumer disconnect", () => {
  test("the backlog never passes --max-pending", async () => {
    const maxPending = 200 * 1024;
    const r = start({ slowConsumer: "disconnect", maxPending });
    const [fast] = (await r.subscribers(1)) as [TestClient];
    await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    let peak = 0;
    for (let i = 0; i < 16; i++) {
      await publisher.write(numberedLines(LINES_PER_BLOCK, LINE));
      await fast.waitForBytes((i + 1) * LINES_PER_BLOCK * LINE);
      peak = Math.max(peak, r.relay.hub.pendingBytes);
    }
    await r.waitFor(closeOf("subscriber", "slow_consumer"));
    expect(peak).toBeLessThanOrEqual(maxPending);
  });
});
