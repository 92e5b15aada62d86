import { describe, expect, test } from "bun:test";
import type { Forwarder } from "../../src/forward/forwarder.ts";
import { cleanupAfterEach, EchoServer, PipeClient } from "../forward/forward-harness.ts";
import { startForwarder } from "../forward/start.ts";

const cleanup = cleanupAfterEach();

function setUp(overrides = {}): {
  echo: EchoServer;
  forwarder: Forwarder;
  log: ReturnType<typeof startForwarder>["log"];
} {
  const echo = new EchoServer();
  const { forwarder, log } = startForwarder([echo.port], overrides);
  cleanup.push(
    () => echo.stop(),
    () => forwarder.stop(),
  );
  return { echo, forwarder, log };
}

describe("forward pipe", () => {
  test("carries 100 MB both ways at once with equal SHA-256", async () => {
    const { forwarder, log } = setUp();
    const size = 100 * 1024 * 1024;
    const block = new Uint8Array(1024 * 1024);
    for (let i = 0; i < block.length; i++) block[i] = (i * 131 + (i >> 9)) & 0xff;
    const sent = new Bun.CryptoHasher("sha256");
    const client = await PipeClient.connect(forwarder.port, { keep: false });
    const started = performance.now();
    const writes: Promise<void>[] = [];
    for (let offset = 0; offset < size; offset += block.length) {
      block[0] = (offset >> 20) & 0xff; // every block differs, so a reordering would show
      const copy = block.slice();
      sent.update(copy);
      writes.push(client.write(copy));
    }
    await Promise.all(writes);
    client.halfClose();
    await client.waitForBytes(size);
    await client.closed;
    const seconds = (performance.now() - started) / 1000;
    expect(client.receivedBytes).toBe(size);
    expect(client.hash?.digest("hex")).toBe(sent.digest("hex"));
    const close = await log.waitFor("close");
    expect(close.bytesUp).toBe(size);
    expect(close.bytesDown).toBe(size);
    expect(close.reason).toBe("peer_closed");
    console.log(`100 MB each way through forward in ${seconds.toFixed(2)} s`);
  }, 20_000);

  test("a client that sends, half-closes and still gets the reply", async () => {
    const { forwarder, log } = setUp();
    const client = await PipeClient.connect(forwarder.port);
    await client.write("request body");
    client.halfClose();
    await client.closed;
    expect(client.text()).toBe("request body");
    const close = await log.waitFor("close");
    expect(close).toMatchObject({ reason: "peer_closed", bytesUp: 12, bytesDown: 12 });
  });

  test("the upstream's reverse direction keeps flowing after the client's FIN", async () => {
    // A greeting upstream that answers only after the client has finished.
    const upstream = Bun.listen<{ got: number }>({
      hostname: "127.0.0.1",
      port: 0,
      allowHalfOpen: true,
      socket: {
        open(socket) {
          socket.data = { got: 0 };
        },
        data(socket, chunk) {
          socket.data.got += chunk.length;
        },
        end(socket) {
          const reply = new TextEncoder().encode(`got ${socket.data.got}`);
          socket.write(reply, 0, reply.length);
          socket.end();
        },
      },
    });
    const { forwarder } = startForwarder([upstream.port]);
    cleanup.push(
      () => upstream.stop(true),
      () => forwarder.stop(),
    );
    const client = await PipeClient.connect(forwarder.port);
    await client.write("x".repeat(5000));
    client.halfClose();
    await client.closed;
    expect(client.text()).toBe("got 5000");
  });

  test("a reset from the client resets the upstream", async () => {
    const { echo, forwarder, log } = setUp();
    const client = await PipeClient.connect(forwarder.port);
    await client.write("ping");
    await client.waitForBytes(4);
    expect(echo.sockets.size).toBe(1);
    client.reset();
    const close = await log.waitFor("close");
    expect(close.reason).toBe("peer_reset");
    expect(close.detail).toContain("client reset");
  });

  test("an upstream dying mid-stream resets the client", async () => {
    const { echo, forwarder, log } = setUp();
    const client = await PipeClient.connect(forwarder.port);
    await client.write("ping");
    await client.waitForBytes(4);
    echo.resetAll();
    const error = await client.closed;
    expect((error as { code?: string } | undefined)?.code).toBe("ECONNRESET");
    const close = await log.waitFor("close");
    expect(close.reason).toBe("peer_reset");
    expect(close.detail).toContain("upstream reset");
  });

  test("a client that does not read makes the forwarder stop reading the upstream", async () => {
    const { forwarder } = setUp();
    const client = await PipeClient.connect(forwarder.port, { keep: false });
    client.pause();
    // Write 128 MiB, more than every kernel buffer on the way (~40 MiB with loopback
    // autotuning): the echo comes back to a client that does not read, so everything backs up
    // and the writes cannot all complete.
    const block = new Uint8Array(1024 * 1024);
    const total = 128 * block.length;
    let finished = false;
    const writes = Array.from({ length: 128 }, () => client.write(block));
    void Promise.all(writes).then(() => {
      finished = true;
    });
    // Wait until the upstream direction stalls too (nothing more arrives at the echo for a while).
    const pipe = [...forwarder.table.pipes][0];
    expect(pipe).toBeDefined();
    let last = -1;
    while (pipe && pipe.bytesUp !== last) {
      last = pipe.bytesUp;
      await Bun.sleep(100); // polling for quiescence: there is no event for "nothing happens"
    }
    expect(finished).toBe(false);
    expect(pipe?.upstream.paused).toBe(true); // stopped reading the echo: the client is full
    // Memory held by the forwarder stays bounded: at most a chunk or so per direction.
    expect(pipe?.client.outboxBytes ?? 0).toBeLessThanOrEqual(1024 * 1024);
    expect(pipe?.upstream.outboxBytes ?? 0).toBeLessThanOrEqual(1024 * 1024);
    expect(pipe?.bytesUp ?? 0).toBeLessThan(total);
    client.resume();
    await client.waitForBytes(total);
    expect(finished).toBe(true);
  }, 20_000);
});
