/**
 * bench:tunnel's native load generator and targets (bench/native/pipe_load.c, pipe_target.c
 * through bench/tunnel/native-load.ts): the targets echo and count exact bytes, and each
 * workload of the load generator completes against them without failures. Figures are not
 * asserted (benches measure; tests check behaviour).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  nativeCountedBulk,
  nativeNewConns,
  nativeRoundTrips,
  startNativeTargets,
} from "../../bench/tunnel/native-load.ts";

/** The C programs need a C compiler; without one (a bare machine) these tests skip. */
const noCc = Bun.which("cc") === null;

let targets: Awaited<ReturnType<typeof startNativeTargets>> | undefined;

beforeAll(async () => {
  if (!noCc) targets = await startNativeTargets();
}, 60_000);

afterAll(() => targets?.stop());

/** The running targets (only called inside the tests that skip without cc). */
function running(): NonNullable<typeof targets> {
  if (targets === undefined) throw new Error("the native targets did not start");
  return targets;
}

/** Sends `bytes` on a fresh connection, then half-closes; resolves with all bytes read until close. */
function exchange(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          expect(socket.write(bytes, 0, bytes.length)).toBe(bytes.length);
          socket.shutdown();
        },
        data(_socket, chunk) {
          chunks.push(chunk);
        },
        end() {},
        close(_socket, error) {
          if (error) reject(error);
          else resolve(new Uint8Array(Buffer.concat(chunks)));
        },
        error() {},
      },
    }).catch(reject);
  });
}

describe.skipIf(noCc)("pipe_target", () => {
  test("echo: every byte back, then FIN for FIN", async () => {
    const sent = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    expect(await exchange(running().echo, sent)).toEqual(sent);
  });

  test("counted sink: answers the announced length with the count (u64 LE), then closes", async () => {
    const body = 70_000;
    const message = new Uint8Array(8 + body).fill(0x61);
    new DataView(message.buffer).setBigUint64(0, BigInt(body), true);
    const reply = await exchange(running().sink, message);
    expect(reply.length).toBe(8);
    expect(new DataView(reply.buffer, reply.byteOffset).getBigUint64(0, true)).toBe(BigInt(body));
  });
});

describe.skipIf(noCc)("pipe_load against pipe_target", () => {
  test("rtt: round trips with latencies", async () => {
    const run = await nativeRoundTrips(running().echo, 0.2);
    expect(run.perSecond).toBeGreaterThan(0);
    expect(run.failures).toBe(0);
    expect(run.p50Ms).toBeGreaterThan(0);
    expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
  });

  test("conns: new connections with echo, none failed", async () => {
    const run = await nativeNewConns(running().echo, 0.2, 4);
    expect(run.perSecond).toBeGreaterThan(0);
    expect(run.failures).toBe(0);
    expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
  });

  test("conns: a closed port counts failures instead of samples", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const run = await nativeNewConns(port, 0.1, 2);
    expect(run.failures).toBeGreaterThan(0);
    expect(run.perSecond).toBe(0);
  });

  test("bulk: 1 and 8 streams counted exactly by the sink", async () => {
    expect(await nativeCountedBulk(running().sink, 1, 3 * 1024 * 1024 + 5)).toBeGreaterThan(0);
    expect(await nativeCountedBulk(running().sink, 8, 1024 * 1024)).toBeGreaterThan(0);
  });

  test("bulk: a sink that is not there fails the run", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    await expect(nativeCountedBulk(port, 2, 1024)).rejects.toThrow(/pipe_load bulk exited 3/);
  });
});
