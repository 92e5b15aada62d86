/**
 * forward's closes on our initiative (shutdown, timeouts: one path, Pipe.close) are the graceful close of src/net:
 * a client that reads slowly and keeps sending gets what the kernel held for it, then FIN,
 * never a reset. What still waited in the forwarder's own outbox is dropped, as documented.
 */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../support/harness.ts";
import { cleanupAfterEach, EchoServer } from "./forward-harness.ts";
import { startForwarder } from "./start.ts";

const cleanup = cleanupAfterEach();

describe("forward: graceful close", () => {
  test("stop() mid-download: a chatty, slow client reads what the kernel holds, then FIN", async () => {
    const upstream = new EchoServer({ greeting: "x".repeat(3 * 1024 * 1024) });
    const { forwarder, log } = startForwarder([upstream.port]);
    cleanup.push(() => upstream.stop());
    const client = await TestClient.connect(forwarder.port, { trickleMs: 15, chattyMs: 5 });
    await client.waitForBytes(64 * 1024);
    forwarder.stop();
    expect(await client.closed).toBeUndefined(); // FIN, not ECONNRESET
    expect(client.receivedBytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(/^x+$/.test(client.text())).toBe(true);
    expect((await log.waitFor("close")).reason).toBe("shutdown");
  });
});
