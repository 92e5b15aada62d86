/**
 * /varz, /connz and /subsz on the metrics port (src/metrics/varz.ts, connz.ts), over real
 * connections of each kind on 127.0.0.1: line and frame publishers and subscribers, a NATS
 * client through nats.js and one speaking the raw protocol (exact bytes). The JSON is compared
 * whole; only what a clock decides (`now`, `start`, `uptime`, `mem`) is checked for its form
 * and then set aside. Also: the query parameters, --allow-from on the metrics port, and that
 * no password or token ever shows.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { wsconnect } from "@nats-io/nats-core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Registry } from "prom-client";
import { createMetricsRegistry } from "../../src/metrics/registry.ts";
import { MetricsServer } from "../../src/metrics/server.ts";
import { registerNetMetrics } from "../../src/net/net-metrics.ts";
import { encodeSubmit, encodeSubmitAck } from "../../src/protocol/frame-encoder.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { RawNatsClient } from "../nats/raw-client.ts";
import { numberedLines, relayPerTest, type TestRelay } from "../support/harness.ts";

setDefaultTimeout(20_000);
const start = relayPerTest();

let server: MetricsServer | undefined;
let nats: NatsConnection | undefined;
afterEach(async () => {
  await nats?.close();
  nats = undefined;
  await server?.stop();
  server = undefined;
});

function serve(r: TestRelay, statusTail = false): MetricsServer {
  server = MetricsServer.start({
    host: "127.0.0.1",
    port: 0,
    registry: createMetricsRegistry(r.relay, { defaultMetrics: false }),
    isServing: () => !r.relay.shuttingDown,
    access: r.relay.access,
    relay: { source: r.relay, options: { statusTail, tlsTimeout: 10 } },
  });
  return server;
}

async function get(path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${server?.port}${path}`);
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Checks the clock-made fields' form and removes them, so the rest compares exactly. */
function withoutClock(value: Record<string, unknown>): Record<string, unknown> {
  const out = { ...value };
  for (const key of ["now", "start"]) {
    if (key in out) {
      expect(out[key]).toMatch(ISO);
      expect(Math.abs(Date.parse(out[key] as string) - Date.now())).toBeLessThan(60_000);
      delete out[key];
    }
  }
  if ("uptime" in out) {
    expect(out.uptime).toMatch(/^(\d+m)?\d+s$/);
    delete out.uptime;
  }
  if (Array.isArray(out.connections)) {
    out.connections = out.connections.map((c: Record<string, unknown>) => withoutClock(c));
  }
  return out;
}

async function json(path: string): Promise<Record<string, unknown>> {
  const response = await get(path);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return withoutClock((await response.json()) as Record<string, unknown>);
}

const opened = (side: string) => (e: RelayEvent) => e.type === "open" && e.side === side;

/** A ConnInfo with the relay's defaults for what a test does not set. */
function conn(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    ip: "127.0.0.1",
    pending_bytes: 0,
    held_ms: 0,
    stalled_ms: 0,
    in_msgs: 0,
    out_msgs: 0,
    in_bytes: 0,
    out_bytes: 0,
    subscriptions: 0,
    ...fields,
  };
}

