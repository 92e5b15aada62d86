/**
 * smux-compatible stream multiplexing (xtaci/smux protocol versions 1 and 2, checked against
 * Debian's Go smux 1.5.16): many streams over one TCP or TLS connection.
 *
 * ```ts
 * const session = await connectSession({ hostname: "127.0.0.1", port: 9000, config: { version: 2 } });
 * const stream = session.open();
 * await stream.write(new TextEncoder().encode("hello"));
 * stream.closeWrite();
 * for await (const chunk of stream) console.log(chunk.length);
 * ```
 *
 * Code map: config.ts (MuxConfig, verifyConfig), errors.ts (MuxError and its codes),
 * transport.ts (the transport contract), session.ts (Session), accept-queue.ts,
 * keepalive.ts, stream.ts (Stream), reader.ts (async iteration), outbox.ts (a stream's send
 * queue and v2 window), writer.ts (batching, control first, round robin), fifo.ts,
 * counters.ts, adapters/bun.ts (Bun sockets). The wire codec is src/protocol/smux-*.ts.
 *
 * Matched from Go smux 1.5.16: the frame format, stream IDs (client odd from 3, server even
 * from 2, ErrGoAway when spent), DefaultConfig and VerifyConfig, the session-wide receive
 * bucket (stop reading when spent, one frame of overshoot), the 1024-stream accept backlog
 * (reading stops when full), the v2 window (initial 262144, UPD on first read and every
 * MaxStreamBuffer/2 read, uint32 counters, ErrConsumed), the ignored frames (duplicate SYN,
 * PSH/FIN/UPD for unknown streams, uncharged), NOP keepalive and its timeout (not while the
 * bucket is spent), FIN as half-close with reads draining first, Close as FIN plus dropping
 * unread input.
 *
 * Different on purpose: all five protocol violations are fatal (Debian's Go checks only the
 * version and the command); the keepalive timeout is checked every interval (Go: once per
 * timeout period, so 1x-2x); a v2 writer keeps waiting for window after the peer's FIN (Go's
 * returns io.EOF: see stream.ts); writes queue without blocking, up to maxStreamWriteQueue;
 * consecutive writes of a stream may share a frame; frames leave in batches, one socket
 * write per event-loop turn. Not provided: Go's deadlines (SetDeadline and friends; use
 * timers and close()) and Session.SetDeadline for accepts.
 */

export { ACCEPT_BACKLOG } from "./accept-queue.ts";
export {
  type ConnectSessionOptions,
  connectSession,
  type ListenSessionsOptions,
  listenSessions,
  type MuxRole,
  type MuxSocketData,
  muxSocketHandlers,
} from "./adapters/bun.ts";
export { DEFAULT_MUX_CONFIG, type MuxConfig, resolveConfig, verifyConfig } from "./config.ts";
export type { SessionCounters, StreamCounters } from "./counters.ts";
export { MuxError, MuxErrorCode } from "./errors.ts";
export { Session, type SessionOptions } from "./session.ts";
export { Stream, type StreamDataHandler, type StreamEndHandler } from "./stream.ts";
export type { MuxTransport, TransportEvents } from "./transport.ts";
