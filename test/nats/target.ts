/**
 * The server under test for the NATS conformance suites (issue 20). One implementation runs
 * nats-server 2.9 (the reference, test/nats/nats-server-target.ts); the relay's `--nats-port`
 * is the other. The suites (nats-js-suite.ts, raw-protocol-suite.ts, go-client.test.ts) see a
 * server only through this interface, so every case runs unchanged against both.
 */

/**
 * The server settings a case needs. Each maps onto one nats-server 2.9 setting (named in
 * brackets); anything left out keeps that server's default. Times are in seconds.
 */
export interface NatsServerOptions {
  /** Clients must send this `auth_token` in CONNECT [authorization.token]. */
  token?: string;
  /** Clients must send this `user` and `pass` in CONNECT [authorization.user]. */
  user?: string;
  /** The password for `user`, as given or as a bcrypt hash (`$2a$…`, `$2b$…`) [authorization.password]. */
  pass?: string;
  /** Largest payload a PUB may carry, in bytes; INFO announces it (default 1 MiB) [max_payload]. */
  maxPayload?: number;
  /** Longest control line, without the op name, in bytes (default 4096) [max_control_line]. */
  maxControlLine?: number;
  /** Seconds between the server's PINGs to an idle client (default 120) [ping_interval]. */
  pingInterval?: number;
  /** PINGs left unanswered before 'Stale Connection' (default 2) [ping_max]. */
  maxPingsOut?: number;
  /** Seconds a client may take to send CONNECT when auth is on (default 2) [authorization.timeout]. */
  authTimeout?: number;
  /** Subscriptions one connection may hold (default unlimited) [max_subscriptions]. */
  maxSubscriptions?: number;
  /**
   * Users, each with a password (plain or bcrypt) and optional permissions
   * [authorization.users]; the relay gets them as a --users-file.
   */
  users?: readonly TestUser[];
  /** Listen on this port instead of a free one: how a case restarts a server it stopped. */
  port?: number;
}

/** `allow`/`deny` subjects of one direction (nats-server's permission map). */
export interface TestPermissionLists {
  allow?: string[];
  deny?: string[];
}

/** One user of {@link NatsServerOptions.users}. */
export interface TestUser {
  user: string;
  pass: string;
  permissions?: { publish?: TestPermissionLists; subscribe?: TestPermissionLists };
}

/** A server the target started, listening on 127.0.0.1. */
export interface RunningNats {
  readonly port: number;
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stops it, closing its clients' connections; resolves once the port is free again. */
  stop(): Promise<void>;
}

/**
 * A NATS server implementation the suites can start. A restart is `stop()` followed by
 * `start({ ...options, port })` with the old port.
 */
export interface NatsTarget {
  /** Shown in the test names, e.g. "nats-server". */
  readonly name: string;
  /** Why this target cannot run here (e.g. the program is not installed), or undefined. */
  readonly missing?: string;
  /** Starts a server with these settings; resolves once it accepts clients. */
  start(options: NatsServerOptions): Promise<RunningNats>;
}
