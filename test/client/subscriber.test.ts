/**
 * Subscribers as async iterables: backpressure (a consumer that does not iterate pauses the
 * socket, the relay feels it, and nothing is lost), close() ending a running loop, leaving a
 * loop closing the subscriber, and one iteration at a time.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ClientError, ClientErrorCode, connect } from "../../src/client/index.ts";
import { closeOf, relayPerTest } from "../support/harness.ts";

import { subscriberThenPublisher } from "./client-support.ts";

setDefaultTimeout(10_000);
const start = relayPerTest();
const FRAMES = { pubFraming: "frame", subFraming: "frame" } as const;

describe("subscriber", () => {
  test("a consumer that does not iterate pauses the socket; the relay holds the publisher; then every message arrives in order", async () => {
    const r = start({ ...FRAMES, slowConsumer: "block", maxPending: 256 * 1024 });
    const maxQueueBytes = 64 * 1024;
    const { subscriber, publisher } = await subscriberThenPublisher(
      r,
      { framing: "frame", maxQueueBytes },
      { framing: "frame" },
    );
    const count = 4096;
    const size = 4096; // 16 MiB: far more than the kernel's socket buffers hold
    const publishes = Array.from({ length: count }, (_, n) => {
      const payload = new Uint8Array(size).fill(n % 256);
      new DataView(payload.buffer).setUint32(0, n);
      return publisher.publish(payload);
    });
    await r.waitFor((e) => e.type === "publishers_held" && e.held);
    expect(subscriber.paused).toBe(true);
    // The queue passes its limit by at most one read (Bun reads up to 512 KiB at a time).
    expect(subscriber.queued * (size + 13)).toBeLessThanOrEqual(maxQueueBytes + 512 * 1024);
    expect(subscriber.received).toBeLessThan(count);

    let next = 0;
    let outOfOrder = 0;
    for await (const payload of subscriber) {
      const n = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
      if (payload.length !== size || n !== next) outOfOrder++;
      if (++next === count) break;
    }
    expect(outOfOrder).toBe(0);
    await Promise.all(publishes);
    expect(r.relay.totals()).toMatchObject({
      acksOk: count + 2, // and the two ConnAcks
      slowConsumerDisconnects: 0,
      messagesDropped: 0,
    });
    await publisher.close();
  });

  test("close() ends a running for-await loop cleanly and emits close with no error", async () => {
    const r = start(FRAMES);
    const { subscriber, publisher } = await subscriberThenPublisher(
      r,
      { framing: "frame" },
      { framing: "frame" },
    );
    const closeEvent = subscriber.once("close");
    let first!: () => void;
    const gotFirst = new Promise<void>((resolve) => {
      first = resolve;
    });
    const loop = (async () => {
      let n = 0;
      for await (const _ of subscriber) if (++n === 1) first();
      return n;
    })();
    await publisher.publish("one");
    await gotFirst;
    await subscriber.close();
    expect(await loop).toBe(1);
    expect((await closeEvent).error).toBeUndefined();
    await r.waitFor(closeOf("subscriber"));
    await publisher.close();
  });

  test("leaving a loop closes the subscriber; a second concurrent iteration is refused", async () => {
    const r = start(FRAMES);
    const subscriber = await connect({
      role: "subscriber",
      port: r.relay.subPort,
      framing: "frame",
    });
    const iterator = subscriber[Symbol.asyncIterator]();
    let refused: unknown;
    try {
      subscriber.messages()[Symbol.asyncIterator]();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).code).toBe(ClientErrorCode.Iterating);
    await iterator.return?.();
    expect(await subscriber.closed).toBeUndefined();
    await r.waitFor(closeOf("subscriber"));
  });
});
