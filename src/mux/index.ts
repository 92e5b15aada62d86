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
 * Code map: config.ts (MuxConfig, verifyConfig), errors.ts (MuxError and codes),
 * transport.ts (the transport contract), session.ts (Session), stream.ts (Stream),
 * reader.ts (async iteration), outbox.ts (a stream's send queue and v2 window), writer.ts
 * (batching and fairness), counters.ts, adapters/bun.ts (Bun sockets). The wire codec is
 * src/protocol/smux-*.ts.
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
