/**
 * The SDK's `tls` option against the real relay listening with TLS (`--tls-cert`, `--tls-key`,
 * and `--tls-client-ca` for mutual TLS), on ephemeral ports: exact bytes from a publisher to a
 * subscriber, both over TLS, on frame ports with a token and on line ports; a failed handshake
 * (the client's certificate refused, or the relay's not trusted) rejects `connect` with
 * CLIENT_ERR_CONNECT. Certificates are made with openssl in a temporary directory
 * (test/net/certs.ts), never committed.
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  setDefaultTimeout,
  test,
} from "bun:test";
import type { RelayConfig } from "../../src/cli/config.ts";
import {
  ClientErrorCode,
  type ClientTlsOptions,
  connect,
  type Publisher,
  type Subscriber,
} from "../../src/client/index.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";
import { TestRelay } from "../support/harness.ts";
import { rejection } from "./client-support.ts";

setDefaultTimeout(10_000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

let current: TestRelay | undefined;
const clients: (Publisher | Subscriber)[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await current?.relay.shutdown(0);
  current = undefined;
});

/** A relay in this process whose ports speak TLS with the test certificates. */
function startRelay(overrides: Partial<RelayConfig> = {}): TestRelay {
  current = new TestRelay({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, ...overrides });
  return current;
}

const subscriberOpen = (event: RelayEvent) => event.type === "open" && event.side === "subscriber";

/** Every byte value, newlines included: a frame payload, not a line. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe("the SDK over TLS", () => {
  test("mutual TLS plus --token, frame ports: the subscriber gets exactly the published bytes", async () => {
    const r = startRelay({
      tlsClientCa: certs.caCert,
      pubFraming: "frame",
      subFraming: "frame",
      token: "s3cret",
    });
    const tls: ClientTlsOptions = {
      ca: certs.read(certs.caCert),
      cert: certs.read(certs.clientCert),
      key: certs.read(certs.clientKey),
      serverName: "localhost",
    };
    const common = { framing: "frame", token: "s3cret", tls, reconnect: false } as const;
    const subscriber = await connect({ ...common, role: "subscriber", port: r.relay.subPort });
    clients.push(subscriber);
    await r.waitFor(subscriberOpen);
    const publisher = await connect({ ...common, role: "publisher", port: r.relay.pubPort });
    clients.push(publisher);

    const payloads = [
      new TextEncoder().encode("over TLS"),
      ALL_BYTES,
      new Uint8Array(100_000).fill(0x2a),
    ];
    await Promise.all(payloads.map((payload) => publisher.publish(payload)));

    const received: { id: string; payload: Uint8Array }[] = [];
    for await (const message of subscriber.messages({ withIds: true })) {
      received.push(message);
      if (received.length === payloads.length) break;
    }
    // The Conn took 00000001; the Submits are 00000002..00000004.
    expect(received.map((m) => m.id)).toEqual(["00000002", "00000003", "00000004"]);
    expect(received.map((m) => m.payload)).toEqual(payloads);
    expect(r.relay.totals()).toMatchObject({ authFailures: 0 });
    expect(r.events.filter((e) => e.type === "tls_handshake_failed")).toEqual([]);
  });

  test("server TLS only, line ports: lines arrive byte for byte", async () => {
    const r = startRelay();
    const tls: ClientTlsOptions = { ca: Bun.file(certs.caCert), serverName: "localhost" }; // a BunFile works too
    const subscriber = await connect({ role: "subscriber", port: r.relay.subPort, tls });
    clients.push(subscriber);
    await r.waitFor(subscriberOpen);
    const publisher = await connect({ role: "publisher", port: r.relay.pubPort, tls });
    clients.push(publisher);

    const lines = ["first", "déjà vu \u{1f512}", "x".repeat(70_000)];
    for (const line of lines) await publisher.publish(line);

    const decoder = new TextDecoder();
    const received: string[] = [];
    for await (const payload of subscriber) {
      received.push(decoder.decode(payload));
      if (received.length === lines.length) break;
    }
    expect(received).toEqual(lines);
  });

  test("without a token, connect waits for the handshake: a relay certificate from an untrusted CA fails it", async () => {
    const r = startRelay();
    const error = await rejection(
      connect({
        role: "subscriber",
        port: r.relay.subPort,
        // The relay's certificate is signed by certs.caCert, not by this CA.
        tls: { ca: certs.read(certs.otherCaCert), serverName: "localhost" },
        reconnect: false,
      }),
    );
    expect(error.code).toBe(ClientErrorCode.Connect);
    expect(error.reason).toStartWith("TLS handshake failed: ");
    expect(r.relay.subscriberCount).toBe(0);
  });

  test("with a token, a client refused in the TLS handshake fails connect with CLIENT_ERR_CONNECT", async () => {
    const r = startRelay({
      tlsClientCa: certs.caCert,
      pubFraming: "frame",
      subFraming: "frame",
      token: "s3cret",
    });
    const error = await rejection(
      connect({
        role: "publisher",
        port: r.relay.pubPort,
        framing: "frame",
        token: "s3cret",
        tls: { ca: certs.read(certs.caCert), serverName: "localhost" }, // no client certificate
      }),
    );
    expect(error.code).toBe(ClientErrorCode.Connect);
    expect(error.reason).toContain("CERTIFICATE_REQUIRED");
    await r.waitFor((e) => e.type === "tls_handshake_failed" && e.reason === "no_cert");
  });
});
