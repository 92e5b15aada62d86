/**
 * The NATS port under the relay's connection limits and counters: --max-conns answers as
 * nats-server does, and NATS clients are counted as such, not as line subscribers.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeOf, relayPerTest } from "../support/harness.ts";
import { RawNatsClient } from "./raw-client.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();

describe("NATS clients and the relay's limits", () => {
  test("over --max-conns: -ERR 'maximum connections exceeded', then FIN", async () => {
    const r = start({ natsPort: 0, maxConns: 1 });
    const first = await RawNatsClient.connect(r.relay.natsPort as number);
    await first.info();
    const second = await RawNatsClient.connect(r.relay.natsPort as number);
    await second.expect("-ERR 'maximum connections exceeded'\r\n");
    await second.expectClosed();
    await r.waitFor(closeOf("nats-client", "max_conns"));
    await first.expectOpen();
  });

  test("NATS clients are counted as nats clients; a wrong CONNECT or an operation before it is an auth failure", async () => {
    const r = start({ natsPort: 0, pubPort: undefined, subPort: undefined, token: "t" });
    const good = await RawNatsClient.connect(r.relay.natsPort as number);
    await good.info();
    good.send('CONNECT {"verbose":false,"auth_token":"t"}\r\nSUB a 1\r\nPING\r\n');
    await good.expect("PONG\r\n");
    const bad = await RawNatsClient.connect(r.relay.natsPort as number);
    await bad.info();
    bad.send('CONNECT {"auth_token":"x"}\r\n');
    await bad.expect("-ERR 'Authorization Violation'\r\n");
    await bad.expectClosed();
    const early = await RawNatsClient.connect(r.relay.natsPort as number);
    await early.info();
    early.send("PING\r\n"); // before the CONNECT the token requires
    await early.expect("-ERR 'Authorization Violation'\r\n");
    await early.expectClosed();
    await r.waitForCount(closeOf("nats-client", "auth_failed"), 2);
    expect(r.relay.totals()).toMatchObject({ subscribers: 0, authFailures: 2 });
    expect(r.relay.subscriberCount).toBe(0);
    expect(r.relay.natsClientCount).toBe(1);
    expect(r.relay.natsSubscriptionCount).toBe(1);
  });
});
