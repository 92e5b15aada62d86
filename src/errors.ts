/**
 * Error codes and close reasons shared by every part of the relay.
 *
 * Every error the relay reports carries a stable code, the peer it concerns (when there is one)
 * and a human reason, so a log line, a metric label and a test can all name the same thing.
 */

/** Why a connection ended. Used in CLOSE log lines and counted per reason. */
export const CloseReason = {
  /** The peer closed cleanly (FIN). */
  PeerClosed: "peer_closed",
  /** The peer reset the connection (RST) or the socket errored. */
  PeerReset: "peer_reset",
  /** A subscriber fell more than --max-pending bytes behind. */
  SlowConsumer: "slow_consumer",
  /** A subscriber took no bytes for --write-timeout while data waited. */
  WriteTimeout: "write_timeout",
  /** A publisher sent a line longer than --max-line. */
  LineTooLong: "line_too_long",
  /** A frame client sent a malformed frame (the detail names its FRAME_ERR_* code). */
  BadFrame: "bad_frame",
  /** A frame client's Conn had a wrong token, or it sent a Submit before the Conn --token requires. */
  AuthFailed: "auth_failed",
  /** The relay is shutting down. */
  Shutdown: "shutdown",
  /** A TLS client on a plaintext port: its first bytes were a TLS ClientHello (src/net). */
  TlsClient: "tls_client",
  /** A frame client on a line port: its first bytes were a seed 003 frame (src/net). */
  FrameClient: "frame_client",
  /** An HTTP client: its first bytes were an HTTP/1.x request line (src/net). */
  HttpClient: "http_client",
  /** A line client on a frame port: its first bytes were text, not a frame length (src/net). */
  LineClient: "line_client",
  /** Its first bytes stayed the start of a TLS header (or text, frame port) for 1 s (src/net). */
  FirstBytesTimeout: "first_bytes_timeout",
  /** forward/proxy: no upstream could be reached (every target refused or errored). */
  ConnectFailed: "connect_failed",
  /** forward/proxy: the upstream did not accept within --connect-timeout. */
  ConnectTimeout: "connect_timeout",
  /** forward/proxy: no byte either way for --idle-timeout. */
  IdleTimeout: "idle_timeout",
  /** forward/proxy: one side finished and the other stayed silent for --half-close-timeout. */
  HalfCloseTimeout: "half_close_timeout",
  /** Closed at accept: --max-conns connections were already open (every mode). */
  MaxConns: "max_conns",
  /** proxy: the request head was malformed, too large, or not CONNECT (400/405). */
  BadRequest: "bad_request",
  /** proxy: the request head did not arrive within its time limit (408). */
  HeadTimeout: "head_timeout",
  /** proxy: the CONNECT target is not allowed by --allow (403). */
  Forbidden: "forbidden",
  /** proxy: missing or wrong Proxy-Authorization (407). */
  AuthRequired: "auth_required",
  /** NATS: the client broke the protocol (the detail names the NATS_ERR_* code). */
  ProtocolError: "protocol_error",
  /** NATS: no CONNECT with valid credentials within --auth-timeout. */
  AuthTimeout: "auth_timeout",
  /** NATS: --max-pings-out PINGs went unanswered. */
  StaleConnection: "stale_connection",
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** Stable error codes for everything the relay can refuse or fail at. */
export const ErrorCode = {
  BadArgument: "RELAY_ERR_BAD_ARGUMENT",
  AddressInUse: "RELAY_ERR_ADDRESS_IN_USE",
  ListenFailed: "RELAY_ERR_LISTEN_FAILED",
  SlowConsumer: "RELAY_ERR_SLOW_CONSUMER",
  LineTooLong: "RELAY_ERR_LINE_TOO_LONG",
  ConnectFailed: "RELAY_ERR_CONNECT_FAILED",
  ConnectTimeout: "RELAY_ERR_CONNECT_TIMEOUT",
  NoTarget: "RELAY_ERR_NO_TARGET",
  BadRequest: "RELAY_ERR_BAD_REQUEST",
  OpenProxy: "RELAY_ERR_OPEN_PROXY",
  /** A subscription subject with an empty token or a token after `>` (src/relay/subjects.ts). */
  InvalidSubject: "RELAY_ERR_INVALID_SUBJECT",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error with a code, the peer address it concerns (if any) and a reason. */
export class RelayError extends Error {
  override readonly name = "RelayError";
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    readonly peer?: string,
    options?: ErrorOptions,
  ) {
    super(peer ? `${code}: ${peer}: ${reason}` : `${code}: ${reason}`, options);
  }
}

/** Formats a socket's remote end as `host:port` (IPv6 in brackets), for logs and errors. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  const host = address ?? "?";
  return host.includes(":") ? `[${host}]:${port ?? "?"}` : `${host}:${port ?? "?"}`;
}

/**
 * A failed listen (Bun.listen or Bun.serve) as a RelayError with the address:
 * `WHAT port HOST:PORT is already in use`, or `cannot open the WHAT port HOST:PORT (WHY)`.
 */
export function listenError(what: string, host: string, port: number, error: unknown): RelayError {
  const code = (error as { code?: string }).code;
  const where = formatPeer(host, port);
  if (code === "EADDRINUSE") {
    return new RelayError(ErrorCode.AddressInUse, `${what} port ${where} is already in use`);
  }
  const why = code ?? (error as Error).message ?? String(error);
  return new RelayError(ErrorCode.ListenFailed, `cannot open the ${what} port ${where} (${why})`);
}
