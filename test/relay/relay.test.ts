import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  bytes,
  closeOf,
  concat,
  decoder,
  relayPerTest,
  seededRandom,
  TestClient,
} from "../support/harness.ts";

// Real sockets on a shared 2-core machine: leave room, though each test takes milliseconds.
setDefaultTimeout(20_000);

const start = relayPerTest();

describe("pub/sub relay over real sockets", () => {
  test("fans every message out to every subscriber, byte for byte", async () => {
    const r = start();
    const subscribers = await r.subscribers(5);
    const publisher = await r.publisher();
    await publisher.write("hello\nworld\n");
    await publisher.write("third message\n");
    const expected = bytes("hello\nworld\nthird message\n");
    for (const subscriber of subscribers) {
      await subscriber.waitForBytes(expected.length);
      expect(subscriber.bytes()).toEqual(expected);
    }
    expect(r.relay.totals()).toMatchObject({ messagesReceived: 3, messagesSent: 15 });
  });

  test("is binary-safe and strips a trailing CR", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    const payload = Uint8Array.from([0, 1, 2, 13, 10, 0xff, 0xfe, 13, 13, 10, 128, 10]);
    await publisher.write(payload);
    const expected = Uint8Array.from([0, 1, 2, 10, 0xff, 0xfe, 13, 10, 128, 10]);
    await subscriber.waitForBytes(expected.length);
    expect(subscriber.bytes()).toEqual(expected);
  });

  test("keeps each publisher's order and interleaves publishers only between messages", async () => {
    const r = start();
    const subscribers = await r.subscribers(3);
    const publishers = await Promise.all([1, 2, 3, 4].map(() => r.publisher()));
    const perPublisher = 400;
    const random = seededRandom(42);
    let total = 0;
    const sends = publishers.map(async (publisher, id) => {
      const lines: string[] = [];
      for (let seq = 0; seq < perPublisher; seq++) {
        lines.push(`pub${id}:${seq}:${"x".repeat(Math.floor(random() * 60))}\n`);
      }
      const stream = bytes(lines.join(""));
      total += stream.length;
      // Random chunk sizes, so lines are cut anywhere between writes.
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(random() * 300);
        await publisher.write(stream.subarray(at, at + size));
        at += size;
      }
    });
    await Promise.all(sends);
    for (const subscriber of subscribers) {
      await subscriber.waitForBytes(total);
      const lines = subscriber.text().split("\n");
      expect(lines.pop()).toBe("");
      expect(lines.length).toBe(4 * perPublisher);
      const nextSeq = [0, 0, 0, 0];
      for (const line of lines) {
        const match = /^pub(\d):(\d+):x*$/.exec(line);
        expect(match).not.toBeNull();
        const id = Number(match?.[1]);
        expect(Number(match?.[2])).toBe(nextSeq[id] as number);
        nextSeq[id] = (nextSeq[id] as number) + 1;
      }
    }
  });

  test("delivers an unterminated last message when the publisher closes cleanly", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write("complete\nlast words");
    publisher.end();
    await r.waitFor(closeOf("publisher", "peer_closed"));
    await subscriber.waitForBytes(20);
    expect(subscriber.text()).toBe("complete\nlast words\n");
  });

  test("drops the unfinished message when the publisher resets", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write("complete\nhalf a mess");
    await subscriber.waitForBytes(9);
    publisher.reset();
    const close = await r.waitFor(closeOf("publisher"));
    expect(close).toMatchObject({ reason: "peer_reset", droppedBytes: 11 });
    // The next publisher's message follows directly: nothing of the dropped fragment came first.
    const next = await r.publisher();
    await next.write("next\n");
    await subscriber.waitForBytes(14);
    expect(subscriber.text()).toBe("complete\nnext\n");
  });

  test("disconnects a publisher whose line passes --max-line; everyone else carries on", async () => {
    const r = start({ maxLine: 16 });
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const offender = await r.publisher();
    const other = await r.publisher();
    await offender.write("fine\n0123456789abcdef");
    await offender.write("-this is too long\nnever\n");
    const close = await r.waitFor(closeOf("publisher", "line_too_long"));
    expect(close).toMatchObject({ detail: "line longer than --max-line 16 B" });
    await offender.closed;
    await other.write("still here\n");
    await subscriber.waitForBytes(16);
    expect(subscriber.text()).toBe("fine\nstill here\n");
    expect(r.relay.totals().linesTooLong).toBe(1);
  });

  test("cuts off a subscriber that never reads at --max-pending; the others keep receiving", async () => {
    const maxPending = 256 * 1024;
    const r = start({ maxPending });
    const [fast] = (await r.subscribers(1)) as [TestClient];
    const stalled = await TestClient.connect(r.relay.subPort, { paused: true });
    await r.waitForCount((e) => e.type === "open" && e.side === "subscriber", 2);
    const publisher = await r.publisher();
    const line = bytes(`${"m".repeat(1023)}\n`);
    const block = concat(Array.from({ length: 1024 }, () => line)); // 1 MiB
    // Far more than the kernel's socket buffers and the bound together. Paced by the reader
    // that keeps up, since in one process the test's own reader shares the event loop.
    const blocks = 24;
    for (let i = 0; i < blocks; i++) {
      await publisher.write(block);
      await fast.waitForBytes((i + 1) * block.length);
    }
    const close = await r.waitFor(closeOf("subscriber", "slow_consumer"));
    expect(close.type === "close" && close.detail).toContain(`--max-pending ${maxPending} B`);
    expect(fast.receivedBytes).toBe(blocks * block.length);
    expect(r.relay.totals()).toMatchObject({
      slowConsumerDisconnects: 1,
      subscribers: 1,
      pendingBytes: 0,
    });
    // The cut is a FIN: once it reads again, the cut subscriber gets every byte it was
    // offered except the dropped backlog, as a prefix of the stream: the loss is `dropped=`.
    stalled.resume();
    expect(await stalled.closed).toBeUndefined();
    const offered = r.relay.totals().bytesSent - blocks * block.length;
    const dropped = close.type === "close" ? close.droppedBytes : -1;
    expect(dropped).toBeGreaterThan(0);
    expect(stalled.receivedBytes + dropped).toBe(offered);
    const stream = concat(Array.from({ length: blocks }, () => block));
    expect(stalled.bytes()).toEqual(stream.subarray(0, stalled.receivedBytes));
  });

  test("a subscriber leaving mid-stream does not disturb the others", async () => {
    const r = start();
    const [stays, leaves] = (await r.subscribers(2)) as [TestClient, TestClient];
    const publisher = await r.publisher();
    await publisher.write("one\n");
    await leaves.waitForBytes(4);
    leaves.reset();
    await r.waitFor(closeOf("subscriber"));
    await publisher.write("two\nthree\n");
    await stays.waitForBytes(14);
    expect(stays.text()).toBe("one\ntwo\nthree\n");
    expect(r.relay.subscriberCount).toBe(1);
  });

  test("reads and ignores bytes a subscriber sends, and logs it", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    await subscriber.write("not a publisher\n");
    const event = await r.waitFor((e) => e.type === "subscriber_input");
    expect(event).toMatchObject({ bytes: 16, totalBytes: 16 });
    const publisher = await r.publisher();
    await publisher.write("only this\n");
    await subscriber.waitForBytes(10);
    expect(subscriber.text()).toBe("only this\n");
  });

  test("shutdown flushes data queued for a slow subscriber before closing it", async () => {
    const r = start({ maxPending: 64 * 1024 * 1024 });
    const slow = await TestClient.connect(r.relay.subPort, { paused: true });
    // A reading subscriber shows when the relay has taken in everything the publisher sent.
    const [witness] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    const block = bytes(`${"q".repeat(4095)}\n`.repeat(256)); // 1 MiB
    for (let i = 0; i < 12; i++) await publisher.write(block);
    await witness.waitForBytes(12 * block.length);
    expect(r.relay.hub.pendingBytes).toBeGreaterThan(0);

    const shutdown = r.relay.shutdown(10);
    const started = await r.waitFor((e) => e.type === "shutdown_started");
    expect(started.type === "shutdown_started" && started.pendingBytes).toBeGreaterThan(0);
    slow.resume();
    const report = await shutdown;
    expect(report.unflushedBytes).toBe(0);
    await slow.closed;
    expect(slow.receivedBytes).toBe(12 * block.length);
    expect(decoder.decode(slow.bytes().subarray(0, 4096))).toBe(`${"q".repeat(4095)}\n`);
  });

  test("shutdown reports what it could not flush in time", async () => {
    const r = start({ maxPending: 64 * 1024 * 1024 });
    await TestClient.connect(r.relay.subPort, { paused: true });
    const [witness] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    const block = bytes(`${"z".repeat(1023)}\n`.repeat(1024));
    for (let i = 0; i < 12; i++) await publisher.write(block);
    await witness.waitForBytes(12 * block.length);
    expect(r.relay.hub.pendingBytes).toBeGreaterThan(0);
    const report = await r.relay.shutdown(0.05);
    expect(report.unflushedBytes).toBeGreaterThan(0);
    const close = await r.waitFor((e) => e.type === "close" && e.droppedBytes > 0);
    expect(close).toMatchObject({
      side: "subscriber",
      reason: "shutdown",
      detail: "shutdown timeout ran out",
      droppedBytes: report.unflushedBytes,
    });
  });
});
