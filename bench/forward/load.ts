/**
 * The three workloads of the forwarding bench, run from the bench process against a port
 * (a forwarder, haproxy, socat, or the upstream itself as a baseline):
 *
 * - bulk: N connections each send B bytes to the sink as fast as they can, half-close, and
 *   wait for the sink's byte count; MB/s = all bytes / time until the last count arrives;
 * - roundTrips: one connection sends 64 bytes to the echo and waits for them, over and over;
 * - newConns: C loops each connect, send 16 bytes, wait for the echo, close, repeat; the
 *   time from connect() to the echo is what a pool of pre-dialed upstream sockets shortens.
 *
 * Each takes an optional ClientTls: the same client then speaks TLS (Bun's, BoringSSL) to a
 * forwarder that terminates it, and starts its workload once the handshake is done.
 */
import type { Socket, SocketHandler } from "bun";

/**
 * TLS for the load's connections: the server certificate is checked against `ca` for
 * `serverName`. Each handshake writes the protocol and cipher it negotiated to `negotiated`.
 */
export interface ClientTls {
  ca: string;
  serverName: string;
  negotiated?: string;
}

/** Bun.connect's `tls` option for `tls`, or nothing for plaintext. */
function connectTls(tls: ClientTls | undefined): { tls?: { ca: string; serverName: string } } {
  return tls === undefined ? {} : { tls: { ca: tls.ca, serverName: tls.serverName } };
}

/**
 * The `open` and `handshake` handlers that call `start` once the connection can carry data:
 * at open in plaintext, after a successful handshake with TLS (a failed one closes, and the
 * close handler reports it).
 */
function startWhenReady<T>(
  tls: ClientTls | undefined,
  start: (socket: Socket<T>) => void,
): Pick<SocketHandler<T>, "open" | "handshake"> {
  return {
    open(socket) {
      if (tls === undefined) start(socket);
    },
    handshake(socket, success) {
      if (tls === undefined) return;
      if (!success) {
        socket.terminate();
        return;
      }
      tls.negotiated = `${socket.getTLSVersion()} ${socket.getCipher()?.name ?? "?"}`;
      start(socket);
    },
  };
}

const BLOCK = new Uint8Array(256 * 1024).fill(0x61);

interface BulkState {
  left: number;
  resolve: (count: number) => void;
  reject: (error: Error) => void;
}

/**
 * Writes filler blocks while the socket takes them, counting `left` down. Returns true once
 * all are out; false when the socket is full (call again on `drain`).
 */
export function writeBlocks<T extends { left: number }>(socket: Socket<T>): boolean {
  const state = socket.data;
  while (state.left > 0) {
    const length = Math.min(BLOCK.length, state.left);
    const written = socket.write(BLOCK, 0, length);
    if (written <= 0) return false;
    state.left -= written;
    if (written < length) return false;
  }
  return true;
}

function pump(socket: Socket<BulkState>): void {
  if (writeBlocks(socket)) socket.shutdown();
}

async function sendToSink(port: number, bytes: number, tls?: ClientTls): Promise<number> {
  return new Promise((resolve, reject) => {
    const state: BulkState = { left: bytes, resolve, reject };
    let reply = new Uint8Array(0);
    Bun.connect<BulkState>({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      data: state,
      ...connectTls(tls),
      socket: {
        binaryType: "uint8array",
        ...startWhenReady(tls, pump),
        drain: pump,
        data(_socket, chunk) {
          reply = Buffer.concat([reply, chunk]);
        },
        close(_socket, error) {
          if (reply.length >= 8)
            resolve(Number(new DataView(reply.buffer, reply.byteOffset).getBigUint64(0, true)));
          else reject(error ?? new Error(`sink closed after ${reply.length} reply bytes`));
        },
        error() {},
      },
    }).catch(reject);
  });
}

/**
 * MB/s (10^6 bytes per second) for `connections` parallel `send`s of `bytesEach`, each
 * resolving with the sink's count; throws unless the counts add up to every byte sent.
 */
export async function parallelBulk(
  connections: number,
  bytesEach: number,
  send: () => Promise<number>,
): Promise<number> {
  const started = performance.now();
  const counts = await Promise.all(Array.from({ length: connections }, send));
  const seconds = (performance.now() - started) / 1000;
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total !== connections * bytesEach) throw new Error(`sink counted ${total} bytes`);
  return total / 1e6 / seconds;
}

/** MB/s (10^6 bytes per second) for `connections` parallel streams of `bytesEach`. */
export function bulk(
  port: number,
  connections: number,
  bytesEach: number,
  tls?: ClientTls,
): Promise<number> {
  return parallelBulk(connections, bytesEach, () => sendToSink(port, bytesEach, tls));
}

export interface RoundTripResult {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/** Sequential 64-byte round trips on one connection for `seconds`. */
export async function roundTrips(
  port: number,
  seconds: number,
  tls?: ClientTls,
): Promise<RoundTripResult> {
  const message = new Uint8Array(64).fill(0x62);
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    let got = 0;
    let sentAt = 0;
    let deadline = 0;
    let started = 0;
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      ...connectTls(tls),
      socket: {
        binaryType: "uint8array",
        // The clock starts after the handshake: round trips, not the TLS setup, are timed.
        ...startWhenReady(tls, (socket) => {
          started = performance.now();
          deadline = started + seconds * 1000;
          sentAt = started;
          socket.write(message, 0, message.length);
        }),
        data(socket, chunk) {
          got += chunk.length;
          if (got < message.length) return;
          got -= message.length;
          const now = performance.now();
          samples.push(now - sentAt);
          if (now >= deadline) {
            socket.end();
            samples.sort((a, b) => a - b);
            resolve({
              perSecond: samples.length / ((now - started) / 1000),
              p50Ms: percentile(samples, 0.5),
              p99Ms: percentile(samples, 0.99),
            });
            return;
          }
          sentAt = now;
          socket.write(message, 0, message.length);
        },
        error() {},
      },
    }).catch(reject);
  });
}

/**
 * One connect, 16-byte echo, close. Resolves with ms from connect() to the echo's arrival
 * (the TLS handshake included).
 */
function oneConnection(port: number, tls: ClientTls | undefined): Promise<number> {
  const message = new Uint8Array(16).fill(0x63);
  return new Promise((resolve, reject) => {
    let got = 0;
    const started = performance.now();
    let echoedAfter = 0;
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      ...connectTls(tls),
      socket: {
        ...startWhenReady(tls, (socket) => {
          socket.write(message, 0, message.length);
        }),
        data(socket, chunk) {
          got += chunk.length;
          if (got < message.length) return;
          echoedAfter = performance.now() - started;
          socket.end();
        },
        close(_socket, error) {
          if (got >= message.length) resolve(echoedAfter);
          else reject(error ?? new Error("closed before the echo"));
        },
        error() {},
      },
    }).catch(reject);
  });
}

/** New connections per second with `concurrency` loops for `seconds`. Failures are counted. */
export async function newConns(
  port: number,
  seconds: number,
  concurrency: number,
  tls?: ClientTls,
): Promise<{ perSecond: number; failures: number; p50Ms: number; p99Ms: number }> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const samples: number[] = [];
  let failures = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      try {
        samples.push(await oneConnection(port, tls));
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  samples.sort((a, b) => a - b);
  return {
    perSecond: samples.length / ((performance.now() - started) / 1000),
    failures,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
  };
}
