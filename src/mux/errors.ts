/**
 * Errors of the mux layer: one stable code per way a session or a stream can end or refuse
 * something, and one error class carrying the code, a human reason, the peer and the stream.
 *
 * A session stores the first cause it closes with and settles every pending operation with
 * that same object (as smux's `notifyProtoError`/`notifyReadError` keep one error per kind
 * behind a `sync.Once`, session.go), so a log line, a metric label and a test name one thing.
 */

import { SmuxErrorCode, type SmuxProtocolError } from "../protocol/smux-frame.ts";

/**
 * Every code a MuxError can carry. The protocol violations are the codec's codes
 * (smux-frame.ts), so a decoder error and the session close it causes agree.
 */
export const MuxErrorCode = {
  ...SmuxErrorCode,
  /** The config broke a rule of verifyConfig. */
  BadConfig: "MUX_ERR_BAD_CONFIG",
  /** No frame arrived for keepAliveTimeoutMs (session.go `keepalive`). */
  KeepAliveTimeout: "MUX_ERR_KEEPALIVE_TIMEOUT",
  /** The application closed the session. */
  SessionClosed: "MUX_ERR_SESSION_CLOSED",
  /** The transport closed cleanly under the session (the peer closed its TCP connection). */
  TransportClosed: "MUX_ERR_TRANSPORT_CLOSED",
  /** The transport failed (reset, write error). */
  TransportError: "MUX_ERR_TRANSPORT_ERROR",
  /** This side has used every stream ID (session.go `ErrGoAway`): open a new session. */
  GoAway: "MUX_ERR_GO_AWAY",
  /** write() or closeWrite() after closeWrite() or close() on the stream. */
  StreamClosed: "MUX_ERR_STREAM_CLOSED",
  /** write() while maxStreamWriteQueue bytes were already queued on the stream. */
  WriteQueueFull: "MUX_ERR_WRITE_QUEUE_FULL",
  /** v2: the peer's UPD acknowledged more bytes than were sent (stream.go `ErrConsumed`). */
  Consumed: "MUX_ERR_CONSUMED",
  /** An application callback (onStream, onData, ...) threw inside the transport's data event. */
  Callback: "MUX_ERR_CALLBACK",
} as const;
export type MuxErrorCode = (typeof MuxErrorCode)[keyof typeof MuxErrorCode];

/** Where a MuxError happened, for logs. Both optional. */
export interface MuxErrorContext {
  /** `host:port` of the transport's peer. */
  readonly peer?: string | undefined;
  /** The stream concerned, when one is. */
  readonly streamId?: number | undefined;
}

/**
 * An error with a stable `code`, a human `reason` and where it happened. `message` is
 * `CODE: [peer: ][stream N: ]reason`. `cause` holds the underlying error when there is one
 * (a SmuxProtocolError, a socket error, what a callback threw).
 */
export class MuxError extends Error {
  override readonly name = "MuxError";
  readonly peer: string | undefined;
  readonly streamId: number | undefined;

  constructor(
    readonly code: MuxErrorCode,
    readonly reason: string,
    context: MuxErrorContext = {},
    options?: ErrorOptions,
  ) {
    const where =
      (context.peer !== undefined ? `${context.peer}: ` : "") +
      (context.streamId !== undefined ? `stream ${context.streamId}: ` : "");
    super(`${code}: ${where}${reason}`, options);
    this.peer = context.peer;
    this.streamId = context.streamId;
  }
}

/** The session-closing error for a protocol violation the decoder found. */
export function protocolViolation(error: SmuxProtocolError, peer: string | undefined): MuxError {
  return new MuxError(
    error.code,
    `${error.reason} at byte ${error.header.offset}`,
    { peer, streamId: error.header.streamId },
    { cause: error },
  );
}

/** The session-closing error for a transport that closed (`error` undefined) or failed. */
export function transportGone(error: Error | undefined, peer: string | undefined): MuxError {
  if (error === undefined) {
    return new MuxError(MuxErrorCode.TransportClosed, "the connection was closed", { peer });
  }
  const code = (error as { code?: unknown }).code;
  // Bun's messages often start with the code already ("ECONNRESET: connection reset ...").
  const why =
    typeof code === "string" && !error.message.startsWith(code)
      ? `${code}: ${error.message}`
      : error.message;
  return new MuxError(
    MuxErrorCode.TransportError,
    `the connection failed (${why})`,
    { peer },
    { cause: error },
  );
}
