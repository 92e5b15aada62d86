/**
 * Faults a production relay meets: connection floods, --max-conns, half-closed and vanishing
 * peers, resets mid-message. Real sockets on 127.0.0.1.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { bytes, closeOf, numberedLines, relayPerTest, TestClient } from "../support/harness.ts";

setDefaultTimeout(60_000);
const start = relayPerTest();

describe("connection floods", () => {
  test("5,000 subscribers connecting together all get the next message", async () => {
    const r = start({ quiet: true });
    const subscribers = await r.subscribers(5000);
    expect(r.relay.subscriberCount).toBe(5000);
    const publisher = await r.publisher();
    await publisher.write("to everyone\n");
    await Promise.all(subscribers.map((subscriber) => subscriber.waitForBytes(12)));
    for (const subscriber of subscribers) expect(subscriber.text()).toBe("to everyone\n");
    expect(r.relay.totals().messagesSent).toBe(5000);
    for (const subscriber of subscribers) subscriber.end();
    await r.waitForCount(closeOf("subscriber"), 5000);
    expect(r.relay.subscriberCount).toBe(0);
  });

  test("--max-conns closes connections beyond it, logs why, and accepts again below it", async () => {
    const r = start({ maxConns: 2 });
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    await r.waitFor((e) => e.type === "open" && e.side === "publisher");

    const refusedSubscriber = await TestClient.connect(r.relay.subPort);
    const refusedPublisher = await TestClient.connect(r.relay.pubPort);
    await refusedPublisher.write("must not be relayed\n");
    expect(await refusedSubscriber.closed).toBeUndefined();
    await refusedPublisher.closed;
    await r.waitForCount(closeOf("subscriber", "max_conns"), 1);
    const refused = await r.waitFor(closeOf("publisher", "max_conns"));
    expect(refused).toMatchObject({ detail: "--max-conns 2 reached" });
    expect(r.relay.totals().refusedConnections).toBe(2);

    await publisher.write("relayed\n");
    await subscriber.waitForBytes(8);
    expect(subscriber.text()).toBe("relayed\n");

    publisher.end();
    await r.waitFor(closeOf("publisher", "peer_closed"));
    const next = await r.publisher();
    await next.write("after a slot freed\n");
    await subscriber.waitForBytes(8 + 19);
    expect(subscriber.text()).toBe("relayed\nafter a slot freed\n");
  });
});

describe("half-open and vanishing peers", () => {
  test("a subscriber that half-closes is taken as leaving, like the Go relay; others go on", async () => {
    const r = start();
    const [leaving, staying] = (await r.subscribers(2)) as [TestClient, TestClient];
    leaving.halfClose();
    await r.waitFor(closeOf("subscriber", "peer_closed"));
    expect(r.relay.subscriberCount).toBe(1);
    const publisher = await r.publisher();
    await publisher.write("for those still here\n");
    await staying.waitForBytes(21);
    expect(staying.text()).toBe("for those still here\n");
    expect(await leaving.closed).toBeUndefined();
  });

  test("a subscriber that vanishes with a backlog queued: no crash, its bytes counted as dropped", async () => {
    const r = start({ maxPending: 64 * 1024 * 1024 });
    const [witness] = (await r.subscribers(1)) as [TestClient];
    const vanishing = await TestClient.connect(r.relay.subPort, { paused: true });
    await r.waitForCount((e) => e.type === "open" && e.side === "subscriber", 2);
    const publisher = await r.publisher();
    const data = numberedLines(12 * 1024, 1024);
    await publisher.write(data);
    await witness.waitForBytes(data.length);
    const queued = r.relay.hub.pendingBytes;
    expect(queued).toBeGreaterThan(0);

    vanishing.reset();
    const close = await r.waitFor(closeOf("subscriber"));
    expect(close).toMatchObject({ reason: "peer_reset", droppedBytes: queued });
    expect(r.relay.hub.pendingBytes).toBe(0);
    await publisher.write("after\n");
    await witness.waitForBytes(data.length + 6);
  });

  test("publishers resetting mid-message never leak a fragment; counters stay exact", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    for (let i = 0; i < 20; i++) {
      const publisher = await r.publisher();
      await publisher.write(`whole ${i}\nfragment ${i} without end`);
      publisher.reset();
      await r.waitForCount(closeOf("publisher", "peer_reset"), i + 1);
    }
    const expected = Array.from({ length: 20 }, (_, i) => `whole ${i}\n`).join("");
    await subscriber.waitForBytes(expected.length);
    expect(subscriber.text()).toBe(expected);
    const closes = r.events.filter(closeOf("publisher", "peer_reset"));
    expect(closes.map((e) => e.type === "close" && e.droppedBytes)).toEqual(
      Array.from({ length: 20 }, (_, i) => bytes(`fragment ${i} without end`).length),
    );
    expect(r.relay.totals()).toMatchObject({ messagesReceived: 20, messagesSent: 20 });
  });
});
