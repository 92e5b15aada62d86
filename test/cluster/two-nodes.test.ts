/**
 * Two relay nodes in this process, joined through a real nats-server (issue 15): everything
 * published on either node reaches the subscribers of both, in per-publisher order, exactly
 * once, for line and frame ports.
 */
import { afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { RelayConfig } from "../../src/cli/config.ts";
import { formatStats } from "../../src/log.ts";
import { createMetricsRegistry } from "../../src/metrics/registry.ts";
import { MetricsServer } from "../../src/metrics/server.ts";
import { encodeSubmit } from "../../src/protocol/frame-codec.ts";
import { bytes, concat, TestRelay } from "../support/harness.ts";
import {
  clusterConnected,
  freePort,
  NatsServer,
  natsMissing,
  stopNatsServersAfterAll,
  uniqueSubject,
} from "../support/nats-server.ts";

stopNatsServersAfterAll();

setDefaultTimeout(15_000);

let nats: NatsServer;
beforeAll(async () => {
  if (!natsMissing) nats = await NatsServer.start();
});

const started: TestRelay[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.stop();
});

/** Two nodes on one subject, both connected (and subscribed) to NATS. */
async function twoNodes(
  a: Partial<RelayConfig> = {},
  b: Partial<RelayConfig> = {},
): Promise<[TestRelay, TestRelay]> {
  const clusterSubject = uniqueSubject("two");
  const common = { cluster: [nats.url], clusterSubject };
  const nodeA = new TestRelay({ ...common, nodeId: "00000000000000aa", ...a });
  const nodeB = new TestRelay({ ...common, nodeId: "00000000000000bb", ...b });
  started.push(nodeA, nodeB);
  await Promise.all([
    nodeA.waitFor(clusterConnected(false)),
    nodeB.waitFor(clusterConnected(false)),
  ]);
  return [nodeA, nodeB];
}

/** `count` lines `TAG000123\n` (fixed width, so a byte count says how many arrived). */
function lines(tag: string, count: number, from = 0): string {
  let text = "";
  for (let i = from; i < from + count; i++) text += `${tag}${String(i).padStart(6, "0")}\n`;
  return text;
}

/** The lines of `text` that start with `tag`, in order. */
function linesOf(text: string, tag: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(tag));
}

