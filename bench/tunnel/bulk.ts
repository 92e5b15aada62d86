/**
 * Bulk workload of `bench:tunnel`: N connections each announce B bytes to the counted sink
 * (targets.ts), send them as fast as the socket takes them, and wait for the sink's count.
 * MB/s = all bytes / time until the last count arrives (as forward's bulk, without the FIN).
 */
import type { Socket } from "bun";
import { parallelBulk, writeBlocks } from "../forward/load.ts";

interface State {
  left: number;
  reply: number[];
}

// No half-close after the last block: the counted sink answers on the announced length.
function pump(socket: Socket<State>): void {
  writeBlocks(socket);
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
export function countedBulk(port: number, connections: number, bytesEach: number): Promise<number> {
  return parallelBulk(connections, bytesEach, () => sendCounted(port, bytesEach));
}
