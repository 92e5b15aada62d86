/**
 * The `--token` check of frame clients (issue 12): with a token set, a frame client must send
 * Conn(ID, token) before anything else; the relay answers ConnAck(ID, 0) or ConnAck(ID, 1)
 * and, on a wrong or missing token, closes the connection. Without a token, Conn is optional
 * and always answered ConnAck(ID, 0).
 *
 * The comparison is constant-time in the token's content and length: both sides are hashed
 * with SHA-256 first (so lengths never leak through an early exit), then compared with
 * `timingSafeEqual`, as haproxy and nats-server compare secrets.
 */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** One connection's state: whether it has presented the token yet. */
export class FrameAuth {
  /** True once the client may publish or receive: at once when no token is required. */
  authenticated: boolean;

  /** @param expected SHA-256 of the token (TokenCheck.expected), or undefined for none. */
  constructor(private readonly check: TokenCheck | undefined) {
    this.authenticated = check === undefined;
  }

  /**
   * A Conn arrived with token `bytes[start, end)`. Returns true when it is accepted (always,
   * without a configured token), and marks the connection authenticated.
   */
  conn(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.check === undefined) return true;
    this.authenticated = this.check.matches(bytes.subarray(start, end));
    return this.authenticated;
  }
}

/** The configured token, kept only as its SHA-256. */
export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(new TextEncoder().encode(token));
  }

  /** Whether `presented` is the token, in time independent of where they differ. */
  matches(presented: Uint8Array): boolean {
    return timingSafeEqual(digest(presented), this.expected);
  }
}
