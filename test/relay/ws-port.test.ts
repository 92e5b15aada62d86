/**
 * The WebSocket port (`--ws-port`, src/relay/ws-port.ts) with nats.js `wsconnect`, the client
 * a browser uses: publish/subscribe, wildcards, request/reply, auth and permissions, the same
 * rules as the TCP NATS port; and traffic across transports (TCP NATS, WebSocket, line port).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";
import { closeOf, relayPerTest } from "../support/harness.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();
const WS_ONLY = { wsPort: 0, pubPort: undefined, subPort: undefined } as const;

function wsUrl(port: number | undefined, scheme = "ws"): string {
  return `${scheme}://127.0.0.1:${port}`;
}

/** Collects `count` messages of `sub` as text. */
async function take(sub: AsyncIterable<{ string(): string }>, count: number): Promise<string[]> {
  const got: string[] = [];
  for await (const msg of sub) {
    got.push(msg.string());
    if (got.length === count) break;
  }
  return got;
}

describe("nats.js wsconnect against --ws-port", () => {
  test("publishes and subscribes, with wildcards, on any path", async () => {
    const r = start(WS_ONLY);
    const nc = await wsconnect({ servers: `${wsUrl(r.relay.wsPort)}/any/path` });
    const exact = nc.subscribe("a.b", { max: 1 });
    const star = nc.subscribe("a.*", { max: 2 });
    const tail = nc.subscribe("a.>", { max: 3 });
    nc.publish("a.b", "one");
    nc.publish("a.c", "two");
    nc.publish("a.b.c", "three");
    expect(await take(exact, 1)).toEqual(["one"]);
    expect(await take(star, 2)).toEqual(["one", "two"]);
    expect(await take(tail, 3)).toEqual(["one", "two", "three"]);
    await nc.close();
    await r.waitFor(closeOf("ws-client", "peer_closed"));
  });

  test("request/reply between two WebSocket clients, and no responders", async () => {
    const r = start(WS_ONLY);
    const server = await wsconnect({ servers: wsUrl(r.relay.wsPort) });
    const client = await wsconnect({ servers: wsUrl(r.relay.wsPort) });
    server.subscribe("echo", {
      callback: (_, msg) => {
        msg.respond(`echo ${msg.string()}`);
      },
    });
    await server.flush();
    const reply = await client.request("echo", "hi", { timeout: 2000 });
    expect(reply.string()).toBe("echo hi");
    const none = await client.request("nobody", "x", { timeout: 2000 }).then(
      () => "answered",
      (error: Error) => String(error.message),
    );
    expect(none).toContain("no responders");
    await Promise.all([server.close(), client.close()]);
  });

  test("a wrong password is refused with the same -ERR and close reason as TCP", async () => {
    const r = start({ ...WS_ONLY, user: "u", pass: "p" });
    const refused = await wsconnect({
      servers: wsUrl(r.relay.wsPort),
      user: "u",
      pass: "wrong",
      reconnect: false,
    }).then(
      () => "connected",
      (error: Error) => error.message,
    );
    expect(refused).toContain("Authorization Violation");
    await r.waitFor(closeOf("ws-client", "auth_failed"));
    expect(r.relay.hub.counters.authFailures).toBe(1);
    const nc = await wsconnect({ servers: wsUrl(r.relay.wsPort), user: "u", pass: "p" });
    await nc.flush();
    await nc.close();
  });

  test("--users-file permissions apply to WebSocket clients", async () => {
    const dir = await Bun.$`mktemp -d`.text();
    const usersFile = `${dir.trim()}/users.toml`;
    await Bun.write(
      usersFile,
      [
        "[[users]]",
        'user = "reader"',
        'password = "r"',
        "[users.permissions.publish]",
        'allow = ["public.>"]',
        "[users.permissions.subscribe]",
        'allow = ["public.>"]',
        "",
      ].join("\n"),
    );
    const r = start({ ...WS_ONLY, usersFile });
    const errors: string[] = [];
    const nc = await wsconnect({ servers: wsUrl(r.relay.wsPort), user: "reader", pass: "r" });
    (async () => {
      for await (const status of nc.status()) {
        if (status.type === "error") errors.push(String(status.error));
      }
    })();
    const sub = nc.subscribe("public.news", { max: 1 });
    nc.publish("secret.plans", "no");
    nc.publish("public.news", "yes");
    expect(await take(sub, 1)).toEqual(["yes"]);
    await nc.flush();
    expect(errors.join("\n")).toContain('Permissions Violation for Publish to "secret.plans"');
    await nc.close();
  });
});

