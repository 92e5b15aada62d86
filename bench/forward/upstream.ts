/**
 * The upstream servers of the forwarding bench, run as their own process so that the
 * forwarder under test, the load generator and the upstream each get their own event loop.
 *
 * - echo: writes back every byte (with backpressure) and answers FIN with FIN;
 * - sink: counts bytes and, on FIN, answers with the count (8 bytes, little-endian) and closes.
 *
 * Prints one JSON line `{"echo":PORT,"sink":PORT}` on stdout once both listen.
 */
import { flushOutbox, listenEcho, type OutboxConn } from "./echo-io.ts";

interface Conn extends OutboxConn {
  received: number;
}

const newConn = (): Conn => ({ outbox: [], received: 0, shutAfterFlush: false });

const echo = listenEcho();

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
      flushOutbox(socket);
    },
    drain: flushOutbox,
    error() {},
  },
});

console.log(JSON.stringify({ echo: echo.port, sink: sink.port }));
process.on("SIGTERM", () => process.exit(0));
