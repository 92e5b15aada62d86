/**
 * A NATS client that stops reading is a slow consumer like any other (the relay's policies,
 * counters and logs), and `stall` holds NATS publishers by not reading their sockets. The
 * clients are plain TCP clients (test/support TestClient) speaking the protocol by hand, so a
 * test can pause their reading and write megabytes with backpressure.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeOf, relayPerTest, TestClient, type TestRelay } from "../support/harness.ts";

setDefaultTimeout(20_000);
const start = relayPerTest();

/** Resolves once `predicate()` holds, checked after each event-loop turn. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A NATS client that sent CONNECT and `commands`, registered (its PONG has arrived). */
async function natsClient(
  r: TestRelay,
  commands: string,
): Promise<{ client: TestClient; greeting: number }> {
  const client = await TestClient.connect(r.relay.natsPort as number);
  await client.write(`CONNECT {"verbose":false}\r\n${commands}PING\r\n`);
  await until(() => client.text().includes("PONG\r\n"), "PONG");
  return { client, greeting: client.receivedBytes };
}

const PAYLOAD = "x".repeat(1024);
/** `count` PUBs of a 1 KiB payload to `subject`, as one string. */
const pubs = (subject: string, count: number): string =>
  `PUB ${subject} 1024\r\n${PAYLOAD}\r\n`.repeat(count);
/** Bytes of one delivery of such a PUB to sid 1 of `subject`. */
const delivery = (subject: string): number => `MSG ${subject} 1 1024\r\n`.length + 1024 + 2;

describe("NATS slow consumers", () => {
  test("disconnect: a client that does not read is cut at --max-pending, counted, and gets what the kernel held, then FIN", async () => {
    const r = start({ natsPort: 0, slowConsumer: "disconnect", maxPending: 256 * 1024 });
    const { client: stuck } = await natsClient(r, "SUB load 1\r\n");
    stuck.pause();
    const { client: publisher } = await natsClient(r, "");
    void publisher.write(pubs("load", 16 * 1024)); // 16 MiB: past loopback's buffers
    await until(() => r.relay.totals().slowConsumerDisconnects === 1, "the cut");
    stuck.resume();
    expect(await stuck.closed).toBeUndefined(); // FIN, not a reset
    const close = await r.waitFor(closeOf("nats-client", "slow_consumer"));
    expect(close.type === "close" && close.detail).toContain("over --max-pending 262144 B");
  });

  test("stall: publishers are held while a NATS subscriber is behind, then every message arrives", async () => {
    const r = start({ natsPort: 0, maxPending: 256 * 1024, stallTimeout: 10 });
    const { client: slow, greeting } = await natsClient(r, "SUB load 1\r\n");
    slow.pause();
    const { client: publisher } = await natsClient(r, "");
    const count = 8 * 1024; // 8 MiB
    const written = publisher.write(pubs("load", count));
    await until(() => r.relay.totals().publisherPauses > 0, "publishers held");
    slow.resume();
    await written;
    await slow.waitForBytes(greeting + count * delivery("load"));
    expect(r.relay.totals().slowConsumerDisconnects).toBe(0);
  });
});
