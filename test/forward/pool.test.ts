import { describe, expect, test } from "bun:test";
import type { UpstreamPool } from "../../src/forward/pool.ts";
import { FIRST_BACKOFF_MS, type Target } from "../../src/forward/targets.ts";
import {
  cleanupAfterEach,
  closedPort,
  EchoServer,
  PipeClient,
  roundTrip,
} from "./forward-harness.ts";
import { startForwarder } from "./start.ts";

const cleanup = cleanupAfterEach();

/** Resolves once the pool holds `count` idle sockets (the pool has no event of its own). */
async function idleReaches(pool: { idleCount: number }, count: number): Promise<void> {
  while (pool.idleCount !== count) await Bun.sleep(5);
}

/** Resolves once none of the pool's dials is under way (no event of its own either). */
async function dialsSettled(pool: { dialsInFlight: number }): Promise<void> {
  while (pool.dialsInFlight > 0) await Bun.sleep(5);
}

describe("forward --pool", () => {
  test("pre-dials N sockets before any client and hands a warm one to a client", async () => {
    const echo = new EchoServer();
    const { forwarder, log } = startForwarder([echo.port], { pool: 2 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    await echo.waitForAccepted(2);
    const pool = forwarder.pools[0];
    await idleReaches(pool as { idleCount: number }, 2);
    const client = await roundTrip(forwarder.port, "warm");
    expect(client.text()).toBe("warm");
    expect((await log.waitFor("open")).pooled).toBe(true);
    // The hand-out was refilled in the background: one more upstream connection.
    await echo.waitForAccepted(3);
    expect(pool?.counters).toMatchObject({ hits: 1, misses: 0 });
  });

  test("never reuses a socket: the used one closes, the pool stays at N fresh ones", async () => {
    const echo = new EchoServer();
    const { forwarder } = startForwarder([echo.port], { pool: 1 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const pool = forwarder.pools[0] as { idleCount: number };
    for (let i = 1; i <= 3; i++) {
      await idleReaches(pool, 1);
      expect((await roundTrip(forwarder.port, `n${i}`)).text()).toBe(`n${i}`);
    }
    await echo.waitForAccepted(4);
    await idleReaches(pool, 1);
    expect(echo.sockets.size).toBe(1); // only the idle one is still open upstream
    expect(forwarder.pools[0]?.counters.hits).toBe(3);
  });

  test("replaces pooled sockets that the upstream closes", async () => {
    const echo = new EchoServer();
    const { forwarder } = startForwarder([echo.port], { pool: 2 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const pool = forwarder.pools[0];
    await idleReaches(pool as { idleCount: number }, 2);
    echo.resetAll();
    await echo.waitForAccepted(4);
    await idleReaches(pool as { idleCount: number }, 2);
    expect(pool?.counters.replaced).toBe(2);
    expect((await roundTrip(forwarder.port, "after")).text()).toBe("after");
  });

  test("replaces pooled sockets older than --pool-idle-ttl", async () => {
    const echo = new EchoServer();
    const { forwarder } = startForwarder([echo.port], { pool: 1, poolIdleTtl: 0.1 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    await echo.waitForAccepted(3); // the first one, then two generations of replacements
    expect(forwarder.pools[0]?.counters.replaced).toBeGreaterThanOrEqual(2);
    expect(echo.sockets.size).toBeLessThanOrEqual(2);
  });

  test("delivers what the upstream sent before the client arrived (a greeting)", async () => {
    const echo = new EchoServer({ greeting: "220 ready\r\n" });
    const { forwarder } = startForwarder([echo.port], { pool: 1 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    await idleReaches(forwarder.pools[0] as { idleCount: number }, 1);
    const client = await PipeClient.connect(forwarder.port);
    await client.waitForBytes(11);
    await client.write("HELO\r\n");
    client.halfClose();
    await client.closed;
    expect(client.text()).toBe("220 ready\r\nHELO\r\n");
  });

  test("N parallel dials to a dead target are one failure: one TARGET_DOWN, the first backoff", async () => {
    const dead = closedPort();
    const echo = new EchoServer();
    const { forwarder, log } = startForwarder([dead, echo.port], { pool: 8 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const [deadPool, livePool] = forwarder.pools as [UpstreamPool, UpstreamPool];
    const down = await log.waitFor("target_down");
    await dialsSettled(deadPool); // all 8 refused: the whole first round is in
    expect(down).toMatchObject({ target: `127.0.0.1:${dead}`, retryInSeconds: 1 });
    expect(log.events.filter((e) => e.type === "target_down")).toHaveLength(1);
    const target = forwarder.targets.targets[0] as Target;
    expect(target.failures).toBe(1);
    expect(target.downUntil - target.lastFailureAt).toBeCloseTo(FIRST_BACKOFF_MS, 6);
    // The live target is untouched and its pool fills.
    await idleReaches(livePool, 8);
    expect(forwarder.targets.targets[1]?.failures).toBe(0);
  });
});
