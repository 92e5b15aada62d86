/**
 * The targets behind both tunnels in `bench:tunnel`, run as their own process:
 *
 * - echo: forward's bench echo (bench/forward/echo-io.ts): every byte back, FIN for FIN;
 * - counted sink: the first 8 bytes (u64 LE) announce how many follow; once that many have
 *   arrived it answers with the count (8 bytes LE) and closes.
 *
 * The counted sink exists because forward's sink answers on the client's FIN, and a FIN
 * cannot cross Go's smux-tunnel one way only: its pipe closes the whole stream on the first
 * EOF, so the answer would be lost. Announcing the length needs no half-close.
 *
 * Prints one JSON line `{"echo":PORT,"sink":PORT}` on stdout once both listen.
 */
import { listenEcho } from "../forward/echo-io.ts";

interface SinkConn {
  /** Bytes still expected; -1 until the 8-byte length has arrived. */
  left: number;
  received: number;
  header: number[];
}

const echo = listenEcho();

const sink = Bun.listen<SinkConn>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = { left: -1, received: 0, header: [] };
    },
    data(socket, chunk) {
      const state = socket.data;
      let at = 0;
      while (state.left < 0 && at < chunk.length) {
        state.header.push(chunk[at++] as number);
        if (state.header.length === 8) {
          state.left = Number(
            new DataView(Uint8Array.from(state.header).buffer).getBigUint64(0, true),
          );
        }
      }
      const body = chunk.length - at;
      state.received += body;
      state.left -= body;
      if (state.left === 0) {
        const count = new Uint8Array(8);
        new DataView(count.buffer).setBigUint64(0, BigInt(state.received), true);
        socket.write(count, 0, 8);
        socket.end();
      }
    },
    error() {},
  },
});

console.log(JSON.stringify({ echo: echo.port, sink: sink.port }));
process.on("SIGTERM", () => process.exit(0));
