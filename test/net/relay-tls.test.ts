/**
 * The relay with TLS, mutual TLS and --allow-from on both ports (issue 14): exact bytes over
 * TLS, each refusal with its reason and counters, a TLS client on a plaintext relay port, the
 * metrics (promtool-clean), and the command line as users run it: env vars, --metrics-tls,
 * SIGHUP reloading the certificate while a publisher and a subscriber stay connected, a bad
 * new certificate keeping the old one, and one-line errors for bad files.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG, type RelayConfig } from "../../src/cli/config.ts";
import { createMetricsRegistry } from "../../src/metrics/registry.ts";
import { NetAccess } from "../../src/net/access.ts";
import { registerNetMetrics } from "../../src/net/net-metrics.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { Relay } from "../../src/relay/server.ts";
import { ChildLines, relayProcesses } from "../support/child.ts";
import { parseExposition, sampleValue } from "../support/exposition.ts";
import { numberedLines } from "../support/harness.ts";
import { makeTestCerts, type TestCerts } from "./certs.ts";
import { type TlsClientOptions, TlsTestClient, until } from "./tls-client.ts";

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

const relays: Relay[] = [];
const clients: TlsTestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) if (client.isOpen) client.terminate();
  for (const relay of relays.splice(0)) await relay.shutdown(0);
});

interface Started {
  relay: Relay;
  events: RelayEvent[];
}

function startRelay(overrides: Partial<RelayConfig>): Started {
  const events: RelayEvent[] = [];
  const config: RelayConfig = {
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    pubPort: 0,
    subPort: 0,
    statsInterval: 0,
    ...overrides,
  };
  const access = NetAccess.load(config, (event) => events.push(event));
  const relay = new Relay(config, (event) => events.push(event), access);
  relays.push(relay);
  return { relay, events };
}

async function connect(options: TlsClientOptions): Promise<TlsTestClient> {
  const client = await TlsTestClient.connect(options);
  clients.push(client);
  return client;
}

const opens = (events: RelayEvent[], side: string) =>
  events.filter((e) => e.type === "open" && e.side === side).length;

function tls(): Partial<RelayConfig> {
  return { tlsCert: certs.serverCert, tlsKey: certs.serverKey };
}

describe("the relay over TLS", () => {
  test("pub/sub on both TLS ports: every subscriber gets exactly the bytes published", async () => {
    const { relay, events } = startRelay(tls());
    const ca = certs.read(certs.caCert);
    const subscribers = await Promise.all(
      [1, 2, 3].map(() => connect({ port: relay.subPort, ca })),
    );
    await until(() => opens(events, "subscriber") === 3, 5000, "three subscribers");
    const publisher = await connect({ port: relay.pubPort, ca });
    expect(publisher.handshake).toMatchObject({ ok: true, version: "TLSv1.3" });
    const payload = numberedLines(20_000, 64); // 1.28 MB in 64-byte lines
    await publisher.write(payload);
    for (const subscriber of subscribers) await subscriber.waitForBytes(payload.length);
    for (const subscriber of subscribers) {
      expect(subscriber.received).toBe(payload.length);
      expect(Bun.hash(subscriber.bytes())).toBe(Bun.hash(payload));
    }
    expect(relay.totals().messagesReceived).toBe(20_000);
    expect(relay.totals().messagesSent).toBe(60_000);
  });

  test("mutual TLS: a client certificate from the CA publishes; none, another CA's or an expired one never opens", async () => {
    const { relay, events } = startRelay({ ...tls(), tlsClientCa: certs.caCert });
    const ca = certs.read(certs.caCert);
    const withCert = (cert: string, key: string) => ({
      ca,
      cert: certs.read(cert),
      key: certs.read(key),
    });
    const subscriber = await connect({
      port: relay.subPort,
      ...withCert(certs.clientCert, certs.clientKey),
    });
    await until(() => opens(events, "subscriber") === 1, 5000, "the subscriber");
    const refused = [
      await connect({ port: relay.pubPort, ca }),
      await connect({
        port: relay.pubPort,
        ...withCert(certs.otherClientCert, certs.otherClientKey),
      }),
      await connect({
        port: relay.pubPort,
        ...withCert(certs.expiredClientCert, certs.expiredClientKey),
      }),
    ];
    for (const client of refused) {
      await client.write("intruder\n");
      await client.closed;
    }
    const publisher = await connect({
      port: relay.pubPort,
      ...withCert(certs.clientCert, certs.clientKey),
    });
    await publisher.write("authorized\n");
    await subscriber.waitForBytes("authorized\n".length);
    expect(subscriber.text).toBe("authorized\n");
    expect(opens(events, "publisher")).toBe(1);
    const counters = relay.access.counters;
    expect(
      ["no_cert", "unknown_ca", "expired"].map((reason) =>
        counters.get(counters.handshakeFailures, "publisher", reason),
      ),
    ).toEqual([1, 1, 1]);
    const failed = events.filter((e) => e.type === "tls_handshake_failed");
    expect(failed.map((e) => (e as { reason: string }).reason).sort()).toEqual([
      "expired",
      "no_cert",
      "unknown_ca",
    ]);
  });

  test("a plaintext client on a TLS port is closed (not_tls); the others go on", async () => {
    const { relay, events } = startRelay(tls());
    const ca = certs.read(certs.caCert);
    const subscriber = await connect({ port: relay.subPort, ca });
    const publisher = await connect({ port: relay.pubPort, ca });
    const plain = await connect({ port: relay.pubPort, plain: true });
    await plain.write("plaintext message\n");
    await plain.closed;
    await until(() => opens(events, "subscriber") === 1, 5000, "the subscriber");
    await publisher.write("over tls\n");
    await subscriber.waitForBytes(9);
    expect(subscriber.text).toBe("over tls\n");
    expect(
      relay.access.counters.get(relay.access.counters.handshakeFailures, "publisher", "not_tls"),
    ).toBe(1);
    expect(opens(events, "publisher")).toBe(1);
  });
});

describe("plaintext relay ports", () => {
  test("a TLS client is closed at its ClientHello (reason=tls_client); nothing of it is published", async () => {
    const { relay, events } = startRelay({});
    const subscriber = await connect({ port: relay.subPort, plain: true });
    const tlsPublisher = await connect({ port: relay.pubPort, ca: certs.read(certs.caCert) });
    expect(tlsPublisher.handshake?.ok).toBe(false);
    await tlsPublisher.closed;
    const tlsSubscriber = await connect({ port: relay.subPort, ca: certs.read(certs.caCert) });
    await tlsSubscriber.closed;
    const publisher = await connect({ port: relay.pubPort, plain: true });
    await publisher.write("plain\n");
    await subscriber.waitForBytes(6);
    expect(subscriber.text).toBe("plain\n");
    const closes = events.filter((e) => e.type === "close" && e.reason === "tls_client");
    expect(closes.map((e) => (e as { side: string }).side).sort()).toEqual([
      "publisher",
      "subscriber",
    ]);
    expect(closes[0]).toMatchObject({
      detail: "a TLS ClientHello on a plaintext port: this port has no --tls-cert",
    });
    expect(relay.totals().messagesReceived).toBe(1);
  });
});

describe("--allow-from on the relay", () => {
  test("a peer outside the ranges never opens; one inside publishes", async () => {
    const { relay, events } = startRelay({ allowFrom: ["127.0.0.1/32", "::1"] });
    const subscriber = await connect({ port: relay.subPort, plain: true });
    const outsider = await connect({ port: relay.pubPort, plain: true, localAddress: "127.0.0.2" });
    await outsider.write("from outside\n");
    await outsider.closed;
    const publisher = await connect({ port: relay.pubPort, plain: true });
    await publisher.write("from inside\n");
    await subscriber.waitForBytes(12);
    expect(subscriber.text).toBe("from inside\n");
    expect(opens(events, "publisher")).toBe(1);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "access_refused",
        listener: "publisher",
        reason: "allow_from",
      }),
    );
    expect(
      relay.access.counters.get(relay.access.counters.refused, "publisher", "allow_from"),
    ).toBe(1);
  });
});

describe("metrics", () => {
  test("handshake failures, refusals, reloads and the certificate's expiry; promtool-clean", async () => {
    const { relay } = startRelay({ ...tls(), tlsClientCa: certs.caCert, allowFrom: ["127.0.0.1"] });
    const registry = createMetricsRegistry(relay, { defaultMetrics: false });
    registerNetMetrics(registry, relay.access);
    const ca = certs.read(certs.caCert);
    const noCert = await connect({ port: relay.pubPort, ca });
    await noCert.write("x\n");
    await noCert.closed;
    const outsider = await connect({ port: relay.subPort, ca, localAddress: "127.0.0.2" });
    await outsider.closed;
    const good = await connect({
      port: relay.subPort,
      ca,
      cert: certs.read(certs.clientCert),
      key: certs.read(certs.clientKey),
    });
    expect(good.handshake?.ok).toBe(true);
    await until(() => relay.subscriberCount === 1, 5000, "the subscriber");
    relay.access.reload();

    const text = await registry.metrics();
    const families = parseExposition(text);
    const value = (name: string, labels: Record<string, string>) =>
      sampleValue(families, `bun_relay_${name}`, labels);
    expect(
      value("tls_handshake_failures_total", { listener: "publisher", reason: "no_cert" }),
    ).toBe(1);
    expect(
      value("tls_handshake_failures_total", { listener: "subscriber", reason: "no_cert" }),
    ).toBe(0);
    expect(value("tls_handshakes_total", { listener: "subscriber" })).toBe(1);
    expect(value("access_refused_total", { listener: "subscriber", reason: "allow_from" })).toBe(1);
    expect(value("access_refused_total", { listener: "publisher", reason: "tls_client" })).toBe(0);
    expect(value("config_reloads_total", { result: "ok" })).toBe(1);
    const expiry = value("tls_certificate_expiry_timestamp_seconds", {}) as number;
    expect(expiry).toBe(
      Math.floor((relay.access.tls as { notAfter: Date }).notAfter.getTime() / 1000),
    );

    const promtool = Bun.which("promtool");
    if (promtool) {
      const child = Bun.spawn([promtool, "check", "metrics"], {
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
    }
  });
});

describe("the command line", () => {
  const spawn = relayProcesses();

  async function runToExit(args: string[]): Promise<{ code: number; stderr: string }> {
    const child = spawn(args);
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    return { code, stderr };
  }

  test.each([
    [
      ["--tls-cert", "/nonexistent.crt", "--tls-key", "/nonexistent.key"],
      "bun-relay: --tls-cert /nonexistent.crt: cannot read the file (ENOENT)",
    ],
    [["--tls-cert", "CERT"], "bun-relay: --tls-cert needs --tls-key"],
    [
      ["--tls-client-ca", "CERT"],
      "bun-relay: --tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)",
    ],
    [
      ["--allow-from", "10.0.0.0/33"],
      "bun-relay: --allow-from: '10.0.0.0/33': the prefix length must be 0 to 32",
    ],
    [
      ["--tls-cert", "CERT", "--tls-key", "OTHERKEY"],
      "does not match the certificate in --tls-cert",
    ],
    [["--metrics-tls"], "bun-relay: --metrics-tls needs --metrics-port, --tls-cert and --tls-key"],
  ])("%p: exit 2 with one line", async (args, message) => {
    const real = args.map((arg) =>
      arg === "CERT" ? certs.serverCert : arg === "OTHERKEY" ? certs.clientKey : arg,
    );
    const { code, stderr } = await runToExit(["--host", "127.0.0.1", "0", "0", ...real]);
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toContain(message);
    expect(stderr.split("\n")[0]).toStartWith("bun-relay: ");
  });

  test("--help lists the access flags with their environment variables", async () => {
    const child = spawn(["--help"]);
    const text = await new Response(child.stdout).text();
    for (const env of [
      "RELAY_TLS_CERT",
      "RELAY_TLS_KEY",
      "RELAY_TLS_CLIENT_CA",
      "RELAY_ALLOW_FROM",
      "RELAY_ALLOW_FROM_FILE",
      "RELAY_HANDSHAKE_TIMEOUT",
      "RELAY_METRICS_TLS",
    ]) {
      expect(text).toContain(`env ${env})`);
    }
  });

  test("SIGHUP reloads the certificate and allow-list with a publisher and a subscriber connected; a bad file keeps the old one", async () => {
    const cert = join(certs.dir, "hup.crt");
    const key = join(certs.dir, "hup.key");
    const allow = join(certs.dir, "hup-allow.txt");
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    writeFileSync(allow, "127.0.0.1\n");
    const child = spawn(
      ["--host", "127.0.0.1", "0", "0", "--tls-key", key, "--allow-from-file", allow].concat([
        "--metrics-port",
        "0",
        "--metrics-tls",
        "--stats-interval",
        "0",
      ]),
      { RELAY_TLS_CERT: cert },
    );
    const lines = new ChildLines(child.stdout);
    const pubPort = Number((await lines.match(/LISTEN publishers on 127\.0\.0\.1:(\d+)/))[1]);
    const subPort = Number((await lines.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
    await lines.waitFor(/ACCESS TLS on: certificate CN=localhost.*--allow-from 127\.0\.0\.1/);
    const metricsUrl = (
      await lines.match(/LISTEN metrics on (https:\/\/127\.0\.0\.1:\d+\/metrics)/)
    )[1] as string;
    const ca = certs.read(certs.caCert);

    const curl = async () => {
      const run = Bun.spawn(
        ["curl", "-sS", "-v", "--max-time", "5", "--cacert", certs.caCert, "--resolve"]
          .concat([`localhost:${new URL(metricsUrl).port}:127.0.0.1`])
          .concat([metricsUrl.replace("127.0.0.1", "localhost")]),
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, err] = await Promise.all([
        new Response(run.stdout).text(),
        new Response(run.stderr).text(),
      ]);
      return { out, err };
    };
    const before = await curl();
    expect(before.out).toContain("bun_relay_tls_handshakes_total");
    expect(before.err).toMatch(/subject: CN ?= ?localhost/);

    const subscriber = await connect({ port: subPort, ca });
    const publisher = await connect({ port: pubPort, ca });
    expect(subscriber.handshake?.peerName).toBe("localhost");
    await lines.waitFor(/OPEN subscriber/);
    await publisher.write("before\n");
    await subscriber.waitForBytes(7);

    copyFileSync(certs.server2Cert, cert);
    copyFileSync(certs.server2Key, key);
    writeFileSync(allow, "127.0.0.1\n127.0.0.2\n");
    child.kill("SIGHUP");
    await lines.waitFor(/RELOAD certificate CN=reloaded.*--allow-from 127\.0\.0\.1,127\.0\.0\.2/);

    await publisher.write("after\n");
    await subscriber.waitForBytes(13);
    expect(subscriber.text).toBe("before\nafter\n");
    const fresh = await connect({ port: subPort, ca, localAddress: "127.0.0.2" });
    expect(fresh.handshake).toMatchObject({ ok: true, peerName: "reloaded" });
    const after = await curl();
    expect(after.err).toMatch(/subject: CN ?= ?reloaded/);
    expect(after.out).toContain('bun_relay_config_reloads_total{result="ok"} 1');

    writeFileSync(cert, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    child.kill("SIGHUP");
    await lines.waitFor(
      /RELOAD failed: --tls-cert .*hup\.crt: certificate 1 is not a valid PEM certificate.*; keeping the previous configuration/,
    );
    await publisher.write("still\n");
    await subscriber.waitForBytes(19);
    await fresh.waitForBytes(6);
    expect(subscriber.text).toBe("before\nafter\nstill\n");
    const third = await connect({ port: pubPort, ca });
    expect(third.handshake).toMatchObject({ ok: true, peerName: "reloaded" });
    expect(child.exitCode).toBeNull();
  });
});
