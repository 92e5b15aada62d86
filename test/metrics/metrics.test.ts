/**
 * The metrics endpoint (src/metrics/): a relay and its /metrics and /healthz on 127.0.0.1,
 * all on ephemeral ports, with real client sockets. Each test runs a known workload, waits
 * for the relay's own events (never a sleep), scrapes, and checks exact values.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createMetricsRegistry } from "../../src/metrics/registry.ts";
import { DROPPED_DEFAULT_METRICS, METRIC_PREFIX } from "../../src/metrics/scraped-metrics.ts";
import { MetricsServer } from "../../src/metrics/server.ts";
import { encodeConn, encodeSubmit } from "../../src/protocol/frame-codec.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { type Family, parseExposition, sampleValue } from "../support/exposition.ts";
import {
  closeOf,
  concat,
  numberedLines,
  relayPerTest,
  TestClient,
  type TestRelay,
} from "../support/harness.ts";

setDefaultTimeout(30_000);
const start = relayPerTest();

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** `promtool` from Debian's `prometheus` package, when installed. */
const PROMTOOL = Bun.which("promtool");

function serveMetrics(r: TestRelay, defaultMetrics = true): MetricsServer {
  server = MetricsServer.start({
    host: "127.0.0.1",
    port: 0,
    registry: createMetricsRegistry(r.relay, { defaultMetrics }),
    isServing: () => !r.relay.shuttingDown,
  });
  return server;
}

async function get(metrics: MetricsServer, path: string, method = "GET"): Promise<Response> {
  return fetch(`http://127.0.0.1:${metrics.port}${path}`, { method });
}

