/**
 * What the NATS port says when a client breaks a rule: the `-ERR` texts nats-server 2.9 sends
 * (with whether it then closes the connection), and the coded error the NatsParser reports.
 *
 * Every text and closing behaviour below was read in the nats-server 2.9.10 source (Debian
 * golang-github-nats-io-nats-server-dev, server/client.go and server/parser.go); each entry
 * names the function that sends it. The wire form is `-ERR '<text>'\r\n` (client.go
 * `errProto = "-ERR '%s'" + _CRLF_`).
 *
 * Two things nats-server does NOT send, on purpose:
 * - A slow consumer gets no `-ERR`: client.go queueOutbound (pending bytes over the limit) and
 *   handleWriteTimeout (write deadline) only mark the connection closed
 *   (`SlowConsumerPendingBytes` / `SlowConsumerWriteDeadline`). So there is no 'Slow Consumer'
 *   entry; the port closes such a client silently.
 * - A malformed PUB/HPUB/SUB/UNSUB argument list, a bad CONNECT or INFO JSON, HPUB without
 *   header support and a client's own `-ERR` close with no `-ERR` (the error returned by
 *   processPub & co. reaches readLoop, which closes with `ProtocolViolation`).
 */

/** One `-ERR` nats-server sends to clients: its exact text, wire bytes, and whether it closes. */
export interface NatsErr {
  /** The text between the quotes, exactly as nats-server writes it (case included). */
  readonly text: string;
  /** `-ERR '<text>'\r\n`, ready to write (shared: never write into it). */
  readonly wire: Uint8Array;
  /** True when nats-server closes the connection right after sending it. */
  readonly closes: boolean;
}

function natsErr(text: string, closes: boolean): NatsErr {
  return { text, wire: new TextEncoder().encode(`-ERR '${text}'\r\n`), closes };
}

/** The `-ERR` texts issue 20 needs, from nats-server 2.9.10 (source in each entry's note). */
export const NATS_ERR = {
  /** parser.go `parseErr:` label: any byte the state machine does not expect. Closes. */
  unknownOperation: natsErr("Unknown Protocol Operation", true),
  /**
   * client.go authViolation: bad credentials in CONNECT, or (parser.go OP_START) an operation
   * other than CONNECT while authentication is awaited. Closes.
   */
  authorizationViolation: natsErr("Authorization Violation", true),
  /** client.go authTimeout: no valid CONNECT within the auth timeout (2 s). Closes. */
  authenticationTimeout: natsErr("Authentication Timeout", true),
  /** client.go maxPayloadViolation, from processPub/processHeaderPub. Closes. */
  maxPayload: natsErr("Maximum Payload Violation", true),
  /**
   * parser.go overMaxControlLineLimit sends errors.go ErrMaxControlLine's text (the errCtx
   * wrapper's Error() is the wrapped error's, so no context is sent). Lower case. Closes.
   */
  maxControlLine: natsErr("maximum control line exceeded", true),
  /** client.go processConnect (ErrNoRespondersRequiresHeaders): no_responders without headers. Closes. */
  noRespondersRequiresHeaders: natsErr("no responders requires headers support", true),
  /** client.go processConnect (ErrBadClientProtocol): `protocol` not 0 or 1. Closes. */
  badClientProtocol: natsErr("invalid client protocol", true),
  /** client.go maxConnExceeded (ErrTooManyConnections): over max_connections at accept. Closes. */
  maxConnections: natsErr("maximum connections exceeded", true),
  /** client.go processPingTimer: a ping went unanswered past max_pings_out (2). Closes. */
  staleConnection: natsErr("Stale Connection", true),
  /** client.go processSubEx: the sublist refused the SUB's subject. Does not close. */
  invalidSubject: natsErr("Invalid Subject", false),
  /** client.go processPub/processHeaderPub, pedantic clients only: not a literal subject. Does not close. */
  invalidPublishSubject: natsErr("Invalid Publish Subject", false),
  /**
   * client.go maxSubsExceeded (ErrTooManySubs), from processSubEx: the SUB is refused, the
   * connection stays. Does not close.
   */
  maxSubscriptions: natsErr("maximum subscriptions exceeded", false),
} as const satisfies Record<string, NatsErr>;
export type NatsErrName = keyof typeof NATS_ERR;

/**
 * Why a NatsParser stopped. Stable: logs, metric labels and tests name them. Every one closes
 * the connection (nats-server's parser has no recoverable error); `NatsProtocolError.err` says
 * which `-ERR`, if any, to send first.
 */
export const NatsErrorCode = {
  /** A byte no operation allows at that point (parser.go parseErr). -ERR 'Unknown Protocol Operation'. */
  UnknownOperation: "NATS_ERR_UNKNOWN_OPERATION",
  /** Arguments longer than maxControlLine. -ERR 'maximum control line exceeded'. */
  MaxControlLine: "NATS_ERR_MAX_CONTROL_LINE",
  /** A PUB/HPUB size above maxPayload. -ERR 'Maximum Payload Violation'. */
  MaxPayload: "NATS_ERR_MAX_PAYLOAD",
  /** An operation other than CONNECT while `awaitingConnect`. -ERR 'Authorization Violation'. */
  AuthorizationViolation: "NATS_ERR_AUTHORIZATION_VIOLATION",
  /** PUB arguments that do not parse (client.go processPub). No -ERR. */
  BadPubArgs: "NATS_ERR_BAD_PUB_ARGS",
  /** HPUB arguments that do not parse (client.go processHeaderPub). No -ERR. */
  BadHpubArgs: "NATS_ERR_BAD_HPUB_ARGS",
  /** HPUB from a client without header support (ErrMsgHeadersNotSupported). No -ERR. */
  HeadersNotSupported: "NATS_ERR_HEADERS_NOT_SUPPORTED",
  /** SUB with other than 2 or 3 arguments (client.go parseSub). No -ERR. */
  BadSubArgs: "NATS_ERR_BAD_SUB_ARGS",
  /** UNSUB with other than 1 or 2 arguments (client.go processUnsub). No -ERR. */
  BadUnsubArgs: "NATS_ERR_BAD_UNSUB_ARGS",
  /** INFO whose argument is not a JSON object (client.go processInfo). No -ERR. */
  BadInfo: "NATS_ERR_BAD_INFO",
  /** The client sent `-ERR` (client.go processErr closes a client that does). No -ERR. */
  ClientErr: "NATS_ERR_CLIENT_ERR",
} as const;
export type NatsErrorCode = (typeof NatsErrorCode)[keyof typeof NatsErrorCode];

/**
 * A rule a NATS client broke, as the NatsParser reports it (once; it then ignores all input).
 * The connection adds the peer address when it logs it, as for FrameError.
 */
export class NatsProtocolError extends Error {
  override readonly name = "NatsProtocolError";
  /**
   * @param code the rule broken.
   * @param err the `-ERR` to send before closing, or undefined where nats-server sends none.
   * @param reason what was seen, for a human (`PUB arguments "foo" need 2 or 3 fields`).
   * @param offset where the offending operation starts, in bytes from the first one pushed.
   */
  constructor(
    readonly code: NatsErrorCode,
    readonly err: NatsErr | undefined,
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${code}: ${reason} (operation at stream offset ${offset})`);
  }

  /** Whether the connection must close: always, for a parser error (kept for the table's shape). */
  get closes(): boolean {
    return true;
  }
}
