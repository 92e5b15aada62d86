/**
 * Writing for the echo and sink upstreams (the forwarding and tunnel benches' and the tests'):
 * what the socket does not take waits in an outbox and the socket stops reading until `drain`,
 * so an upstream's memory stays bounded; a FIN is answered once the outbox is out.
 */
import type { Socket } from "bun";

export interface OutboxConn {
  outbox: Uint8Array[];
  /** Send FIN once the outbox is flushed (the peer sent its FIN). */
  shutAfterFlush: boolean;
}

/** Writes `chunk`, or queues it behind what is already waiting and pauses reading. */
export function sendWithBackpressure<T extends OutboxConn>(
  socket: Socket<T>,
  chunk: Uint8Array,
): void {
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
}

/** The `drain` handler: writes the outbox, resumes reading, sends a pending FIN. */
export function flushOutbox<T extends OutboxConn>(socket: Socket<T>): void {
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

/**
 * The echo target of both pipe benches: every byte back (with backpressure), FIN for FIN, on
 * an ephemeral loopback port.
 */
export function listenEcho(): { port: number } {
  return Bun.listen<OutboxConn>({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        socket.data = { outbox: [], shutAfterFlush: false };
      },
      data: sendWithBackpressure,
      drain: flushOutbox,
      end(socket) {
        socket.data.shutAfterFlush = true;
        flushOutbox(socket);
      },
      error() {},
    },
  });
}
