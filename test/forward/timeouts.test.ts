import { describe, expect, test } from "bun:test";
import { cleanupAfterEach, EchoServer, PipeClient } from "./forward-harness.ts";
import { startForwarder } from "./start.ts";

const cleanup = cleanupAfterEach();

describe("forward timeouts (short configured limits, measured on the close event)", () => {
  test("--idle-timeout closes a connection with no byte either way", async () => {
    const echo = new EchoServer();
    const { forwarder, log } = startForwarder([echo.port], { idleTimeout: 0.2 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const client = await PipeClient.connect(forwarder.port);
    await client.write("hi");
    await client.waitForBytes(2);
    const quietSince = performance.now();
    await client.ended;
    const silent = performance.now() - quietSince;
    const close = await log.waitFor("close");
    expect(close.reason).toBe("idle_timeout");
    expect(silent).toBeGreaterThanOrEqual(190);
    expect(silent).toBeLessThan(1000);
  });

  test("traffic keeps a connection past --idle-timeout", async () => {
    const echo = new EchoServer();
    const { forwarder, log } = startForwarder([echo.port], { idleTimeout: 0.3 });
    cleanup.push(
      () => echo.stop(),
      () => forwarder.stop(),
    );
    const client = await PipeClient.connect(forwarder.port);
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < 700) {
      await client.write("x");
      sent++;
      await client.waitForBytes(sent);
      await Bun.sleep(50); // pacing the traffic is the point of this test
    }
    expect(log.closes()).toHaveLength(0);
    client.halfClose();
    await client.closed;
    expect((await log.waitFor("close")).reason).toBe("peer_closed");
  });

  test("--half-close-timeout closes when one side finished and the other stays silent", async () => {
    // An upstream that reads but never answers and never closes.
    const upstream = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      allowHalfOpen: true,
      socket: { data() {}, end() {} },
    });
    const { forwarder, log } = startForwarder([upstream.port], {
      idleTimeout: 60,
      halfCloseTimeout: 0.2,
    });
    cleanup.push(
      () => upstream.stop(true),
      () => forwarder.stop(),
    );
    const client = await PipeClient.connect(forwarder.port);
    await client.write("request");
    client.halfClose();
    const halfClosedAt = performance.now();
    await client.closed;
    const waited = performance.now() - halfClosedAt;
    const close = await log.waitFor("close");
    expect(close.reason).toBe("half_close_timeout");
    expect(close.bytesUp).toBe(7);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(1000);
  });
});