describe("line and NATS connections", () => {
  /**
   * cid 1: a line subscriber, cid 2: a line publisher that sent 3 lines of 20 B, cid 3: a raw
   * NATS client that subscribed to `relay` and published twice, cid 4: nats.js named `web`.
   */
  async function scene() {
    const r = start({ natsPort: 0 });
    serve(r);
    const [subscriber] = await r.subscribers(1);
    const publisher = await r.publisher();
    await r.waitFor(opened("publisher"));
    const raw = await RawNatsClient.connect(r.relay.natsPort as number);
    await raw.info();
    const rawIn =
      'CONNECT {"verbose":false}\r\nSUB relay 7\r\nPUB other 2\r\nhi\r\nPUB other 3\r\nabc\r\nPING\r\n';
    raw.send(rawIn);
    await raw.expect("PONG\r\n");
    nats = await connect({ servers: `127.0.0.1:${r.relay.natsPort}`, name: "web" });
    nats.subscribe("relay.>");
    nats.subscribe("other");
    await nats.flush();
    await publisher.write(numberedLines(3, 20));
    await subscriber?.waitForBytes(60);
    const delivered = await raw.messages(3);
    expect(delivered.map((m) => m.subject)).toEqual(["relay", "relay", "relay"]);
    return { r, subscriber, publisher, raw, rawIn };
  }

  test("/connz?subs=1 lists every connection with its kind, role, counters and subjects", async () => {
    const { r, subscriber, publisher, rawIn } = await scene();
    const body = await json("/connz?subs=1");
    const varz = await json("/varz");
    const [, , rawInfo, web] = body.connections as Record<string, unknown>[];
    // nats.js: its bytes in and out are whatever its CONNECT and PINGs took; the relay's totals
    // agree with the sum over connections (no backlog anywhere, so taken = handed out).
    const webIn = (varz.in_bytes as number) - 60 - rawIn.length;
    const rawOut = rawInfo?.out_bytes as number;
    const webOut = (varz.out_bytes as number) - 60 - rawOut;
    expect(body).toEqual({
      server_id: r.relay.serverId,
      num_connections: 4,
      total: 4,
      offset: 0,
      limit: 1024,
      connections: [
        conn({
          cid: 1,
          kind: "line",
          role: "subscriber",
          port: subscriber?.localPort,
          out_msgs: 3,
          out_bytes: 60,
          subscriptions: 1,
          subscriptions_list: ["relay"],
        }),
        conn({
          cid: 2,
          kind: "line",
          role: "publisher",
          port: publisher.localPort,
          in_msgs: 3,
          in_bytes: 60,
        }),
        conn({
          cid: 3,
          kind: "nats",
          port: rawInfo?.port,
          in_msgs: 2,
          in_bytes: rawIn.length,
          out_msgs: 3,
          out_bytes: rawOut,
          subscriptions: 1,
          subscriptions_list: ["relay"],
        }),
        conn({
          cid: 4,
          kind: "nats",
          port: web?.port,
          in_bytes: webIn,
          out_bytes: webOut,
          subscriptions: 2,
          name: "web",
          subscriptions_list: ["relay.>", "other"],
        }),
      ],
    });
    // The raw client's output: its INFO, then `PONG` and three MSGs of 19 B payloads.
    const info = await (await RawNatsClient.connect(r.relay.natsPort as number)).info();
    expect(info.client_id).toBe(5);
    const infoLength = `INFO ${JSON.stringify({ ...info, client_id: 3 })} \r\n`.length;
    expect(rawOut).toBe(
      infoLength + "PONG\r\n".length + 3 * "MSG relay 7 19\r\n\r\n".length + 3 * 19,
    );
  });

  test("/varz and /subsz: nats-server's fields, the relay's totals", async () => {
    const { r, rawIn } = await scene();
    const varz = await json("/varz");
    expect(varz.mem).toBeGreaterThan(0);
    delete varz.mem;
    expect(varz).toEqual({
      server_id: r.relay.serverId,
      server_name: "bun-relay",
      version: "0.1.0",
      proto: 1,
      go: `bun ${Bun.version}`,
      host: "127.0.0.1",
      port: r.relay.natsPort,
      max_connections: 0,
      ping_interval: 120_000_000_000,
      ping_max: 2,
      http_host: "127.0.0.1",
      http_port: server?.port,
      http_base_path: "",
      https_port: 0,
      auth_timeout: 2,
      max_control_line: 4096,
      max_payload: 1048576,
      max_pending: 8388608,
      tls_timeout: 10,
      write_deadline: 10_000_000_000,
      cores: navigator.hardwareConcurrency,
      connections: 4,
      total_connections: 4,
      in_msgs: 5,
      out_msgs: 6,
      in_bytes: varz.in_bytes,
      out_bytes: varz.out_bytes,
      slow_consumers: 0,
      subscriptions: 4,
      http_req_stats: { "/varz": 1 },
    });
    expect(varz.in_bytes).toBeGreaterThan(60 + rawIn.length);
    expect(await json("/subsz")).toEqual({
      server_id: r.relay.serverId,
      num_subscriptions: 4,
      total: 0,
      offset: 0,
      limit: 1024,
    });
    expect((await json("/varz")).http_req_stats).toEqual({ "/varz": 2, "/subsz": 1 });
  });

  test("sort, limit, offset and cid as nats-server applies them", async () => {
    await scene();
    const cids = async (query: string) =>
      ((await json(`/connz${query}`)).connections as { cid: number }[]).map((c) => c.cid);
    expect(await cids("")).toEqual([1, 2, 3, 4]);
    expect(await cids("?sort=start")).toEqual([1, 2, 3, 4]);
    expect(await cids("?sort=uptime")).toEqual([4, 3, 2, 1]);
    expect(await cids("?sort=subs")).toEqual([4, 1, 3, 2]);
    expect(await cids("?sort=msgs_from")).toEqual([2, 3, 1, 4]);
    expect(await cids("?sort=msgs_to")).toEqual([1, 3, 2, 4]);
    // nats.js's CONNECT is longer than the raw client's 81 B, which beat the publisher's 60 B.
    expect(await cids("?sort=bytes_from")).toEqual([4, 3, 2, 1]);
    expect(await cids("?sort=pending")).toEqual([1, 2, 3, 4]);
    const page = await json("/connz?limit=2&offset=1");
    expect(page.num_connections).toBe(2);
    expect(page.total).toBe(4);
    expect([page.offset, page.limit]).toEqual([1, 2]);
    expect((page.connections as { cid: number }[]).map((c) => c.cid)).toEqual([2, 3]);
    expect(await cids("?offset=9")).toEqual([]);
    expect(await cids("?limit=0")).toEqual([1, 2, 3, 4]);
    const one = await json("/connz?cid=3");
    expect([one.num_connections, one.total, one.limit]).toEqual([1, 4, 1]);
    expect((one.connections as Record<string, unknown>[])[0]?.cid).toBe(3);
    expect((one.connections as Record<string, unknown>[])[0]).not.toHaveProperty(
      "subscriptions_list",
    );
    expect(await cids("?cid=99")).toEqual([]);
  });

  test("a query nats-server refuses, or one the relay cannot honour, is a 400 saying why", async () => {
    await scene();
    const refused = async (query: string) => {
      const response = await get(`/connz${query}`);
      expect(response.status).toBe(400);
      return response.text();
    };
    expect(await refused("?sort=nope")).toBe("invalid sorting option: nope");
    expect(await refused("?sort=stop")).toBe("sort by stop only valid on closed connections");
    expect(await refused("?sort=idle")).toStartWith("sort by idle is not supported");
    expect(await refused("?limit=ten")).toBe(
      `Error decoding int for 'limit': strconv.Atoi: parsing "ten": invalid syntax`,
    );
    expect(await refused("?cid=-1")).toBe(
      `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`,
    );
    expect(await refused("?subs=maybe")).toBe(
      `Error decoding boolean for 'subs': strconv.ParseBool: parsing "maybe": invalid syntax`,
    );
    expect(await refused("?state=closed")).toStartWith("state=closed is not supported");
  });
});