describe("--ws-compression", () => {
  test("a client offering permessage-deflate gets the same messages", async () => {
    const r = start({ ...WS_ONLY, wsCompression: true });
    const nc = await wsconnect({ servers: wsUrl(r.relay.wsPort) });
    const sub = nc.subscribe("z", { max: 2 });
    nc.publish("z", "a".repeat(4096));
    nc.publish("z", "small");
    expect(await take(sub, 2)).toEqual(["a".repeat(4096), "small"]);
    await nc.close();
  });
});

describe("across transports", () => {
  test("TCP NATS -> WebSocket, WebSocket -> TCP NATS, line port -> WebSocket", async () => {
    const r = start({ natsPort: 0, wsPort: 0, subject: "lines" });
    const ws = await wsconnect({ servers: wsUrl(r.relay.wsPort) });
    const tcp = await connect({ port: r.relay.natsPort as number });
    const wsSub = ws.subscribe("to.ws", { max: 1 });
    const linesSub = ws.subscribe("lines", { max: 3 });
    const tcpSub = tcp.subscribe("to.tcp", { max: 1 });
    await Promise.all([ws.flush(), tcp.flush()]);
    tcp.publish("to.ws", "from tcp");
    ws.publish("to.tcp", "from ws");
    expect(await take(wsSub, 1)).toEqual(["from tcp"]);
    expect(await take(tcpSub, 1)).toEqual(["from ws"]);
    const publisher = await Bun.connect({
      hostname: "127.0.0.1",
      port: r.relay.pubPort,
      socket: { data() {} },
    });
    publisher.write("first\nsecond\nthird\n");
    expect(await take(linesSub, 3)).toEqual(["first", "second", "third"]);
    publisher.end();
    await Promise.all([ws.close(), tcp.close()]);
  });
});

describe("wss", () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  afterAll(() => certs.remove());

  test("--tls-cert makes the WebSocket port wss; INFO says tls_required", async () => {
    const r = start({ ...WS_ONLY, tlsCert: certs.serverCert, tlsKey: certs.serverKey });
    const nc: NatsConnection = await wsconnect({
      servers: wsUrl(r.relay.wsPort, "wss"),
      wsFactory: wssFactory({ ca: certs.read(certs.caCert) }),
    });
    expect(nc.info?.tls_required).toBe(true);
    const sub = nc.subscribe("secure", { max: 1 });
    nc.publish("secure", "over wss");
    expect(await take(sub, 1)).toEqual(["over wss"]);
    await nc.close();
  });

  test("--tls-client-ca: wss needs a client certificate from the CA", async () => {
    const r = start({
      ...WS_ONLY,
      tlsCert: certs.serverCert,
      tlsKey: certs.serverKey,
      tlsClientCa: certs.caCert,
    });
    const ca = certs.read(certs.caCert);
    const url = wsUrl(r.relay.wsPort, "wss");
    const without = await wsconnect({
      servers: url,
      wsFactory: wssFactory({ ca }),
      reconnect: false,
      timeout: 2000,
    }).then(
      async (nc) => {
        await nc.close();
        return "connected";
      },
      () => "refused",
    );
    expect(without).toBe("refused");
    const nc = await wsconnect({
      servers: url,
      wsFactory: wssFactory({
        ca,
        cert: certs.read(certs.clientCert),
        key: certs.read(certs.clientKey),
      }),
    });
    await nc.flush();
    await nc.close();
  });
});

/** nats.js over Bun's WebSocket with TLS options (a Bun-only constructor option). */
function wssFactory(tls: { ca: string; cert?: string; key?: string }) {
  return async (url: string) => ({
    socket: new WebSocket(url, { tls } as unknown as string[]),
    encrypted: true,
  });
}
