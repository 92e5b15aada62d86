/**
 * Ours with ours, the data path: TCP client -> our tunnel client -> smux -> our tunnel server
 * -> echo, all in this process. Half-close carried as FIN, a large transfer through one
 * stream (100 MB; 1 GB with BUN_RELAY_LONG=1), 1,000 concurrent streams, a stalled reader
 * beside flowing streams (v2: per stream; v1: what the protocol forces), the pool's spread.
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach, until } from "../mux/support.ts";
import { echoThrough, PipeClient, patterned, sha256, startTunnel } from "./tunnel-harness.ts";

cleanupAfterEach();

const LONG = process.env.BUN_RELAY_LONG === "1";

describe("tunnel data path", () => {
  for (const version of [1, 2] as const) {
    test(`v${version}: a client sends, half-closes, and still gets the whole reply`, async () => {
      const { client, clientLog, serverLog } = await startTunnel({ version });
      const tcp = await PipeClient.connect(client.port);
      await tcp.write("request body");
      tcp.halfClose();
      await tcp.closed;
      expect(tcp.text()).toBe("request body");
      const clientClose = await clientLog.waitFor("close");
      expect(clientClose).toMatchObject({ reason: "peer_closed", bytesUp: 12, bytesDown: 12 });
      expect(clientClose.upstream).toMatch(/^127\.0\.0\.1:\d+ session \d+ stream 3$/);
      const serverClose = await serverLog.waitFor("close");
      expect(serverClose).toMatchObject({ reason: "peer_closed", bytesUp: 12, bytesDown: 12 });
      expect(serverClose.client).toMatch(/session \d+ stream 3$/);
    });
  }

  test(`${LONG ? "1 GB" : "100 MB"} through one stream both ways at once, SHA-256 equal`, async () => {
    const { client, clientLog } = await startTunnel({ version: 1 }, { client: { conns: 1 } });
    const size = (LONG ? 1024 : 100) * 1024 * 1024;
    const block = patterned(1024 * 1024);
    const sent = new Bun.CryptoHasher("sha256");
    const tcp = await PipeClient.connect(client.port, { keep: false });
    const started = performance.now();
    for (let offset = 0; offset < size; offset += block.length) {
      block[0] = (offset >> 20) & 0xff; // every block differs, so a reordering would show
      const copy = block.slice();
      sent.update(copy);
      await tcp.write(copy); // one block in flight: memory stays flat at 1 GB too
    }
    tcp.halfClose();
    await tcp.waitForBytes(size);
    await tcp.closed;
    const seconds = (performance.now() - started) / 1000;
    expect(tcp.receivedBytes).toBe(size);
    expect(tcp.hash?.digest("hex")).toBe(sent.digest("hex"));
    const close = await clientLog.waitFor("close");
    expect(close).toMatchObject({ reason: "peer_closed", bytesUp: size, bytesDown: size });
    console.log(`${size / 2 ** 20} MiB each way through the tunnel in ${seconds.toFixed(2)} s`);
  }, 120_000);

  test("v2: 16 MB through one stream (per-stream window), SHA-256 equal", async () => {
    const { client } = await startTunnel({ version: 2 }, { client: { conns: 1 } });
    const data = patterned(16 * 1024 * 1024, 3);
    const { sha } = await echoThrough(client.port, data);
    expect(sha).toBe(sha256(data));
  }, 20_000);

  test("1,000 concurrent streams each echo their own bytes", async () => {
    const { client, server } = await startTunnel({ version: 2 }, { client: { conns: 4 } });
    const clients: PipeClient[] = [];
    // Connect in waves so the listen backlog (512, fixed in Bun) never overflows; all stay open.
    for (let wave = 0; wave < 4; wave++) {
      clients.push(
        ...(await Promise.all(Array.from({ length: 250 }, () => PipeClient.connect(client.port)))),
      );
    }
    await until(() => client.table.totals.opened === 1000, "1000 streams open", 10_000);
    expect(client.table.pipes.size).toBe(1000);
    // Fewest open streams first: the 1,000 streams are spread evenly over the 4 sessions.
    const loads = client.pool.slots.map((slot) => slot.load.active);
    expect(loads).toEqual([250, 250, 250, 250]);
    const payloads = clients.map((_, i) => patterned(4096, i));
    await Promise.all(clients.map((tcp, i) => tcp.write(payloads[i] as Uint8Array)));
    await Promise.all(clients.map((tcp) => tcp.waitForBytes(4096)));
    for (const [i, tcp] of clients.entries()) {
      expect(sha256(tcp.bytes())).toBe(sha256(payloads[i] as Uint8Array));
      tcp.halfClose();
    }
    await Promise.all(clients.map((tcp) => tcp.closed));
    await until(() => server.table.totals.closed === 1000, "server pipes closed", 10_000);
    expect(client.table.totals.closed).toBe(1000);
  }, 30_000);

  test("v2: a stream whose reader stalls holds its window while the other streams flow", async () => {
    const { client, server } = await startTunnel({ version: 2 }, { client: { conns: 1 } });
    const stalled = await PipeClient.connect(client.port, { keep: false });
    stalled.pause();
    // 32 MB echoed back to a client that does not read: more than every buffer on the way.
    const block = patterned(1024 * 1024);
    const stalledWrites = Array.from({ length: 32 }, () => stalled.write(block));
    let stalledDone = false;
    void Promise.all(stalledWrites).then(() => {
      stalledDone = true;
    });
    await until(() => server.table.pipes.size === 1, "stalled stream open");
    // Another stream on the same session moves 8 MB meanwhile.
    const data = patterned(8 * 1024 * 1024, 5);
    const { sha } = await echoThrough(client.port, data);
    expect(sha).toBe(sha256(data));
    expect(stalledDone).toBe(false);
    // What the stalled stream holds in the tunnel stays bounded (its window, not 32 MB).
    const session = [...client.sessions.live][0]?.session;
    expect(session?.readingPaused).toBe(false);
    stalled.resume();
    await stalled.waitForBytes(32 * block.length);
    expect(stalledDone).toBe(true);
  }, 30_000);

  test("v1: a stalled reader stops its whole session once it holds the receive budget (no per-stream window in v1)", async () => {
    const budget = 1024 * 1024;
    const { client } = await startTunnel(
      { version: 1, maxReceiveBuffer: budget, maxStreamBuffer: 65_536 },
      { client: { conns: 1 } },
    );
    const stalled = await PipeClient.connect(client.port, { keep: false });
    stalled.pause();
    const block = patterned(1024 * 1024);
    const writes = Array.from({ length: 64 }, () => stalled.write(block));
    const session = [...client.sessions.live][0]?.session;
    await until(
      () => session?.readingPaused === true,
      "the client session to stop reading",
      10_000,
    );
    // Another stream on that session gets nothing back now.
    const other = await PipeClient.connect(client.port);
    await other.write("ping");
    await Bun.sleep(200); // nothing announces "no byte arrived"; give it time to arrive
    expect(other.receivedBytes).toBe(0);
    // Once the stalled reader reads, everything flows again.
    stalled.resume();
    await Promise.all(writes);
    await stalled.waitForBytes(64 * block.length);
    await other.waitForBytes(4);
    expect(other.text()).toBe("ping");
  }, 30_000);

  test("the pool spreads clients over its sessions by open-stream count", async () => {
    const { client, clientLog } = await startTunnel({ version: 1 }, { client: { conns: 4 } });
    const clients = await Promise.all(
      Array.from({ length: 8 }, () => PipeClient.connect(client.port)),
    );
    await until(() => client.table.totals.opened === 8, "8 streams open");
    const perSession = new Map<string, number>();
    for (const open of clientLog.of("open")) {
      const session = /session (\d+)/.exec(open.upstream)?.[1] ?? "?";
      perSession.set(session, (perSession.get(session) ?? 0) + 1);
    }
    expect([...perSession.values()]).toEqual([2, 2, 2, 2]);
    for (const tcp of clients) tcp.end();
    await until(() => client.table.pipes.size === 0, "all closed");
  });
});