test("frame publishers and subscribers are kind frame, with their exact bytes", async () => {
  const r = start({ framing: "frame", pubFraming: "frame", subFraming: "frame" });
  serve(r);
  const [subscriber] = await r.subscribers(1);
  const publisher = await r.publisher();
  await r.waitFor(opened("publisher"));
  const frames = [encodeSubmit("00000001", "hello"), encodeSubmit("00000002", "frames!")];
  const both = Buffer.concat(frames);
  const length = both.length;
  await publisher.write(both);
  await subscriber?.waitForBytes(length);
  const acks = encodeSubmitAck("00000001", 0).length * 2;
  await publisher.waitForBytes(acks);
  const body = await json("/connz?subs=true");
  expect(body.connections).toEqual([
    conn({
      cid: 1,
      kind: "frame",
      role: "subscriber",
      port: subscriber?.localPort,
      out_msgs: 2,
      out_bytes: length,
      subscriptions: 1,
      subscriptions_list: ["relay"],
    }),
    conn({
      cid: 2,
      kind: "frame",
      role: "publisher",
      port: publisher.localPort,
      in_msgs: 2,
      in_bytes: length,
    }),
  ]);
});

test("a WebSocket client is kind ws, its INFO client_id its cid, with its subscriptions", async () => {
  const r = start({ wsPort: 0, pubPort: undefined, subPort: undefined });
  serve(r);
  const ws = await wsconnect({ servers: `ws://127.0.0.1:${r.relay.wsPort}`, name: "page" });
  try {
    ws.subscribe("feed.>");
    await ws.flush();
    const body = await json("/connz?subs=1");
    const connections = body.connections as Record<string, unknown>[];
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatchObject({
      cid: ws.info?.client_id,
      kind: "ws",
      name: "page",
      subscriptions: 1,
      subscriptions_list: ["feed.>"],
    });
    expect((await json("/varz")).connections).toBe(1);
    // Prometheus: its own side, apart from the TCP NATS clients.
    const metrics = await (await get("/metrics")).text();
    expect(metrics).toContain('bun_relay_connections{side="ws-client"} 1\n');
    expect(metrics).toContain('bun_relay_connections{side="nats-client"} 0\n');
    expect(metrics).toContain('bun_relay_connections_accepted_total{side="ws-client"} 1\n');
    expect(metrics).toContain('bun_relay_connections_accepted_total{side="nats-client"} 0\n');
  } finally {
    await ws.close();
  }
});

