/**
 * Reconnecting: the relay restarts on the same ports and both roles come back by themselves,
 * with disconnect / reconnecting / reconnect events; with reconnect off, or after maxAttempts,
 * the client closes with the error. Backoff delays are checked without sockets.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Backoff } from "../../src/client/backoff.ts";
import {
  ClientError,
  ClientErrorCode,
  type ClientEvents,
  connect,
  DEFAULT_RECONNECT,
} from "../../src/client/index.ts";
import { relayPerTest } from "../support/harness.ts";

setDefaultTimeout(10_000);
const start = relayPerTest();
const FRAMES = { pubFraming: "frame", subFraming: "frame" } as const;
const FAST = { initialDelayMs: 10, maxDelayMs: 50 };
const text = new TextDecoder();

describe("reconnect", () => {
  test("after the relay restarts on the same ports, publisher and subscriber reconnect and messages flow again", async () => {
    const first = start(FRAMES);
    const { pubPort, subPort } = first.relay;
    const subscriber = await connect({
      role: "subscriber",
      port: subPort,
      framing: "frame",
      reconnect: FAST,
    });
    await first.waitFor((e) => e.type === "open" && e.side === "subscriber");
    const publisher = await connect({
      role: "publisher",
      port: pubPort,
      framing: "frame",
      reconnect: FAST,
    });
    const iterator = subscriber[Symbol.asyncIterator]();
    await publisher.publish("before");
    expect(text.decode((await iterator.next()).value)).toBe("before");

    const attempts: ClientEvents["reconnecting"][] = [];
    publisher.on("reconnecting", (event) => attempts.push(event));
    const events = [publisher, subscriber].map((client) => ({
      disconnect: client.once("disconnect"),
      reconnect: client.once("reconnect"),
    }));
    await first.stop();
    for (const { disconnect } of events) {
      const event = await disconnect;
      expect(event.error.code).toBe(ClientErrorCode.Disconnected);
      expect(event.rejected).toBe(0);
    }
    expect(publisher.connected).toBe(false);

    const second = start({ ...FRAMES, pubPort, subPort });
    for (const { reconnect } of events) {
      const event = await reconnect;
      expect(event.attempts).toBeGreaterThanOrEqual(1);
      expect(event.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts[0]?.attempt).toBe(1);
    await second.waitFor((e) => e.type === "open" && e.side === "subscriber");
    await publisher.publish("after");
    expect(text.decode((await iterator.next()).value)).toBe("after");
    await subscriber.close();
    await publisher.close();
  });

  test("with reconnect off, a subscriber's loop ends by throwing CLIENT_ERR_DISCONNECTED when the relay goes", async () => {
    const r = start(FRAMES);
    const subscriber = await connect({
      role: "subscriber",
      port: r.relay.subPort,
      framing: "frame",
      reconnect: false,
    });
    const loop = (async () => {
      for await (const _ of subscriber) {
        // nothing is published
      }
    })();
    await r.waitFor((e) => e.type === "open" && e.side === "subscriber");
    // Handled before the stop: shutdown resolves only once the client has closed its side.
    const ended = loop.then(
      () => undefined,
      (e: unknown) => e,
    );
    await r.stop();
    const error = await ended;
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(ClientErrorCode.Disconnected);
    expect((await subscriber.closed)?.code).toBe(ClientErrorCode.Disconnected);
  });

  test("after maxAttempts failed attempts the client gives up and closes with CLIENT_ERR_CLOSED", async () => {
    const r = start(FRAMES);
    const publisher = await connect({
      role: "publisher",
      port: r.relay.pubPort,
      framing: "frame",
      reconnect: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 },
    });
    const attempts: number[] = [];
    publisher.on("reconnecting", (event) => attempts.push(event.attempt));
    await r.stop();
    const closed = await publisher.closed;
    expect(closed?.code).toBe(ClientErrorCode.Closed);
    expect(closed?.reason).toContain("gave up after 3 reconnect attempts");
    expect(attempts).toEqual([1, 2, 3]);
  });

  test("connect rejects CLIENT_ERR_CONNECT when nothing listens (the first dial is not retried)", async () => {
    const r = start(FRAMES);
    const port = r.relay.pubPort;
    await r.stop();
    const error = await connect({ role: "publisher", port, framing: "frame" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as ClientError).code).toBe(ClientErrorCode.Connect);
    expect((error as ClientError).reason).toContain("ECONNREFUSED");
  });
});

describe("backoff", () => {
  test("delays grow by factor up to maxDelayMs, less up to jitter of each, and restart after reset", () => {
    const options = { ...DEFAULT_RECONNECT, maxAttempts: 8 };
    const none = new Backoff(options, () => 0);
    expect(Array.from({ length: 8 }, () => none.next())).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
    expect(none.canRetry).toBe(false);
    none.reset();
    expect(none.next()).toBe(100);
    const most = new Backoff(options, () => 0.999_999);
    expect([most.next(), most.next(), most.next()]).toEqual([50, 100, 200]);
  });
});
