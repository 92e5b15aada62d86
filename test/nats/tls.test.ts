/**
 * The NATS port under --tls-cert: TLS from the first byte through the common listener, INFO
 * saying tls_required, and nats.js connecting with handshakeFirst (the way nats-server 2.10's
 * handshake_first works); a client that expects a plaintext INFO first cannot connect.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "@nats-io/transport-node";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";
import { relayPerTest } from "../support/harness.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();
let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

describe("NATS over TLS", () => {
  test("nats.js with handshakeFirst publishes and subscribes; INFO says tls_required", async () => {
    const r = start({ natsPort: 0, tlsCert: certs.serverCert, tlsKey: certs.serverKey });
    const nc = await connect({
      port: r.relay.natsPort as number,
      tls: { handshakeFirst: true, ca: certs.read(certs.caCert) },
    });
    expect(nc.info?.tls_required).toBe(true);
    const sub = nc.subscribe("secure", { max: 1 });
    nc.publish("secure", "over tls");
    for await (const msg of sub) expect(msg.string()).toBe("over tls");
    await nc.close();
  });

  test("a client that waits for a plaintext INFO first is not served", async () => {
    const r = start({ natsPort: 0, tlsCert: certs.serverCert, tlsKey: certs.serverKey });
    const outcome = await connect({
      port: r.relay.natsPort as number,
      tls: { ca: certs.read(certs.caCert) },
      timeout: 1000,
      reconnect: false,
    }).then(
      async (nc) => {
        await nc.close();
        return "connected";
      },
      () => "refused",
    );
    expect(outcome).toBe("refused");
  });
});