test("a closed connection leaves /connz; its cid is never reused", async () => {
  const r = start();
  serve(r);
  const [first] = await r.subscribers(1);
  first?.end();
  await r.waitFor((e) => e.type === "close" && e.side === "subscriber");
  await r.subscribers(1);
  const body = await json("/connz");
  expect((body.connections as { cid: number }[]).map((c) => c.cid)).toEqual([2]);
  expect((await json("/varz")).total_connections).toBe(2);
});

describe("credentials never show", () => {
  test("--users-file users: /connz?auth=1 names the user, never the password", async () => {
    const password = "pw-never-shown-9f2";
    const r = start({
      natsPort: 0,
      users: [{ user: "alice", password, permissions: undefined }],
    });
    serve(r);
    nats = await connect({
      servers: `127.0.0.1:${r.relay.natsPort}`,
      user: "alice",
      pass: password,
    });
    nats.subscribe("x");
    await nats.flush();
    const withAuth = await (await get("/connz?auth=1&subs=1")).text();
    expect(JSON.parse(withAuth).connections[0].authorized_user).toBe("alice");
    const plain = await (await get("/connz")).text();
    expect(JSON.parse(plain).connections[0]).not.toHaveProperty("authorized_user");
    for (const text of [withAuth, plain, await (await get("/varz")).text()]) {
      expect(text).not.toContain(password);
    }
    expect((await json("/varz")).auth_required).toBe(true);
  });

  test("--token: no token in /connz or /varz", async () => {
    const token = "tok-never-shown-77a";
    const r = start({ natsPort: 0, token });
    serve(r);
    nats = await connect({ servers: `127.0.0.1:${r.relay.natsPort}`, token });
    await nats.flush();
    for (const path of ["/connz?auth=1&subs=1", "/varz", "/subsz"]) {
      expect(await (await get(path)).text()).not.toContain(token);
    }
    const [client] = (await json("/connz?auth=1")).connections as Record<string, unknown>[];
    expect(client).not.toHaveProperty("authorized_user");
  });
});

describe("--allow-from on the metrics port", () => {
  test("an address outside it gets 403 on every path but /healthz, counted and logged as metrics", async () => {
    const r = start({ allowFrom: ["10.0.0.0/8"] });
    serve(r);
    for (const path of ["/varz", "/metrics", "/", "/connz?subs=1"]) {
      const response = await get(path);
      expect(response.status).toBe(403);
      expect(await response.text()).toBe("forbidden: your address is not in --allow-from\n");
    }
    // Health probes come from load balancers and the image's HEALTHCHECK: always answered.
    const health = await get("/healthz");
    expect([health.status, await health.text()]).toEqual([200, "ok\n"]);
    const event = await r.waitFor((e) => e.type === "access_refused");
    expect(event).toMatchObject({
      type: "access_refused",
      listener: "metrics",
      reason: "allow_from",
      detail: "not in --allow-from 10.0.0.0/8",
    });
    // The metric, read from a registry here (the port itself refuses us).
    const registry = new Registry();
    registerNetMetrics(registry, r.relay.access);
    const text = await registry.metrics();
    expect(text).toContain(
      'bun_relay_access_refused_total{listener="metrics",reason="allow_from"} 4\n',
    );
    expect(text).toContain(
      'bun_relay_access_refused_total{listener="publisher",reason="allow_from"} 0\n',
    );
  });

  test("an address inside it is served", async () => {
    const r = start({ allowFrom: ["127.0.0.1/32"] });
    serve(r);
    expect((await get("/varz")).status).toBe(200);
    expect(r.relay.access.counters.refused.size).toBe(0);
  });
});
