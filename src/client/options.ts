/**
 * What `connect()` takes: the public option types, their defaults, and the one function that
 * checks them and fills in defaults (style habit 11: DEFAULTS plus a verify with specific
 * messages). Everything else in the SDK reads ResolvedOptions, never raw user input.
 */
import {
  FRAME_CODES,
  type FrameCodes,
  MAX_U32,
  MIN_REQUEST_FRAME,
} from "../protocol/frame-codec.ts";
import { ClientError, ClientErrorCode, peerOf } from "./errors.ts";
import type { ClientTlsOptions } from "./tls-options.ts";

/** A relay port's wire format: `line` (`\n`-terminated messages) or `frame` (seed 003 frames). */
export type Framing = "line" | "frame";

/** Which relay port a client speaks to: publishers send, subscribers receive. */
export type Role = "publisher" | "subscriber";

/**
 * How a client reconnects after its connection drops. Attempt n (from 1) waits
 * `min(maxDelayMs, initialDelayMs * factor^(n-1))`, less a random part of up to `jitter` of it,
 * so clients dropped together do not all come back in the same millisecond.
 *
 * @example
 * ```ts
 * // 20-40 ms, 40-80 ms, ... up to 0.5-1 s; give up after 30 attempts in a row.
 * await connect({ role: "subscriber", reconnect: { initialDelayMs: 40, maxDelayMs: 1000, maxAttempts: 30 } });
 * ```
 */
export interface ReconnectOptions {
  /** Delay before the first attempt, in milliseconds. Default 100. */
  initialDelayMs: number;
  /** The longest delay between attempts, in milliseconds. Default 5000. */
  maxDelayMs: number;
  /** Growth of the delay per failed attempt, at least 1. Default 2. */
  factor: number;
  /** Fraction (0 to 1) of each delay that is random: 0.5 waits 50% to 100% of it. Default 0.5. */
  jitter: number;
  /** Attempts in a row before the client gives up and closes. Default Infinity. */
  maxAttempts: number;
}

/** Options shared by publishers and subscribers. */
export interface CommonOptions {
  /** The relay's host name or address. Default `127.0.0.1`. */
  host?: string;
  /** The relay's port for this role. Default 7001 for publishers, 7002 for subscribers. */
  port?: number;
  /** The port's wire format, as the relay's `--framing` / `--pub-framing` / `--sub-framing`. Default `line`. */
  framing?: Framing;
  /**
   * The relay's `--token`. Frame mode only: sent as `Conn(ID, token)` on every connection, and
   * `connect` rejects with CLIENT_ERR_AUTH when the relay answers `ConnAck(ID, 1)`.
   */
  token?: string;
  /** The ack codes on the wire, as the relay's `--frame-codes`. Default `spec` (0x81/0x82). */
  codes?: FrameCodes;
  /**
   * TLS to a relay started with `--tls-cert` (docs/client.md "TLS"): `true` verifies against
   * the runtime's default CAs; an object is ClientTlsOptions (`ca`, `cert`/`key` for
   * `--tls-client-ca`, `serverName`), the same on Bun and Node. The connection counts as open once the handshake
   * succeeded; a failed one is CLIENT_ERR_CONNECT.
   */
  tls?: boolean | ClientTlsOptions;
  /**
   * `false`: no reconnect, a dropped connection closes the client. `true` (default) or
   * some ReconnectOptions: reconnect with exponential backoff and jitter.
   */
  reconnect?: boolean | Partial<ReconnectOptions>;
  /**
   * Milliseconds a connection may take: TCP (and TLS), then on a frame port the Conn/ConnAck
   * exchange every frame connection opens with. Past it the attempt fails: `connect` rejects
   * with CLIENT_ERR_CONNECT (a reconnect attempt counts as failed). Default 10000.
   */
  connectTimeoutMs?: number;
  /**
   * The largest payload published or received, in bytes. Default 1 MiB (the relay's default
   * `--max-line`), and 1048563 for a frame publisher: the relay's default `--max-frame`
   * (1 MiB) less a Submit's 13 header bytes.
   */
  maxPayload?: number;
}

/** `connect()` options for a publisher. */
export interface PublisherOptions extends CommonOptions {
  role: "publisher";
  /**
   * Frame mode: Submits sent and not yet acked, at most. Line mode: messages not yet taken by
   * the kernel, at most. Past it, `publish` waits (in call order). Default 1024.
   */
  maxInFlight?: number;
  /**
   * Milliseconds a `publish` may take, from the call until it settles (waiting for room or a
   * connection included), before it rejects with CLIENT_ERR_TIMEOUT; `publish`'s own
   * `timeoutMs` overrides it per call. A publish that timed out after it was sent may or may
   * not have been delivered (its ack, or the kernel taking it, just did not come in time).
   * 0 turns it off. Default 30000.
   */
  publishTimeoutMs?: number;
}

/** `connect()` options for a subscriber. */
export interface SubscriberOptions extends CommonOptions {
  role: "subscriber";
  /**
   * Bytes of received messages waiting for the iterator, past which the subscriber stops
   * reading its socket (TCP backpressure to the relay); it reads again below half of it.
   * It can be passed by up to one read (Bun reads at most 512 KiB). Default 1 MiB.
   */
  maxQueueBytes?: number;
}

/**
 * Everything `connect()` accepts; `role` picks the port and the returned type.
 *
 * @example
 * ```ts
 * const options: ConnectOptions = {
 *   role: "publisher",
 *   host: "relay.internal",
 *   port: 7001,
 *   framing: "frame",
 *   token: process.env.RELAY_TOKEN,
 *   maxInFlight: 256,
 *   reconnect: { initialDelayMs: 50, maxDelayMs: 2000 },
 * };
 * ```
 */
