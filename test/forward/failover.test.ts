import { describe, expect, test } from "bun:test";
import {
  cleanupAfterEach,
  closedPort,
  EchoServer,
  PipeClient,
  roundTrip,
  unacceptedPort,
} from "./forward-harness.ts";
import { startForwarder } from "./start.ts";

const cleanup = cleanupAfterEach();

describe("forward targets", () => {
  test("an upstream that refuses closes the client with connect_failed", async () => {
    const refused = closedPort();
    const { forwarder, log } = startForwarder([refused]);
    cleanup.push(() => forwarder.stop());
    const client = await PipeClient.connect(forwarder.port);
    await client.ended; // FIN from the forwarder (the client is half-open capable)
    const close = await log.waitFor("close");
    expect(close.reason).toBe("connect_failed");
    expect(close.detail).toContain("ECONNREFUSED");
    expect(close.detail).toContain(`127.0.0.1:${refused}`);
    const down = await log.waitFor("target_down");
    expect(down).toMatchObject({ target: `127.0.0.1:${refused}`, retryInSeconds: 1 });
  });

  test("an upstream slow to accept hits --connect-timeout", async () => {
    const slow = await unacceptedPort();
    const { forwarder, log } = startForwarder([slow.port], { connectTimeout: 0.2 });
    cleanup.push(
      () => slow.close(),
      () => forwarder.stop(),
    );
    const started = performance.now();
    const client = await PipeClient.connect(forwarder.port);
    await client.ended;
    const elapsed = performance.now() - started;
    const close = await log.waitFor("close");
    expect(close.reason).toBe("connect_timeout");
    expect(close.detail).toContain("--connect-timeout 0.2s");
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
  });

  test("fails over to the second target when the first refuses, then skips the first", async () => {
    const echo = new EchoServer();
    const refused = closedPort();
    const { forwarder, log } = startForwarder([refused, echo.port]);
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const first = await roundTrip(forwarder.port, "one");
    expect(first.text()).toBe("one");
    expect((await log.waitFor("target_down")).target).toBe(`127.0.0.1:${refused}`);
    const second = await roundTrip(forwarder.port, "two");
    expect(second.text()).toBe("two");
    const opens = log.events.filter((e) => e.type === "open");
    expect(opens.map((e) => e.type === "open" && e.upstream)).toEqual([
      `127.0.0.1:${echo.port}`,
      `127.0.0.1:${echo.port}`,
    ]);
    // The refused target was tried once only: the second client went straight to the echo.
    expect(log.events.filter((e) => e.type === "target_down")).toHaveLength(1);
  });

  test("fails over when the first target times out", async () => {
    const echo = new EchoServer();
    const slow = await unacceptedPort();
    const { forwarder, log } = startForwarder([slow.port, echo.port], { connectTimeout: 0.2 });
    cleanup.push(
      () => slow.close(),
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const client = await roundTrip(forwarder.port, "hello");
    expect(client.text()).toBe("hello");
    expect((await log.waitFor("target_down")).reason).toContain("--connect-timeout");
  });

  test("a lone target that was down at start gets the next client as soon as it is back", async () => {
    // docker-compose order: the forwarder starts before its upstream.
    const port = closedPort();
    const { forwarder, log } = startForwarder([port]);
    cleanup.push(() => forwarder.stop());
    const first = await PipeClient.connect(forwarder.port);
    await first.ended;
    expect((await log.waitFor("close")).reason).toBe("connect_failed");
    await log.waitFor("target_down");
    const echo = new EchoServer({ port });
    cleanup.push(() => echo.stop());
    // Still in its 1 s backoff: being marked down must not turn the client away.
    expect(forwarder.targets.targets[0]?.isDown(performance.now())).toBe(true);
    const second = await roundTrip(forwarder.port, "back up");
    expect(second.text()).toBe("back up");
    expect(await log.waitFor("open")).toMatchObject({ id: 2, upstream: `127.0.0.1:${port}` });
    await log.waitFor("target_up");
    expect(forwarder.table.snapshot().refused).toBe(0);
  });

  test("with every target down, a client tries them all, and reaches the first one back", async () => {
    const ports = [closedPort(), closedPort()];
    const { forwarder, log } = startForwarder(ports);
    cleanup.push(() => forwarder.stop());
    const first = await PipeClient.connect(forwarder.port);
    await first.ended;
    const close = await log.waitFor("close");
    expect(close.reason).toBe("connect_failed");
    expect(close.detail).toContain("(after 2 targets)");
    const now = performance.now();
    expect(forwarder.targets.targets.map((target) => target.isDown(now))).toEqual([true, true]);
    // Both still refuse: the next client tries both again instead of being refused unseen.
    const second = await PipeClient.connect(forwarder.port);
    await second.ended;
    expect((await log.waitFor("close", (e) => e.id === 2)).reason).toBe("connect_failed");
    // They failed again, lengthening both backoffs, but were already down: one TARGET_DOWN
    // each, at the up -> down transition.
    expect(log.events.filter((e) => e.type === "target_down")).toHaveLength(2);
    expect(forwarder.targets.targets.map((target) => target.failures)).toEqual([2, 2]);
    // One comes back while both are in backoff; the next client reaches it at once.
    const echo = new EchoServer({ port: ports[1] });
    cleanup.push(() => echo.stop());
    const third = await roundTrip(forwarder.port, "hello");
    expect(third.text()).toBe("hello");
    expect(await log.waitFor("open")).toMatchObject({ id: 3, upstream: `127.0.0.1:${ports[1]}` });
    expect(forwarder.table.snapshot().refused).toBe(0);
  });

  test("round-robin alternates between healthy targets", async () => {
    const a = new EchoServer();
    const b = new EchoServer();
    const { forwarder } = startForwarder([a.port, b.port]);
    cleanup.push(
      () => a.stop(),
      () => b.stop(),
      () => forwarder.stop(),
    );
    for (let i = 0; i < 4; i++) await roundTrip(forwarder.port, "x");
    expect([a.accepted, b.accepted]).toEqual([2, 2]);
  });

  test("least-conn sends a new client to the target with fewer open connections", async () => {
    const a = new EchoServer();
    const b = new EchoServer();
    const { forwarder, log } = startForwarder([a.port, b.port], { balance: "least-conn" });
    cleanup.push(
      () => a.stop(),
      () => b.stop(),
      () => forwarder.stop(),
    );
    const held = await PipeClient.connect(forwarder.port); // stays open on a
    await held.write("x");
    await held.waitForBytes(1);
    for (let i = 0; i < 3; i++) await roundTrip(forwarder.port, "y");
    expect([a.accepted, b.accepted]).toEqual([1, 3]);
    held.halfClose();
    await held.closed;
    expect(log.closes()).toHaveLength(4);
  });

  test("--max-conns refuses clients beyond the limit", async () => {
    const echo = new EchoServer();
    const { forwarder, log } = startForwarder([echo.port], { maxConns: 1 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const held = await PipeClient.connect(forwarder.port);
    await held.write("x");
    await held.waitForBytes(1);
    const refused = await PipeClient.connect(forwarder.port);
    await refused.ended;
    const close = await log.waitFor("close");
    expect(close).toMatchObject({ reason: "max_conns", detail: "--max-conns 1 reached" });
    held.halfClose();
    await held.closed;
  });
});
