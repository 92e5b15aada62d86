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
 *
 * With `--users-file` (nats-users.ts), a CONNECT's `user` picks the user (server/auth.go
 * isClientAuthorized looks users up by name) and its `pass` is checked by the same rule; the
 * answer carries that user's permissions. `setUsers` (SIGHUP) swaps the list: connections
 * admitted before keep the permissions they were admitted with.
 */
import { timingSafeEqual } from "node:crypto";
import { UserPermissions } from "./nats-permissions.ts";
import type { NatsUser } from "./nats-users.ts";

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
  /** --users-file's users; excludes the three above (checked by the command line). */
  users?: readonly NatsUser[] | undefined;
}

/** A CONNECT that passed: whose rights it has (undefined: everything). */
export interface Admission {
  readonly user: string | undefined;
  readonly permissions: UserPermissions | undefined;
}

/** No credentials needed, or the token / --user: every right. */
const ADMITTED: Admission = { user: undefined, permissions: undefined };

interface UserEntry {
  readonly password: string;
  readonly admission: Admission;
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
  private users: Map<string, UserEntry> | undefined;

  constructor(private readonly credentials: NatsCredentials) {
    if (credentials.users !== undefined) this.setUsers(credentials.users);
  }

  /** True when a client must CONNECT with credentials (INFO `auth_required`). */
  get required(): boolean {
    const { token, user } = this.credentials;
    return token !== undefined || user !== undefined || this.users !== undefined;
  }

  /** Replaces the users (SIGHUP): new CONNECTs are checked against these. */
  setUsers(users: readonly NatsUser[]): void {
    this.users = new Map(
      users.map((user) => [
        user.user,
        {
          password: user.password,
          admission: {
            user: user.user,
            permissions:
              user.permissions === undefined ? undefined : new UserPermissions(user.permissions),
          },
        },
      ]),
    );
  }

  /**
   * The admission when `connect` carries the configured token, or user and password;
   * undefined when not. Synchronous unless a bcrypt hash must be checked for a password not
   * verified before: then a Promise (Bun.password.verify runs off the event loop).
   */
  check(connect: ConnectCredentials): Admission | undefined | Promise<Admission | undefined> {
    const { token, user, pass } = this.credentials;
    if (token !== undefined) {
      const sent = connect.auth_token;
      return typeof sent === "string"
        ? admit(this.secretMatches(sent, token), ADMITTED)
        : undefined;
    }
    if (typeof connect.user !== "string" || typeof connect.pass !== "string") {
      return this.required ? undefined : ADMITTED;
    }
    if (this.users !== undefined) {
      const entry = this.users.get(connect.user);
      if (entry === undefined) return undefined;
      return admit(this.secretMatches(connect.pass, entry.password), entry.admission);
    }
    if (user !== undefined) {
      if (!sameSecret(connect.user, user)) return undefined;
      return admit(this.secretMatches(connect.pass, pass ?? ""), ADMITTED);
    }
    return ADMITTED;
  }

  /**
   * --tls-map-user: the admission of the first of `names` (nats-cert-user.ts, in nats-server's
   * order) that is a user of --users-file; undefined when none is (or there is no file).
   */
  byCertificate(names: readonly string[]): Admission | undefined {
    for (const name of names) {
      const entry = this.users?.get(name);
      if (entry !== undefined) return entry.admission;
    }
    return undefined;
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

/** `admission` when the secret matched (now or once its bcrypt check answers). */
function admit(
  matched: boolean | Promise<boolean>,
  admission: Admission,
): Admission | undefined | Promise<Admission | undefined> {
  if (matched === true) return admission;
  if (matched === false) return undefined;
  return matched.then((ok) => (ok ? admission : undefined));
}
