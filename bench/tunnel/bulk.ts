/**
 * Bulk workload of `bench:tunnel`: N connections each announce B bytes to the counted sink
 * (targets.ts), send them as fast as the socket takes them, and wait for the sink's count.
 * MB/s = all bytes / time until the last count arrives (as forward's bulk, without the FIN).
 */
import type { Socket } from "bun";

const BLOCK = new Uint8Array(256 * 1024).fill(0x61);

interface State {
  left: number;
  reply: number[];
}

function pump(socket: Socket<State>): void {
  const state = socket.data;
  while (state.left > 0) {
    const length = Math.min(BLOCK.length, state.left);
    const written = socket.write(BLOCK, 0, length);
    if (written <= 0) return;
    state.left -= written;
    if (written < length) return;
  }
}

function sendCounted(port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const state: State = { left: bytes, reply: [] };
    Bun.connect<State>({
      hostname: "127.0.0.1",
      port,
      data: state,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          const header = new Uint8Array(8);
          new DataView(header.buffer).setBigUint64(0, BigInt(bytes), true);
          socket.write(header, 0, 8);
          pump(socket);
        },
        drain: pump,
        data(socket, chunk) {
          state.reply.push(...chunk);
          if (state.reply.length < 8) return;
          resolve(Number(new DataView(Uint8Array.from(state.reply).buffer).getBigUint64(0, true)));
          socket.end();
        },
        close(_socket, error) {
          if (state.reply.length < 8) {
            reject(error ?? new Error(`closed after ${state.reply.length} reply bytes`));
          }
        },
        error() {},
      },
    }).catch(reject);
  });
}

/** MB/s (10^6 bytes per second) for `connections` parallel streams of `bytesEach`. */
export async function countedBulk(
  port: number,
  connections: number,
  bytesEach: number,
): Promise<number> {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: connections }, () => sendCounted(port, bytesEach)),
  );
  const seconds = (performance.now() - started) / 1000;
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total !== connections * bytesEach) throw new Error(`sink counted ${total} bytes`);
  return total / 1e6 / seconds;
}
