/**
 * Who may use the NATS port: a token (`--token`, CONNECT `auth_token`) or a user and password
 * (`--user`/`--pass`, CONNECT `user`/`pass`), as nats-server 2.9 checks them (server/auth.go
 * isClientAuthorized, comparePasswords). A configured token or password that looks like a
 * bcrypt hash (`^\$2[abxy]\$\d{2}\$`, nats-server's isBcrypt) is verified with bcrypt;
 * anything else is compared in constant time.
 *
 * bcrypt is deliberately slow (about 100 ms at cost 11): it runs off the event loop
 * (Bun.password.verify), so a wrong password cannot stall the relay, and a verified pair is
 * remembered (by SHA-256 of the password sent): a client that reconnects with the same
 * password costs one hash, not one bcrypt run.
 */
import { timingSafeEqual } from "node:crypto";

/** nats-server's isBcrypt: `$2a$`, `$2b$`, `$2x$` or `$2y$`, then a two-digit cost. */
const BCRYPT = /^\$2[abxy]\$\d{2}\$/;

/** True when a configured token or password is a bcrypt hash (nats-server's isBcrypt rule). */
export function isBcryptHash(secret: string): boolean {
  return BCRYPT.test(secret);
}

/** Remembered successful bcrypt checks, at most this many. */
const VERIFIED_MAX = 1024;

export interface NatsCredentials {
  token: string | undefined;
  user: string | undefined;
  pass: string | undefined;
}

/** What a CONNECT carried (its JSON fields, unchecked types). */
export interface ConnectCredentials {
  auth_token?: unknown;
  user?: unknown;
  pass?: unknown;
}

function sha256(text: string): Uint8Array {
  return new Bun.CryptoHasher("sha256").update(text).digest() as Uint8Array;
}

/** Constant-time comparison of two strings (by their SHA-256, so lengths do not leak). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export class NatsAuth {
  private readonly verified = new Set<string>();

  constructor(private readonly credentials: NatsCredentials) {}

  /** True when a client must CONNECT with credentials (INFO `auth_required`). */
  get required(): boolean {
    return this.credentials.token !== undefined || this.credentials.user !== undefined;
  }

  /**
   * True when `connect` carries the configured token, or user and password. Synchronous
   * unless a bcrypt hash must be checked for a password not verified before: then a Promise
   * (Bun.password.verify runs off the event loop).
   */
  check(connect: ConnectCredentials): boolean | Promise<boolean> {
    const { token, user, pass } = this.credentials;
    if (token !== undefined) {
      return (
        typeof connect.auth_token === "string" && this.secretMatches(connect.auth_token, token)
      );
    }
    if (user !== undefined) {
      if (typeof connect.user !== "string" || typeof connect.pass !== "string") return false;
      if (!sameSecret(connect.user, user)) return false;
      return this.secretMatches(connect.pass, pass ?? "");
    }
    return true;
  }

  /** `sent` against `configured`: bcrypt when `configured` is a hash, else constant time. */
  private secretMatches(sent: string, configured: string): boolean | Promise<boolean> {
    if (!BCRYPT.test(configured)) return sameSecret(sent, configured);
    const key = `${configured}\n${Buffer.from(sha256(sent)).toString("hex")}`;
    if (this.verified.has(key)) return true;
    // The four prefixes name the same algorithm for passwords of 72 bytes or less; Bun's
    // verifier reads $2b$ and $2y$, so $2a$ and $2x$ are checked as $2b$.
    const hash = configured.replace(/^\$2[ax]\$/, "$2b$");
    return Bun.password.verify(sent, hash, "bcrypt").then(
      (ok) => {
        if (ok) {
          if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
          this.verified.add(key);
        }
        return ok;
      },
      () => false,
    );
  }
}