describe.skipIf(natsMissing !== undefined)("two nodes through NATS", () => {
  test("line ports: both ways, every subscriber gets every message once, in per-publisher order", async () => {
    const [a, b] = await twoNodes();
    const subsA = await a.subscribers(2);
    const subsB = await b.subscribers(2);
    const pubA = await a.publisher();
    const pubA2 = await a.publisher();
    const pubB = await b.publisher();
    const count = 3000;
    // Several writes each, so the batches are many and of every size.
    const sent = { a: lines("a", count), a2: lines("z", count), b: lines("b", count) };
    const writes: Promise<void>[] = [];
    for (let i = 0; i < count; i += 500) {
      writes.push(pubA.write(lines("a", 500, i)));
      writes.push(pubA2.write(lines("z", 500, i)));
      writes.push(pubB.write(lines("b", 500, i)));
    }
    await Promise.all(writes);
    const total = sent.a.length + sent.a2.length + sent.b.length;
    for (const sub of [...subsA, ...subsB]) {
      await sub.waitForBytes(total);
      const text = sub.text();
      expect(text.length).toBe(total); // no duplicates: not one byte more
      expect(linesOf(text, "a")).toEqual(linesOf(sent.a, "a"));
      expect(linesOf(text, "z")).toEqual(linesOf(sent.a2, "z"));
      expect(linesOf(text, "b")).toEqual(linesOf(sent.b, "b"));
    }
    const ca = a.relay.backplane?.stats();
    const cb = b.relay.backplane?.stats();
    expect(ca).toMatchObject({ messagesOut: 2 * count, messagesIn: count, state: "connected" });
    expect(cb).toMatchObject({ messagesOut: count, messagesIn: 2 * count, sources: 1 });
    for (const stats of [ca, cb]) {
      expect(stats?.lost).toEqual({
        not_connected: 0,
        too_large: 0,
        slow_nats: 0,
        gap: 0,
        no_member: 0,
      });
      expect(stats?.malformed).toBe(0);
    }
    // Remote messages go through the same hub and counters: received and delivered.
    expect(b.relay.totals()).toMatchObject({
      messagesReceived: 3 * count,
      messagesSent: 2 * 3 * count,
    });
    expect(
      a.events.some((e) => e.type === "cluster_source" && e.source === "00000000000000bb"),
    ).toBe(true);
  });

  test("frame ports: Submits cross byte for byte; a line subscriber gets payload + \\n; \\n payloads are counted, not delivered as lines", async () => {
    const [a, b] = await twoNodes(
      { pubFraming: "frame", subFraming: "frame" },
      { pubFraming: "frame", subFraming: "line" },
    );
    const [subA] = await a.subscribers(1);
    const [subB] = await b.subscribers(1);
    const pubA = await a.publisher();
    const frames: Uint8Array[] = [];
    for (let i = 1; i <= 500; i++) {
      const payload = i === 250 ? "two\nlines" : `msg-${i}`;
      frames.push(encodeSubmit(String(i).padStart(8, "0"), payload));
    }
    const stream = concat(frames);
    await pubA.write(stream);
    await subA?.waitForBytes(stream.length);
    expect(subA?.bytes()).toEqual(stream);
    const expectedLines = Array.from({ length: 500 }, (_, i) => i + 1)
      .filter((i) => i !== 250)
      .map((i) => `msg-${i}\n`)
      .join("");
    await subB?.waitForBytes(expectedLines.length);
    await b.waitFor((e) => e.type === "cluster_source");
    expect(subB?.text()).toBe(expectedLines);
    expect(b.relay.totals().messagesNotLines).toBe(1);

    // And back: B's frame publisher reaches A's frame subscriber unchanged.
    const pubB = await b.publisher();
    const back = concat([
      encodeSubmit("back0001", "from b"),
      encodeSubmit("back0002", bytes("\0\xff")),
    ]);
    await pubB.write(back);
    await subA?.waitForBytes(stream.length + back.length);
    expect(subA?.bytes().subarray(stream.length)).toEqual(back);
  });

  test("a line publisher's messages reach another node's frame subscribers as Submit(relay-assigned ID, line)", async () => {
    const [a, b] = await twoNodes({}, { subFraming: "frame" });
    const [subB] = await b.subscribers(1);
    const [subA] = await a.subscribers(1);
    const pubA = await a.publisher();
    await pubA.write("first\nsecond\n");
    const expected = concat([
      encodeSubmit("00000001", "first"),
      encodeSubmit("00000002", "second"),
    ]);
    await subB?.waitForBytes(expected.length);
    expect(subB?.bytes()).toEqual(expected);
    await subA?.waitForBytes(13);
    expect(subA?.text()).toBe("first\nsecond\n"); // its own node: once, as lines
  });

  test("nodes on another subject do not mix", async () => {
    const [a, b] = await twoNodes();
    const other = new TestRelay({ cluster: [nats.url], clusterSubject: uniqueSubject("other") });
    started.push(other);
    await other.waitFor(clusterConnected(false));
    const [subOther] = await other.subscribers(1);
    const [subB] = await b.subscribers(1);
    const pub = await a.publisher();
    await pub.write("only on our subject\n");
    await subB?.waitForBytes(20);
    expect(subOther?.receivedBytes).toBe(0);
    expect(other.relay.backplane?.stats()).toMatchObject({ messagesIn: 0, malformed: 0 });
  });

  test("metrics, /healthz and the STATS line show the backplane; /healthz stays 200 while it is down", async () => {
    const [a, b] = await twoNodes();
    const [subB] = await b.subscribers(1);
    const pub = await a.publisher();
    await pub.write("one\ntwo\n");
    await subB?.waitForBytes(8);
    const serve = (r: TestRelay) =>
      MetricsServer.start({
        host: "127.0.0.1",
        port: 0,
        registry: createMetricsRegistry(r.relay, { defaultMetrics: false }),
        isServing: () => !r.relay.shuttingDown,
        clusterState: () => r.relay.backplane?.state ?? "off",
      });
    const metrics = serve(a);
    try {
      const text = await (await fetch(metrics.url)).text();
      expect(text).toContain('bun_relay_cluster_messages_total{direction="out"} 2');
      expect(text).toContain('bun_relay_cluster_lost_messages_total{cause="gap"} 0');
      expect(text).toContain("bun_relay_cluster_connected 1");
      expect(text).toContain("bun_relay_cluster_nodes 1"); // nothing came from B yet
      const health = await fetch(metrics.url.replace("/metrics", "/healthz"));
      expect(health.status).toBe(200);
      expect(health.headers.get("x-relay-cluster")).toBe("connected");
      expect(await health.text()).toBe("ok\ncluster connected\n");
    } finally {
      await metrics.stop();
    }
    expect(formatStats(b.relay.totals())).toMatch(
      / \| Cluster: connected Out=0 In=2 Lost=0 Reconnects=0 Nodes=2$/,
    );

    // A node whose NATS is away still serves: 200, and it says so.
    const lonely = new TestRelay({ cluster: [`nats://127.0.0.1:${freePort()}`] });
    started.push(lonely);
    await lonely.waitFor((e) => e.type === "cluster_unreachable");
    const lonelyMetrics = serve(lonely);
    try {
      const health = await fetch(lonelyMetrics.url.replace("/metrics", "/healthz"));
      expect(health.status).toBe(200);
      expect(health.headers.get("x-relay-cluster")).toBe("connecting");
      const text = await (await fetch(lonelyMetrics.url)).text();
      expect(text).toContain("bun_relay_cluster_connected 0");
    } finally {
      await lonelyMetrics.stop();
    }
  });
});
