/**
 * The client SDK's one error class. Every failure a publisher or subscriber reports (a refused
 * Submit, a dropped connection, a bad option) is a ClientError with a stable `code`, the
 * relay's `peer` address and a human `reason`, as the relay's own RelayError (style habit 6).
 */

/**
 * Stable codes of the client SDK. Match on these, not on messages.
 *
 * | code | when |
 * |---|---|
 * | `CLIENT_ERR_BAD_OPTION` | an option or argument is invalid (thrown by `connect` and misuse) |
 * | `CLIENT_ERR_CONNECT` | the first connection could not be made (refused, timed out, no ConnAck on a frame port) |
 * | `CLIENT_ERR_AUTH` | the relay answered `ConnAck(ID, 1)`: wrong token |
 * | `CLIENT_ERR_REFUSED` | the relay answered `SubmitAck(ID, 1)` (frame mode) |
 * | `CLIENT_ERR_DISCONNECTED` | the connection dropped before a publish was acked (frame) or taken by the kernel (line) |
 * | `CLIENT_ERR_CLOSED` | the client was closed, or gave up reconnecting |
 * | `CLIENT_ERR_TIMEOUT` | a publish did not settle within its timeout: maybe delivered, maybe not (if it was sent) |
 * | `CLIENT_ERR_NEWLINE` | line mode: the payload holds `\n` or ends in `\r` and cannot be one line |
 * | `CLIENT_ERR_TOO_LONG` | a payload above `maxPayload`, sent or received |
 * | `CLIENT_ERR_PROTOCOL` | the relay sent bytes that break the protocol |
 * | `CLIENT_ERR_ITERATING` | a second iteration of a subscriber while one runs |
 */
export const ClientErrorCode = {
  BadOption: "CLIENT_ERR_BAD_OPTION",
  Connect: "CLIENT_ERR_CONNECT",
  Auth: "CLIENT_ERR_AUTH",
  Refused: "CLIENT_ERR_REFUSED",
  Disconnected: "CLIENT_ERR_DISCONNECTED",
  Closed: "CLIENT_ERR_CLOSED",
  Timeout: "CLIENT_ERR_TIMEOUT",
  Newline: "CLIENT_ERR_NEWLINE",
  TooLong: "CLIENT_ERR_TOO_LONG",
  Protocol: "CLIENT_ERR_PROTOCOL",
  Iterating: "CLIENT_ERR_ITERATING",
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * A coded failure of the client SDK.
 *
 * - `code`: one of {@link ClientErrorCode}.
 * - `peer`: the relay's address as `host:port` (IPv6 in brackets), the one this client dials.
 * - `reason`: what happened, in words ("SubmitAck 00000003 result 1").
 * - `cause`: the underlying error when there is one (a socket error, a FrameError).
 *
 * `message` is `` `${code}: ${peer}: ${reason}` ``.
 *
 * @example
 * ```ts
 * try {
 *   await publisher.publish("hello");
 * } catch (error) {
 *   if (error instanceof ClientError && error.code === ClientErrorCode.Disconnected) {
 *     // not acked: it may or may not have reached subscribers (at-most-once)
 *   }
 * }
 * ```
 */
export class ClientError extends Error {
  override readonly name = "ClientError";

  constructor(
    readonly code: ClientErrorCode,
    readonly peer: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${peer}: ${reason}`, options);
  }
}

/** `host:port`, with an IPv6 host in brackets: the `peer` of every ClientError. */
export function peerOf(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Words for a socket error or close cause, for a ClientError's reason. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code)
      ? `${code}: ${cause.message}`
      : cause.message;
  }
  return String(cause);
}
