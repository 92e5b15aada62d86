/**
 * The status page's event streams (src/metrics/monitor.ts) read as a browser's EventSource
 * would, over real sockets: /status/events (hello, history, samples that follow the relay's
 * counters) and /status/tail (404 without --status-tail; with it, the subject's messages,
 * rate-limited, as text or hex), for the line stream and for a NATS subject.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { tailPayload } from "../../src/metrics/monitor.ts";
import { createMetricsRegistry } from "../../src/metrics/registry.ts";
import { MetricsServer } from "../../src/metrics/server.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { relayPerTest, type TestRelay } from "../support/harness.ts";

setDefaultTimeout(20_000);
const start = relayPerTest();

let server: MetricsServer | undefined;
let nats: NatsConnection | undefined;
const streams: AbortController[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.abort();
  await nats?.close();
  nats = undefined;
  await server?.stop();
  server = undefined;
});

function serve(r: TestRelay, statusTail: boolean): MetricsServer {
  server = MetricsServer.start({
    host: "127.0.0.1",
    port: 0,
    registry: createMetricsRegistry(r.relay, { defaultMetrics: false }),
    isServing: () => true,
    relay: { source: r.relay, options: { statusTail, tlsTimeout: 10, sampleIntervalMs: 50 } },
  });
  return server;
}

/** An open event stream: `next()` resolves with its next event. */
async function eventStream(path: string) {
  const abort = new AbortController();
  streams.push(abort);
  const response = await fetch(`http://127.0.0.1:${server?.port}${path}`, { signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    async next(): Promise<{ event: string; data: unknown }> {
      while (!buffered.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("event stream ended");
        buffered += decoder.decode(value, { stream: true });
      }
      const end = buffered.indexOf("\n\n");
      const [eventLine, dataLine] = buffered.slice(0, end).split("\n");
      buffered = buffered.slice(end + 2);
      return {
        event: (eventLine as string).slice("event: ".length),
        data: JSON.parse((dataLine as string).slice("data: ".length)),
      };
    },
    async until(
      event: string,
      test: (data: Record<string, unknown>) => boolean = () => true,
    ): Promise<Record<string, unknown>> {
      for (;;) {
        const next = await this.next();
        const data = next.data as Record<string, unknown>;
        if (next.event === event && test(data)) return data;
      }
    },
  };
}

const publisherOpen = (e: RelayEvent) => e.type === "open" && e.side === "publisher";

describe("/status/events", () => {
  test("hello, the history, then samples that follow the relay's counters", async () => {
    const r = start();
    serve(r, false);
    const events = await eventStream("/status/events");
    expect(await events.next()).toEqual({
      event: "hello",
      data: { serverId: r.relay.serverId, tail: false, tailPerSecond: 5 },
    });
    const history = await events.next();
    expect(history.event).toBe("history");
    expect((history.data as unknown[]).length).toBeGreaterThanOrEqual(1);
    const [subscriber] = await r.subscribers(1);
    const publisher = await r.publisher();
    await r.waitFor(publisherOpen);
    await publisher.write("one\ntwo\n");
    await subscriber?.waitForBytes(8);
    const sample = await events.until("sample", (s) => s.outMsgs === 2);
    expect(sample).toMatchObject({
      connections: { "line-publisher": 1, "line-subscriber": 1 },
      inMsgs: 2,
      outMsgs: 2,
      pendingBytes: 0,
      publishersHeld: false,
      slowConsumers: 0,
      stalled: [],
    });
  });
});

describe("/status/tail", () => {
  test("without --status-tail: 404", async () => {
    const r = start();
    serve(r, false);
    const response = await fetch(`http://127.0.0.1:${server?.port}/status/tail?subject=relay`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("not found: the tail needs --status-tail\n");
  });

  test("a bad subject (an empty token, whitespace, '>' not last): 400 saying which", async () => {
    const r = start();
    serve(r, true);
    for (const subject of ["a..b", "a b", ">.x"]) {
      const query = encodeURIComponent(subject);
      const response = await fetch(`http://127.0.0.1:${server?.port}/status/tail?subject=${query}`);
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(`not a subject or wildcard: ${JSON.stringify(subject)}\n`);
    }
  });

  test("the line stream (no --nats-port) as --subject, five messages a second at most", async () => {
    const r = start();
    serve(r, true);
    const tail = await eventStream("/status/tail?subject=relay");
    expect(await tail.next()).toEqual({ event: "subscribed", data: { subject: "relay" } });
    const publisher = await r.publisher();
    await r.waitFor(publisherOpen);
    const lines = Array.from({ length: 8 }, (_, i) => `<b>line ${i}</b>\n`).join("");
    await publisher.write(lines);
    const received = [];
    for (let i = 0; i < 5; i++) received.push((await tail.until("message")) as unknown);
    expect(received).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({
        subject: "relay",
        size: `<b>line ${i}</b>`.length,
        skipped: 0,
        encoding: "text",
        payload: `<b>line ${i}</b>`,
      })),
    );
    // The limit is per second of the clock (no event marks a new one): the next second's
    // first message says how many it skipped.
    await Bun.sleep(1000);
    await publisher.write("after\n");
    expect(await tail.until("message")).toMatchObject({ payload: "after", skipped: 3 });
  });

  test("a NATS wildcard, binary payloads as hex; closing the stream unsubscribes", async () => {
    const r = start({ natsPort: 0 });
    serve(r, true);
    const tail = await eventStream("/status/tail?subject=orders.>");
    await tail.next();
    expect(r.relay.natsSubscriptionCount).toBe(0); // the tail is not a client's
    nats = await connect({ servers: `127.0.0.1:${r.relay.natsPort}` });
    nats.publish("orders.eu", Uint8Array.of(0, 1, 0xff));
    nats.publish("other", "not tailed");
    nats.publish("orders.us.east", "text");
    await nats.flush();
    expect(await tail.until("message")).toEqual({
      subject: "orders.eu",
      size: 3,
      skipped: 0,
      encoding: "hex",
      payload: "0001ff",
    });
    expect(await tail.until("message")).toMatchObject({
      subject: "orders.us.east",
      payload: "text",
    });
    const router = r.relay.nats?.router;
    expect(router?.subscriptions).toBe(1);
    for (const stream of streams.splice(0)) stream.abort();
    while (router?.subscriptions !== 0) await Bun.sleep(5);
  });
});

