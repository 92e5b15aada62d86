/**
 * The forwarder's guarantees, through the tunnel: --max-conns on both sides, the idle and
 * half-close timeouts, a target that refuses, and a graceful shutdown that lets open streams
 * finish within --shutdown-timeout.
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach, onCleanup, until } from "../mux/support.ts";
import {
  EchoServer,
  freePort,
  PipeClient,
  patterned,
  startClient,
  startServer,
  startTunnel,
} from "./tunnel-harness.ts";

cleanupAfterEach();

describe("tunnel limits and timeouts", () => {
  test("client --max-conns: the client beyond the limit is closed with max_conns", async () => {
    const { client, clientLog } = await startTunnel({}, { client: { maxConns: 2 } });
    const first = await PipeClient.connect(client.port);
    const second = await PipeClient.connect(client.port);
    await until(() => client.table.totals.opened === 2, "two open");
    const third = await PipeClient.connect(client.port);
    await third.ended;
    const refused = await clientLog.waitFor("close", (c) => c.reason === "max_conns");
    expect(refused.detail).toBe("--max-conns 2 reached");
    expect(client.table.totals.refused).toBe(1);
    first.end();
    second.end();
  });

  test("server --max-conns: the stream beyond the limit is closed at once (smux cannot refuse a SYN)", async () => {
    const { client, server, serverLog } = await startTunnel({}, { server: { maxConns: 1 } });
    const first = await PipeClient.connect(client.port);
    await first.write("a");
    await first.waitForBytes(1);
    const second = await PipeClient.connect(client.port);
    await second.write("b");
    await second.ended; // the stream's FIN, passed on as the TCP client's FIN
    expect(second.receivedBytes).toBe(0);
    const refused = await serverLog.waitFor("close", (c) => c.reason === "max_conns");
    expect(refused.client).toMatch(/session \d+ stream \d+$/);
    expect(server.table.totals.refused).toBe(1);
    first.end();
  });

  test("server: --to refusing closes the stream with connect_failed, the client sees an end", async () => {
    const { server, log } = startServer(freePort());
    const { client } = await startClient(server.port);
    const tcp = await PipeClient.connect(client.port);
    await tcp.write("anyone there?");
    await tcp.ended;
    const close = await log.waitFor("close");
    expect(close.reason).toBe("connect_failed");
    expect(close.detail).toContain("ECONNREFUSED");
  });

  test("--idle-timeout closes a silent connection on the side that has it", async () => {
    const { client, clientLog } = await startTunnel({}, { client: { idleTimeout: 0.2 } });
    const tcp = await PipeClient.connect(client.port);
    await tcp.write("x");
    await tcp.waitForBytes(1);
    const started = performance.now();
    await tcp.ended;
    const close = await clientLog.waitFor("close");
    expect(close.reason).toBe("idle_timeout");
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  test("--half-close-timeout closes once one side finished and the other stays silent", async () => {
    // A target that reads everything and never answers nor closes.
    const silent = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      allowHalfOpen: true,
      socket: { data() {}, end() {}, error() {} },
    });
    onCleanup(() => silent.stop(true));
    const { server, log } = startServer(silent.port, {}, { halfCloseTimeout: 0.2 });
    const { client } = await startClient(server.port);
    const tcp = await PipeClient.connect(client.port);
    await tcp.write("done");
    tcp.halfClose();
    await tcp.ended;
    const close = await log.waitFor("close");
    expect(close.reason).toBe("half_close_timeout");
  });

  test("graceful shutdown: an open stream finishes, new clients are refused, the rest closed at the deadline", async () => {
    const echo = new EchoServer();
    onCleanup(() => echo.stop());
    const { server } = startServer(echo.port);
    const { client, log } = await startClient(server.port);
    const busy = await PipeClient.connect(client.port, { keep: false });
    const idle = await PipeClient.connect(client.port);
    await until(() => client.table.totals.opened === 2, "two open");
    const done = client.shutdown(0.5);
    const draining = await log.waitFor("draining");
    expect(draining).toMatchObject({ open: 2, graceSeconds: 0.5 });
    // The busy client still completes a transfer during the grace period.
    const data = patterned(4 * 1024 * 1024);
    await busy.write(data);
    await busy.waitForBytes(data.length);
    busy.halfClose();
    await busy.closed;
    const busyClose = await log.waitFor("close", (c) => c.bytesDown === data.length);
    expect(busyClose.reason).toBe("peer_closed");
    // A new client is no longer accepted.
    await expect(PipeClient.connect(client.port)).rejects.toThrow();
    await done;
    await idle.ended;
    const idleClose = await log.waitFor("close", (c) => c.reason === "shutdown");
    expect(idleClose.bytesUp).toBe(0);
    await log.waitFor("session_down");
    expect(client.sessions.live.size).toBe(0);
  });
});
