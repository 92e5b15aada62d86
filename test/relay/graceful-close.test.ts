/**
 * Every close the relay starts is graceful (src/net/graceful-close.ts): over real sockets, a
 * client that reads slowly and sends a byte now and then (a keepalive) gets everything the
 * kernel held for it, then a FIN, never a reset. Before the graceful close, each of these
 * reset the client (Linux resets a socket closed with unread input) and lost what was in
 * flight.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { encodeConn, encodeConnAck, encodeSubmit } from "../../src/protocol/frame-codec.ts";
import type { Subscriber } from "../../src/relay/subscriber.ts";
import {
  closeOf,
  concat,
  numberedLines,
  relayPerTest,
  type TestRelay,
} from "../support/harness.ts";

setDefaultTimeout(20_000);
const start = relayPerTest();

/** A slow reader that sends a keepalive byte every 5 ms. */
const CHATTY_SLOW = { trickleMs: 15, chattyMs: 5 } as const;

/** Resolves once `predicate()` holds, checked after each event-loop turn (no event says it). */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function onlySubscriber(r: TestRelay): Subscriber {
  const subscriber = r.relay.hub.subscribers[0];
  if (subscriber === undefined) throw new Error("no subscriber registered");
  return subscriber;
}

describe("graceful close: a chatty, slow client gets what the kernel held, then FIN", () => {
  test("shutdown delivers every queued byte and closes with FIN", async () => {
    const r = start();
    const sub = await r.subscriberWith(CHATTY_SLOW);
    const publisher = await r.publisher();
    const all = numberedLines(3 * 1024, 1024); // 3 MiB
    await publisher.write(all);
    await until(() => r.relay.totals().messagesReceived === 3 * 1024, "every line received");
    const report = await r.relay.shutdown(10);
    expect(report.unflushedBytes).toBe(0);
    expect(await sub.closed).toBeUndefined(); // FIN, not ECONNRESET
    expect(sub.receivedBytes).toBe(all.length);
    expect(sub.bytes()).toEqual(all);
    const close = await r.waitFor(closeOf("subscriber", "shutdown"));
    expect(close).toMatchObject({ droppedBytes: 0 });
  });

  test("a slow-consumer cut drops the backlog (dropped=), never what the kernel holds", async () => {
    const r = start({ slowConsumer: "disconnect", maxPending: 256 * 1024 });
    const sub = await r.subscriberWith({ paused: true, chattyMs: 5 });
    const subscriber = onlySubscriber(r);
    const publisher = await r.publisher();
    // More than loopback's kernel buffers hold, so the relay queues and cuts it.
    void publisher.write(numberedLines(16 * 1024, 1024));
    await until(() => r.relay.totals().slowConsumerDisconnects === 1, "the cut");
    sub.resume();
    expect(await sub.closed).toBeUndefined();
    await r.waitFor(closeOf("subscriber", "slow_consumer"));
    // Everything the kernel took for it arrived: the loss is exactly the relay's backlog.
    expect(sub.receivedBytes).toBe(subscriber.bytesSent);
  });

  test("a write-timeout cut lets the subscriber read what the kernel holds, then FIN", async () => {
    const r = start({ slowConsumer: "block", maxPending: 64 * 1024 * 1024, writeTimeout: 0.3 });
    const sub = await r.subscriberWith({ paused: true, chattyMs: 5 });
    const subscriber = onlySubscriber(r);
    const publisher = await r.publisher();
    // More than loopback's kernel buffers hold, so a backlog waits; `block` then holds the
    // publisher, so its write finishes only after the cut.
    void publisher.write(numberedLines(16 * 1024, 1024));
    await until(() => r.relay.totals().writeTimeouts === 1, "the write timeout");
    sub.resume();
    expect(await sub.closed).toBeUndefined();
    expect(sub.receivedBytes).toBe(subscriber.bytesSent);
    await r.waitFor(closeOf("subscriber", "write_timeout"));
  });

  test("a frame publisher closed for a bad frame reads its acks, then FIN", async () => {
    const r = start({ pubFraming: "frame" });
    await r.subscribers(1);
    const publisher = await r.publisher();
    const ok = encodeSubmit("00000001", "fine");
    // A total length of 3 cannot be a frame; then more bytes the relay will not read.
    const bad = new Uint8Array([0, 0, 0, 3]);
    void publisher.write(concat([ok, bad, new Uint8Array(256 * 1024).fill(120)])); // never all read
    expect(await publisher.closed).toBeUndefined();
    expect(publisher.bytes().length).toBe(14); // the SubmitAck of the good frame
    await r.waitFor(closeOf("publisher", "bad_frame"));
  });

  test("a publisher refused for a wrong token reads its ConnAck, then FIN", async () => {
    const r = start({ pubFraming: "frame", subFraming: "frame", token: "right" });
    const publisher = await r.publisher();
    const junk = new Uint8Array(256 * 1024).fill(120);
    void publisher.write(concat([encodeConn("00000002", "wrong"), junk])); // never all read
    expect(await publisher.closed).toBeUndefined();
    expect(publisher.bytes()).toEqual(encodeConnAck("00000002", 1));
    await r.waitFor(closeOf("publisher", "auth_failed"));
  });
});
