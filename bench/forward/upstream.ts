/**
 * The upstream servers of the forwarding bench, run as their own process so that the
 * forwarder under test, the load generator and the upstream each get their own event loop.
 *
 * - echo: writes back every byte (with backpressure) and answers FIN with FIN;
 * - sink: counts bytes and, on FIN, answers with the count (8 bytes, little-endian) and closes.
 *
 * Prints one JSON line `{"echo":PORT,"sink":PORT}` on stdout once both listen.
 */
import type { Socket } from "bun";

interface Conn {
  outbox: Uint8Array[];
  received: number;
  shutAfterFlush: boolean;
}

function flush(socket: Socket<Conn>): void {
  const state = socket.data;
  while (state.outbox.length > 0) {
    const head = state.outbox[0] as Uint8Array;
    const written = socket.write(head, 0, head.length);
    if (written < head.length) {
      state.outbox[0] = head.subarray(Math.max(0, written));
      return;
    }
    state.outbox.shift();
  }
  socket.resume();
  if (state.shutAfterFlush) socket.end();
}

const newConn = (): Conn => ({ outbox: [], received: 0, shutAfterFlush: false });

const echo = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: 0,
  allowHalfOpen: true,
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = newConn();
    },
    data(socket, chunk) {
      const state = socket.data;
      if (state.outbox.length > 0) {
        state.outbox.push(chunk);
        return;
      }
      const written = socket.write(chunk, 0, chunk.length);
      if (written < chunk.length) {
        state.outbox.push(chunk.subarray(Math.max(0, written)));
        socket.pause();
      }
    },
    drain: flush,
    end(socket) {
      socket.data.shutAfterFlush = true;
      flush(socket);
    },
    error() {},
  },
});

const sink = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: 0,
  allowHalfOpen: true,
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = newConn();
    },
    data(socket, chunk) {
      socket.data.received += chunk.length;
    },
    end(socket) {
      const count = new Uint8Array(8);
      new DataView(count.buffer).setBigUint64(0, BigInt(socket.data.received), true);
      socket.data.outbox.push(count);
      socket.data.shutAfterFlush = true;
      flush(socket);
    },
    drain: flush,
    error() {},
  },
});

console.log(JSON.stringify({ echo: echo.port, sink: sink.port }));
process.on("SIGTERM", () => process.exit(0));