export type ConnectOptions = PublisherOptions | SubscriberOptions;

/** The options with every default filled in and checked. */
export interface ResolvedOptions {
  role: Role;
  host: string;
  port: number;
  /** `host:port`, for errors and events. */
  peer: string;
  framing: Framing;
  token: string | undefined;
  codes: FrameCodes;
  tls: boolean | ClientTlsOptions | undefined;
  /** undefined: reconnect is off. */
  reconnect: ReconnectOptions | undefined;
  connectTimeoutMs: number;
  maxPayload: number;
  maxInFlight: number;
  /** 0: no timeout. */
  publishTimeoutMs: number;
  maxQueueBytes: number;
}

/** The defaults of ReconnectOptions. */
export const DEFAULT_RECONNECT: Readonly<ReconnectOptions> = {
  initialDelayMs: 100,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** The relay's default ports per role. */
export const DEFAULT_PORTS: Readonly<Record<Role, number>> = { publisher: 7001, subscriber: 7002 };
/** The relay's default --max-line (and a frame subscriber gets a line message as it is). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** A frame publisher's default: the relay's default --max-frame less a Submit's 13 bytes. */
export const DEFAULT_MAX_SUBMIT_PAYLOAD = 1024 * 1024 - MIN_REQUEST_FRAME;
export const DEFAULT_MAX_IN_FLIGHT = 1024;
export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;
/** The longest timer Bun (like Node) can set, in ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Checks `options` and fills in the defaults.
 * @throws ClientError CLIENT_ERR_BAD_OPTION naming the first bad option.
 */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  const role = options.role;
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_PORTS[role] ?? 0;
  const peer = peerOf(host, port);
  const bad = (reason: string): ClientError =>
    new ClientError(ClientErrorCode.BadOption, peer, reason);

  if (role !== "publisher" && role !== "subscriber") {
    throw bad(`role must be "publisher" or "subscriber", got ${JSON.stringify(role)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad(`port must be an integer from 1 to 65535, got ${port}`);
  }
  const framing = options.framing ?? "line";
  if (framing !== "line" && framing !== "frame") {
    throw bad(`framing must be "line" or "frame", got ${JSON.stringify(framing)}`);
  }
  const codes = options.codes ?? "spec";
  if (!Object.hasOwn(FRAME_CODES, codes)) {
    throw bad(`codes must be "spec" or "article", got ${JSON.stringify(codes)}`);
  }
  if (options.token !== undefined && framing !== "frame") {
    throw bad("token needs framing: frame (a line connection has no way to present it)");
  }
  const framePublisher = framing === "frame" && role === "publisher";
  const maxPayload =
    options.maxPayload ?? (framePublisher ? DEFAULT_MAX_SUBMIT_PAYLOAD : DEFAULT_MAX_PAYLOAD);
  checkInteger(bad, "maxPayload", maxPayload, 1, MAX_U32 - MIN_REQUEST_FRAME);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  checkNumber(bad, "connectTimeoutMs", connectTimeoutMs, 1, MAX_TIMEOUT_MS);
  const maxInFlight = options.role === "publisher" ? options.maxInFlight : undefined;
  checkInteger(bad, "maxInFlight", maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 1, 2 ** 24);
  const publishTimeoutMs =
    (options.role === "publisher" ? options.publishTimeoutMs : undefined) ??
    DEFAULT_PUBLISH_TIMEOUT_MS;
  checkNumber(bad, "publishTimeoutMs", publishTimeoutMs, 0, MAX_TIMEOUT_MS);
  const maxQueueBytes = options.role === "subscriber" ? options.maxQueueBytes : undefined;
  checkInteger(bad, "maxQueueBytes", maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES, 1, 2 ** 40);

  return {
    role,
    host,
    port,
    peer,
    framing,
    token: options.token,
    codes,
    tls: options.tls,
    reconnect: resolveReconnect(options.reconnect, bad),
    connectTimeoutMs,
    maxPayload,
    maxInFlight: maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    publishTimeoutMs,
    maxQueueBytes: maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
  };
}

function resolveReconnect(
  reconnect: ConnectOptions["reconnect"],
  bad: (reason: string) => ClientError,
): ReconnectOptions | undefined {
  if (reconnect === false) return undefined;
  const resolved = { ...DEFAULT_RECONNECT, ...(reconnect === true ? {} : reconnect) };
  const { initialDelayMs, maxDelayMs, factor, jitter, maxAttempts } = resolved;
  checkNumber(bad, "reconnect.initialDelayMs", initialDelayMs, 0, 2 ** 31 - 1);
  checkNumber(bad, "reconnect.maxDelayMs", maxDelayMs, initialDelayMs, 2 ** 31 - 1);
  checkNumber(bad, "reconnect.factor", factor, 1, 1000);
  checkNumber(bad, "reconnect.jitter", jitter, 0, 1);
  if (maxAttempts !== Number.POSITIVE_INFINITY) {
    checkInteger(bad, "reconnect.maxAttempts", maxAttempts, 0, Number.MAX_SAFE_INTEGER);
  }
  return resolved;
}

function checkNumber(
  bad: (reason: string) => ClientError,
  name: string,
  value: number,
  min: number,
  max: number,
): void {
  if (typeof value !== "number" || !(value >= min && value <= max)) {
    throw bad(`${name} must be a number from ${min} to ${max}, got ${value}`);
  }
}

function checkInteger(
  bad: (reason: string) => ClientError,
  name: string,
  value: number,
  min: number,
  max: number,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