test("tailPayload: UTF-8 text as text; control bytes or invalid UTF-8 as hex", () => {
  expect(tailPayload(new TextEncoder().encode("héllo\tworld\r\n"))).toEqual({
    encoding: "text",
    payload: "héllo\tworld\r\n",
  });
  expect(tailPayload(Uint8Array.of(0x1b, 0x5b))).toEqual({ encoding: "hex", payload: "1b5b" });
  expect(tailPayload(Uint8Array.of(0xc3))).toEqual({ encoding: "hex", payload: "c3" });
});

test("HEAD of every monitor path: GET's status and content type, no body", async () => {
  const r = start();
  serve(r, true);
  for (const [path, type] of [
    ["/varz", "application/json; charset=utf-8"],
    ["/connz", "application/json; charset=utf-8"],
    ["/status/events", "text/event-stream; charset=utf-8"],
    ["/status/tail?subject=relay", "text/event-stream; charset=utf-8"],
    ["/", "text/html;charset=utf-8"],
  ]) {
    const response = await fetch(`http://127.0.0.1:${server?.port}${path}`, { method: "HEAD" });
    expect([path, response.status, response.headers.get("content-type")]).toEqual([
      path,
      200,
      type,
    ]);
    expect(await response.text()).toBe("");
  }
  expect(r.relay.natsSubscriptionCount).toBe(0);
  const missing = await fetch(`http://127.0.0.1:${server?.port}/nope`, { method: "HEAD" });
  expect(missing.status).toBe(404);
});
