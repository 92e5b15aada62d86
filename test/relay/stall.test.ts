/**
 * The default slow-consumer policy, `stall`, over real sockets: publishers are paced to what
 * subscribers take, a subscriber that keeps reading is never cut, and one that stops reading
 * holds the others for at most --stall-timeout before it is left behind and cut.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { DEFAULT_CONFIG } from "../../src/cli/config.ts";
import {
  closeOf,
  decoder,
  numberedLines,
  relayPerTest,
  type TestClient,
} from "../support/harness.ts";

setDefaultTimeout(30_000);
const start = relayPerTest();

const LINE = 1024;
const BLOCK_LINES = 1024; // 1 MiB blocks

describe("--slow-consumer stall", () => {
  test("is the default", () => {
    expect(DEFAULT_CONFIG.slowConsumer).toBe("stall");
    expect(DEFAULT_CONFIG.stallTimeout).toBe(0.25);
  });

  test("a subscriber that stops reading holds publishers for --stall-timeout, then is cut at --max-pending; the other loses nothing", async () => {
    const maxPending = 1024 * 1024;
    const r = start({ maxPending, stallTimeout: 0.2 });
    const [fast] = (await r.subscribers(1)) as [TestClient];
    const stalled = await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    const blocks = 32; // far more than the kernel's buffers and the bound together
    const all = numberedLines(blocks * BLOCK_LINES, LINE);
    const blockBytes = BLOCK_LINES * LINE;
    for (let i = 0; i < blocks; i++) {
      await publisher.write(all.subarray(i * blockBytes, (i + 1) * blockBytes));
      await fast.waitForBytes((i + 1) * blockBytes);
    }

    const held = await r.waitFor((e) => e.type === "publishers_held" && e.held);
    const expired = await r.waitFor((e) => e.type === "stall_expired");
    const close = await r.waitFor(closeOf("subscriber", "slow_consumer"));
    // Held first, then left behind after the timeout, then cut: in that order.
    expect(r.events.indexOf(held)).toBeLessThan(r.events.indexOf(expired));
    expect(r.events.indexOf(expired)).toBeLessThan(r.events.indexOf(close));
    expect(expired.type === "stall_expired" && expired.heldMs).toBeGreaterThanOrEqual(199);
    expect(expired.type === "stall_expired" && expired.peer).toBe(`127.0.0.1:${stalled.localPort}`);
    expect(close.type === "close" && close.detail).toMatch(
      /^held publishers past --stall-timeout 0.2s, then backlog would reach \d+ B, over --max-pending 1048576 B$/,
    );
    expect(fast.bytes()).toEqual(all);
    const totals = r.relay.totals();
    expect(totals).toMatchObject({
      stallTimeouts: 1,
      slowConsumerDisconnects: 1,
      messagesDropped: 0,
      subscribers: 1,
    });
    expect(totals.publisherPauses).toBeGreaterThanOrEqual(1);
    expect(totals.publishersHeldMs).toBeGreaterThanOrEqual(199);
  });

  test("a subscriber that keeps reading, however slowly, is never cut and loses nothing", async () => {
    // 256 KiB bound: high-water mark 192 KiB, so a reader that pauses 2 ms after every chunk
    // holds publishers again and again, each time briefly.
    const r = start({ maxPending: 256 * 1024 });
    const [fast] = (await r.subscribers(1)) as [TestClient];
    const slow = await r.subscriberWith({ trickleMs: 2 });
    const publisher = await r.publisher();
    const all = numberedLines(16 * BLOCK_LINES, LINE);
    await publisher.write(all);
    await slow.waitForBytes(all.length);
    await fast.waitForBytes(all.length);
    expect(slow.bytes()).toEqual(all);
    expect(fast.bytes()).toEqual(all);
    const totals = r.relay.totals();
    expect(totals.publisherPauses).toBeGreaterThan(1);
    expect(totals).toMatchObject({ stallTimeouts: 0, slowConsumerDisconnects: 0 });
    expect(r.events.some(closeOf("subscriber"))).toBe(false);
  });

  test("publishers are held and released as a group: four of them all finish, each in order", async () => {
    const r = start({ maxPending: 256 * 1024, stallTimeout: 10 });
    const [fast] = (await r.subscribers(1)) as [TestClient];
    const slow = await r.subscriberWith({ trickleMs: 1 });
    const publishers = await Promise.all([0, 1, 2, 3].map(() => r.publisher()));
    await r.waitForCount((e) => e.type === "open" && e.side === "publisher", 4);
    const perPublisher = 4 * BLOCK_LINES;
    const streams = publishers.map((_, k) => numberedLines(perPublisher, LINE, `p${k}-`));
    await Promise.all(publishers.map((publisher, k) => publisher.write(streams[k] as Uint8Array)));
    const total = 4 * perPublisher * LINE;
    await fast.waitForBytes(total);
    await slow.waitForBytes(total);
    expect(r.relay.totals().publisherPauses).toBeGreaterThan(1);

    for (const client of [fast, slow]) {
      // Interleaved across publishers, but each publisher's lines arrive whole and in order.
      const next = [0, 0, 0, 0];
      for (const line of decoder.decode(client.bytes()).slice(0, -1).split("\n")) {
        const match = /^p(\d)-(\d+):\.+$/.exec(line);
        expect(match).not.toBeNull();
        const k = Number(match?.[1]);
        expect(Number(match?.[2])).toBe(next[k] as number);
        next[k] = (next[k] as number) + 1;
      }
      expect(next).toEqual([perPublisher, perPublisher, perPublisher, perPublisher]);
    }
    expect(r.events.some(closeOf("subscriber"))).toBe(false);
  });

  test("a subscriber that pauses 100 ms at a time but keeps up is never cut", async () => {
    const r = start(); // every default: --max-pending 8 MiB, --stall-timeout 0.25 s
    const [fast] = (await r.subscribers(1)) as [TestClient];
    const pausing = await r.subscriberWith({});
    const publisher = await r.publisher();
    const blocks = 24;
    const all = numberedLines(blocks * BLOCK_LINES, LINE);
    const blockBytes = BLOCK_LINES * LINE;
    let paused = 0;
    for (let i = 0; i < blocks; i++) {
      await publisher.write(all.subarray(i * blockBytes, (i + 1) * blockBytes));
      if (i % 4 === 3) {
        // Every 4 MiB, it stops reading for 100 ms while publishing goes on.
        pausing.pause();
        paused++;
        setTimeout(() => pausing.resume(), 100);
      }
    }
    await fast.waitForBytes(all.length);
    await pausing.waitForBytes(all.length);
    expect(paused).toBe(6);
    expect(pausing.bytes()).toEqual(all);
    // Its pauses did hold publishers (past the kernel's buffers), each time for less than
    // --stall-timeout.
    expect(r.relay.totals().publisherPauses).toBeGreaterThanOrEqual(1);
    expect(r.relay.totals()).toMatchObject({ stallTimeouts: 0, slowConsumerDisconnects: 0 });
  });
});