async function scrapeText(metrics: MetricsServer): Promise<string> {
  const response = await get(metrics, "/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return response.text();
}

async function scrape(metrics: MetricsServer): Promise<Map<string, Family>> {
  return parseExposition(await scrapeText(metrics));
}

/** Reads one bun_relay_* series by its short name. */
function relayValue(families: Map<string, Family>, name: string, labels = {}): number {
  return sampleValue(families, METRIC_PREFIX + name, labels);
}

const opened = (side: "publisher" | "subscriber") => (e: RelayEvent) =>
  e.type === "open" && e.side === side;

describe("/metrics", () => {
  test("after a known workload shows the exact connection, message and byte counts", async () => {
    const r = start();
    const metrics = serveMetrics(r);
    const subscribers = await r.subscribers(3);
    const first = await r.publisher();
    const second = await r.publisher();
    await r.waitForCount(opened("publisher"), 2);
    await first.write(numberedLines(10, 20, "a"));
    await second.write(numberedLines(5, 20, "b"));
    for (const subscriber of subscribers) await subscriber.waitForBytes(15 * 20);
    second.end();
    await r.waitFor(closeOf("publisher", "peer_closed"));

    const families = await scrape(metrics);
    const expected: [string, Record<string, string>, number][] = [
      ["connections", { side: "publisher" }, 1],
      ["connections", { side: "subscriber" }, 3],
      ["connections_accepted_total", { side: "publisher" }, 2],
      ["connections_accepted_total", { side: "subscriber" }, 3],
      ["connections_refused_total", {}, 0],
      ["received_messages_total", {}, 15],
      ["sent_messages_total", {}, 45],
      ["received_bytes_total", {}, 300],
      ["sent_bytes_total", {}, 900],
      ["slow_consumer_disconnects_total", {}, 0],
      ["write_timeouts_total", {}, 0],
      ["dropped_messages_total", {}, 0],
      ["publisher_pauses_total", {}, 0],
      ["publishers_held_seconds_total", {}, 0],
      ["stall_timeouts_total", {}, 0],
      ["publishers_held", {}, 0],
      ["lines_too_long_total", {}, 0],
      ["pending_bytes", {}, 0],
      ["subscriber_pending_bytes_max", {}, 0],
      ["max_pending_bytes", {}, 8 * 1024 * 1024],
    ];
    const actual = expected.map(([name, labels]) => [
      name,
      labels,
      relayValue(families, name, labels),
    ]);
    expect(actual).toEqual(expected);
    expect(
      relayValue(families, "info", {
        version: "0.1.0",
        bun_version: Bun.version,
        slow_consumer_policy: "stall",
      }),
    ).toBe(1);
  });

  test("counts slow-consumer disconnects, over-long lines and refused connections", async () => {
    const r = start({ maxPending: 64 * 1024, maxLine: 4096, maxConns: 3 });
    const metrics = serveMetrics(r);
    await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    await publisher.write(numberedLines(16 * 1024, 1024)); // 16 MiB: more than socket buffers hold
    await r.waitFor(closeOf("subscriber", "slow_consumer"));

    await publisher.write(`${"x".repeat(5000)}\n`);
    await r.waitFor(closeOf("publisher", "line_too_long"));

    await r.subscribers(3);
    await TestClient.connect(r.relay.subPort); // a fourth connection: over --max-conns 3
    await r.waitFor(closeOf("subscriber", "max_conns"));

    const families = await scrape(metrics);
    expect(relayValue(families, "slow_consumer_disconnects_total")).toBe(1);
    expect(relayValue(families, "lines_too_long_total")).toBe(1);
    expect(relayValue(families, "connections_refused_total")).toBe(1);
    expect(relayValue(families, "connections_accepted_total", { side: "subscriber" })).toBe(5);
    expect(relayValue(families, "connections", { side: "subscriber" })).toBe(3);
    expect(relayValue(families, "connections", { side: "publisher" })).toBe(0);
  });

  test("policy drop: dropped messages, and pending bytes summed and per largest subscriber", async () => {
    // One stalled subscriber only: a reading one could fall 128 KiB behind a 16 MiB burst too
    // and have messages dropped, which would make its byte count unpredictable.
    const r = start({ slowConsumer: "drop", maxPending: 128 * 1024 });
    const metrics = serveMetrics(r);
    await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    const messages = 16 * 1024;
    await publisher.write(numberedLines(messages, 1024)); // 16 MiB: more than socket buffers hold
    publisher.end();
    await r.waitFor(closeOf("publisher", "peer_closed")); // every byte it sent has been read

    // One scrape is one snapshot: prom-client runs every collect() without yielding to I/O.
    const families = await scrape(metrics);
    const dropped = relayValue(families, "dropped_messages_total");
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBe(r.relay.hub.counters.messagesDropped); // no delivery since the close
    expect(relayValue(families, "received_messages_total")).toBe(messages);
    expect(relayValue(families, "sent_messages_total") + dropped).toBe(messages);
    // Only one subscriber has a backlog, so the largest is the whole sum.
    const pending = relayValue(families, "pending_bytes");
    expect(pending).toBeGreaterThan(0);
    // The bound plus at most one partly written batch (a read chunk is at most 512 KiB).
    expect(pending).toBeLessThanOrEqual(128 * 1024 + 512 * 1024);
    expect(relayValue(families, "subscriber_pending_bytes_max")).toBe(pending);
  });

  test("policy block: publisher pauses, and publishers_held while they are held", async () => {
    const r = start({ slowConsumer: "block", maxPending: 256 * 1024 });
    const metrics = serveMetrics(r);
    const stalled = await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    const all = numberedLines(24 * 1024, 1024);
    const written = publisher.write(all); // cannot finish while publishers are held
    await r.waitFor((e) => e.type === "publishers_held" && e.held);

    const held = await scrape(metrics);
    expect(relayValue(held, "publishers_held")).toBe(1);
    expect(relayValue(held, "publisher_pauses_total")).toBe(1);

    stalled.resume();
    await written;
    await stalled.waitForBytes(all.length);
    const released = await scrape(metrics);
    expect(relayValue(released, "publishers_held")).toBe(0);
    expect(relayValue(released, "publisher_pauses_total")).toBe(r.relay.totals().publisherPauses);
    expect(relayValue(released, "pending_bytes")).toBe(0);
    expect(relayValue(released, "dropped_messages_total")).toBe(0);
  });

  test("policy stall: held seconds, the stall timeout and the cut that follows", async () => {
    const r = start({ maxPending: 256 * 1024, stallTimeout: 0.1 });
    const metrics = serveMetrics(r);
    await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    await publisher.write(numberedLines(16 * 1024, 1024)); // finishes once publishers resume
    await r.waitFor(closeOf("subscriber", "slow_consumer"));
    const families = await scrape(metrics);
    expect(relayValue(families, "stall_timeouts_total")).toBe(1);
    expect(relayValue(families, "slow_consumer_disconnects_total")).toBe(1);
    const heldSeconds = relayValue(families, "publishers_held_seconds_total");
    expect(heldSeconds).toBe(r.relay.totals().publishersHeldMs / 1000);
    expect(heldSeconds).toBeGreaterThanOrEqual(0.099);
    expect(relayValue(families, "publishers_held")).toBe(0);
  });

  test("frame protocol: Submits, acks by result, auth failures and frame errors by code", async () => {
    const r = start({ pubFraming: "frame", subFraming: "frame", token: "tok" });
    const metrics = serveMetrics(r);
    const good = await r.publisher();
    await good.write(
      concat([
        encodeConn("00000001", "tok"),
        encodeSubmit("00000002", "a"),
        encodeSubmit("00000003", "b"),
      ]),
    );
    await good.waitForBytes(3 * 14);
    const wrong = await r.publisher();
    await wrong.write(encodeConn("00000004", "nope"));
    await wrong.closed;
    await good.write(new Uint8Array([0, 0, 0, 1, 2]));
    await good.closed;
    await r.waitFor(closeOf("publisher", "bad_frame"));
    const families = await scrape(metrics);
    expect(relayValue(families, "submits_received_total")).toBe(2);
    expect(relayValue(families, "acks_sent_total", { result: "ok" })).toBe(3);
    expect(relayValue(families, "acks_sent_total", { result: "failed" })).toBe(1);
    expect(relayValue(families, "auth_failures_total")).toBe(1);
    expect(relayValue(families, "frame_errors_total", { code: "FRAME_ERR_TOO_SHORT" })).toBe(1);
    expect(relayValue(families, "frame_errors_total", { code: "FRAME_ERR_TOO_LONG" })).toBe(0);
  });

  test("counts write timeouts", async () => {
    // As in slow-consumer.test.ts: `block` holds the publisher until the dead subscriber is cut.
    const r = start({ slowConsumer: "block", maxPending: 256 * 1024, writeTimeout: 0.2 });
    const metrics = serveMetrics(r);
    await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    await publisher.write(numberedLines(8 * 1024, 1024));
    await r.waitFor(closeOf("subscriber", "write_timeout"));
    const families = await scrape(metrics);
    expect(relayValue(families, "write_timeouts_total")).toBe(1);
    expect(relayValue(families, "slow_consumer_disconnects_total")).toBe(0);
    expect(relayValue(families, "connections", { side: "subscriber" })).toBe(0);
    expect(relayValue(families, "pending_bytes")).toBe(0);
  });

  test("every bun_relay_* family has HELP and TYPE, and counters end in _total", async () => {
    const r = start();
    const families = await scrape(serveMetrics(r));
    const ours = [...families.values()].filter((f) => f.name.startsWith(METRIC_PREFIX));
    expect(ours.map((f) => f.name.slice(METRIC_PREFIX.length)).sort()).toEqual([
      "acks_sent_total",
      "auth_failures_total",
      "connections",
      "connections_accepted_total",
      "connections_refused_total",
      "dropped_messages_total",
      "frame_errors_total",
      "info",
      "lines_too_long_total",
      "max_pending_bytes",
      "messages_not_lines_total",
      "messages_too_large_for_nats_total",
      "nats_subscriptions",
      "pending_bytes",
      "publisher_pauses_total",
      "publishers_held",
      "publishers_held_seconds_total",
      "received_bytes_total",
      "received_messages_total",
      "sent_bytes_total",
      "sent_messages_total",
      "slow_consumer_disconnects_total",
      "stall_timeouts_total",
      "submits_received_total",
      "subscriber_pending_bytes_max",
      "write_timeouts_total",
    ]);
    for (const family of ours) {
      expect(family.help?.length ?? 0).toBeGreaterThan(10);
      expect(family.type === "counter").toBe(family.name.endsWith("_total"));
      expect(family.samples.length).toBeGreaterThan(0);
    }
  });

  test("prom-client's process metrics ride along, less those Bun cannot fill", async () => {
    const r = start();
    const families = await scrape(serveMetrics(r));
    const types = (names: string[]) => names.map((name) => [name, families.get(name)?.type]);
    const counters = [
      "process_cpu_seconds_total",
      "process_cpu_system_seconds_total",
      "process_cpu_user_seconds_total",
    ];
    expect(types(counters)).toEqual(counters.map((name) => [name, "counter"]));
    const gauges = [
      "process_resident_memory_bytes",
      "process_virtual_memory_bytes",
      "process_heap_bytes",
      "process_open_fds",
      "process_max_fds",
      "process_start_time_seconds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_heap_size_total_bytes",
      "nodejs_external_memory_bytes",
      "nodejs_version_info",
    ];
    expect(types(gauges)).toEqual(gauges.map((name) => [name, "gauge"]));
    expect(DROPPED_DEFAULT_METRICS.filter((name) => families.has(name))).toEqual([]);
    // No family without a sample, and no gauge named like a counter.
    const empty = [...families.values()].filter((f) => f.samples.length === 0);
    expect(empty.map((f) => f.name)).toEqual([]);
    const misnamed = [...families.values()].filter(
      (f) => f.type !== "counter" && f.name.endsWith("_total"),
    );
    expect(misnamed.map((f) => f.name)).toEqual([]);
    expect(sampleValue(families, "process_open_fds", {})).toBeGreaterThan(0);
    expect(sampleValue(families, "process_resident_memory_bytes", {})).toBeGreaterThan(0);
  });

  // Skipped when promtool is missing (Debian: apt-get install prometheus; .ci/run installs it),
  // with the reason in the test's name; the strict parser in test/support/exposition.ts checks
  // the format either way.
  test.skipIf(!PROMTOOL)(
    PROMTOOL
      ? "promtool check metrics: exit 0 and no problem, defaults included, after real traffic"
      : "promtool check metrics (skipped: promtool is not on PATH; Debian: apt-get install prometheus)",
    async () => {
      // Every family has samples and most counters are past 0: connections opened, closed and
      // refused, messages relayed, a line too long.
      const r = start({ maxLine: 4096, maxConns: 4 });
      const metrics = serveMetrics(r);
      const subscribers = await r.subscribers(2);
      const publisher = await r.publisher();
      await publisher.write(numberedLines(100, 20));
      for (const subscriber of subscribers) await subscriber.waitForBytes(100 * 20);
      const longLine = await r.publisher();
      await longLine.write(`${"x".repeat(5000)}\n`);
      await r.waitFor(closeOf("publisher", "line_too_long"));
      await r.subscribers(1);
      await TestClient.connect(r.relay.subPort); // a fifth connection: over --max-conns 4
      await r.waitFor(closeOf("subscriber", "max_conns"));

      const text = await scrapeText(metrics);
      expect(relayValue(parseExposition(text), "received_messages_total")).toBe(100);
      const child = Bun.spawn([PROMTOOL as string, "check", "metrics"], {
        stdin: new Blob([text]),
        stdout: "pipe",
        stderr: "pipe",
      });
      const [status, out, err] = await Promise.all([
        child.exited,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      expect({ status, out, err }).toEqual({ status: 0, out: "", err: "" });
    },
  );
});

describe("/healthz", () => {
  test("answers 200 while serving and 503 once shutdown has begun, while /metrics still works", async () => {
    const r = start({ slowConsumer: "block", maxPending: 256 * 1024 });
    const metrics = serveMetrics(r);
    const serving = await get(metrics, "/healthz");
    expect([serving.status, await serving.text()]).toEqual([200, "ok\n"]);

    // A stalled subscriber with a backlog keeps the shutdown flushing until it reads again.
    // `block` says when the backlog is there: publishers are held past 3/4 of --max-pending.
    const stalled = await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    void publisher.write(numberedLines(8 * 1024, 1024)); // held, then closed by the shutdown
    await r.waitFor((e) => e.type === "publishers_held" && e.held);
    const shutdown = r.relay.shutdown(30);
    const started = await r.waitFor((e) => e.type === "shutdown_started");
    expect(started.type === "shutdown_started" && started.pendingBytes).toBeGreaterThan(0);

    const draining = await get(metrics, "/healthz");
    expect([draining.status, await draining.text()]).toEqual([503, "shutting down\n"]);
    const families = await scrape(metrics);
    expect(relayValue(families, "pending_bytes")).toBeGreaterThan(0);

    stalled.resume();
    expect((await shutdown).unflushedBytes).toBe(0);
    expect((await get(metrics, "/healthz")).status).toBe(503);
  });

  test("other paths are 404 and other methods 405", async () => {
    const r = start();
    const metrics = serveMetrics(r);
    expect((await get(metrics, "/")).status).toBe(404);
    const post = await get(metrics, "/metrics", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  test("a metrics port in use is a RelayError naming it", async () => {
    const r = start();
    const first = serveMetrics(r);
    expect(() =>
      MetricsServer.start({
        host: "127.0.0.1",
        port: first.port,
        registry: createMetricsRegistry(r.relay),
        isServing: () => true,
      }),
    ).toThrow(`metrics port 127.0.0.1:${first.port} is already in use`);
  });
});

describe("the exposition parser used above", () => {
  test.each([
    ["no final newline", "a 1"],
    ["a bad metric name", "1a 1\n"],
    ["a bad value", "a one\n"],
    ["an unquoted label value", "a{b=c} 1\n"],
    ["a bad escape", 'a{b="\\x"} 1\n'],
    ["a duplicate series", 'a{b="1"} 1\na{b="1"} 2\n'],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n"],
    ["an unknown type", "# TYPE a meter\n"],
    ["a split family", '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{c="1"} 1\n'],
  ])("rejects %s", (_, text) => {
    expect(() => parseExposition(text)).toThrow(/exposition/);
  });

  test("reads labels with escapes, NaN as prom-client writes it, and timestamps", () => {
    const families = parseExposition(
      '# HELP a help\n# TYPE a gauge\na{b="x\\"y\\\\z\\n"} 1.5e3 1700000000000\na{b="2"} Nan\n',
    );
    expect(sampleValue(families, "a", { b: 'x"y\\z\n' })).toBe(1500);
    expect(sampleValue(families, "a", { b: "2" })).toBeNaN();
    expect(() => sampleValue(families, "a", { b: "3" })).toThrow("no series");
  });
});
