/**
 * What the relay core is configured with. The core owns these types; the command line
 * (src/cli/config.ts) maps flags and environment variables onto them, so the dependency
 * points inward: nothing under src/relay imports from src/cli.
 */
import type { NatsUser } from "./nats-users.ts";
import type { AllowedOrigin } from "./ws-origin.ts";

/**
 * What the relay does when a subscriber falls behind:
 * - `stall` (default): hold every publisher while a backlog is over the high-water mark, as
 *   `block` does, but for at most `stallTimeoutMs` per episode; a subscriber that holds them
 *   longer is left behind and cut at `maxPending` (nats-server's shape: producers are stalled
 *   above 3/4 of max_pending, and a consumer that stays behind is cut).
 * - `disconnect`: cut the subscriber as soon as its backlog would pass `maxPending`.
 * - `drop`: drop whole batches for it while it is over `maxPending` (an episode is reported
 *   when a batch reaches it again, its backlog drains to the low-water mark, or it closes).
 * - `block`: hold every publisher while any backlog is over the high-water mark, without limit.
 */
export const SLOW_CONSUMER_POLICIES = ["stall", "disconnect", "drop", "block"] as const;
export type SlowConsumerPolicy = (typeof SLOW_CONSUMER_POLICIES)[number];

/**
 * A port's wire format: `line` (newline-terminated messages, seed 000) or `frame` (seed 003's
 * length-prefixed frames with acknowledged Submits; src/protocol/frame-wire.ts).
 */
export const FRAMINGS = ["line", "frame"] as const;
export type Framing = (typeof FRAMINGS)[number];

/** Seed 003's ack command codes: its protocol table (`spec`) or its Go code (`article`). */
export const FRAME_CODE_SETS = ["spec", "article"] as const;

export interface RelayOptions extends NatsLimits {
  /** Address both listeners bind to. */
  host: string;
  /** Publisher port; 0 picks a free one; undefined: off (no line/frame publishers). */
  pubPort: number | undefined;
  /** Subscriber port; 0 picks a free one; undefined: off (no line/frame subscribers). */
  subPort: number | undefined;
  /** Wire format of the publisher port. */
  pubFraming: Framing;
  /** Wire format of the subscriber port. */
  subFraming: Framing;
  /** Ack command codes on frame ports. */
  frameCodes: (typeof FRAME_CODE_SETS)[number];
  /** Longest message accepted from a line publisher, in bytes, not counting the newline. */
  maxLine: number;
  /**
   * Largest frame accepted from a frame client, in bytes, its 4-byte length included; a
   * larger one closes the connection, judged from its header before the body is buffered.
   */
  maxFrame: number;
  /**
   * Frame clients must first send Conn(ID, token) with this token (compared in constant
   * time); undefined: Conn is optional. Only frame ports can carry it.
   */
  token: string | undefined;
  /** Bytes a subscriber may have queued in the relay before it counts as a slow consumer. */
  maxPending: number;
  slowConsumer: SlowConsumerPolicy;
  /**
   * Policy `stall`: seconds one subscriber may hold publishers in one episode (from the
   * moment its backlog passes the high-water mark until it falls to the low-water mark).
   */
  stallTimeout: number;
  /** Seconds a subscriber may accept no bytes while data waits for it; 0 turns it off. */
  writeTimeout: number;
  /** Most connections open at once, publishers and subscribers together; 0: no limit. */
  maxConns: number;
  /** Seconds between stats events; 0 turns them off. */
  statsInterval: number;
  /** Seconds shutdown waits for queued data to reach subscribers. */
  shutdownTimeout: number;
  /**
   * NATS server URLs of the backplane (docs/cluster.md); empty: no cluster, this relay is
   * alone. `nats://[user:pass@|token@]host:port` or `tls://…`.
   */
  cluster: readonly string[];
  /**
   * The NATS subject the nodes share; undefined: `bun-relay.PUB_PORT.SUB_PORT` (the bound
   * ports), so unrelated relays on one NATS do not mix by accident.
   */
  clusterSubject: string | undefined;
  /** This node's id on the backplane, 16 hex digits; undefined: a random one. */
  nodeId: string | undefined;
  /**
   * SO_REUSEPORT on the relay's ports (and the metrics port): several relay processes on one
   * host share them, the kernel spreading connections across them.
   */
  reusePort: boolean;
  /** The NATS client-protocol port (docs/nats.md); undefined: none. 0 picks a free one. */
  natsPort: number | undefined;
  /** NATS over WebSocket (docs/nats.md "WebSocket"); undefined: none. 0 picks a free one. */
  wsPort: number | undefined;
  /** --ws-allowed-origins: origins a browser page may connect from; empty: any. */
  wsAllowedOrigins: AllowedOrigin[];
  /** --ws-same-origin: a page's origin must be the Host it connected to. */
  wsSameOrigin: boolean;
  /** --ws-compression: permessage-deflate with clients that offer it. */
  wsCompression: boolean;
  /** The literal subject line and frame publishers publish to. */
  subject: string;
  /** What line and frame subscribers receive (wildcards allowed); undefined: `subject`. */
  subSubject: string | undefined;
}

/**
 * The NATS port's limits and credentials, as nats-server 2.9 names them (defaults from its
 * server/const.go); part of RelayOptions.
 */
export interface NatsLimits {
  /** max_payload: bytes of one PUB (an HPUB's headers and payload together), sent in INFO. */
  maxPayload: number;
  /** max_control_line: bytes of one operation's arguments. */
  maxControlLine: number;
  /** ping_interval, seconds; 0 sends no PING. */
  pingInterval: number;
  /** ping_max: PINGs left unanswered before 'Stale Connection'. */
  maxPingsOut: number;
  /** authorization timeout, seconds: a client must CONNECT with credentials within it. */
  authTimeout: number;
  /** max_subscriptions per connection; 0: no limit. */
  maxSubscriptions: number;
  /** user/password: both or neither. A password (or a token) like `$2a$11$…` is a bcrypt hash. */
  user: string | undefined;
  pass: string | undefined;
  /** --users-file: users with permissions (nats-users.ts), read again on SIGHUP. */
  usersFile: string | undefined;
  /** The users read from `usersFile` (at start; a reload reads the file itself). */
  users: readonly NatsUser[] | undefined;
  /**
   * --tls-map-user (nats-server's `verify_and_map`): with --users-file and --tls-client-ca, a
   * NATS client's certificate names its user (nats-cert-user.ts); CONNECT's user/pass are not
   * used.
   */
  tlsMapUser: boolean;
  /** --line-user: the user of --users-file whose rights line and frame ports act under. */
  lineUser: string | undefined;
}

/** nats-server's defaults (server/const.go). */
export const DEFAULT_NATS_LIMITS: Readonly<NatsLimits> = {
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  pingInterval: 120,
  maxPingsOut: 2,
  authTimeout: 2,
  maxSubscriptions: 0,
  user: undefined,
  pass: undefined,
  usersFile: undefined,
  users: undefined,
  tlsMapUser: false,
  lineUser: undefined,
};

/**
 * The defaults. `stallTimeout` 0.25 s: long enough that a subscriber which pauses for 100 ms
 * (a GC pause, a busy consumer) is never cut, short enough that one which stops reading holds
 * the others for a quarter of a second, and that one reading 1 MB/s (0.7 s to drain the
 * high-water mark to the low) is found slow; see BENCHMARKS.md, "Issue 11".
 */
export const DEFAULT_RELAY_OPTIONS: Readonly<RelayOptions> = {
  host: "0.0.0.0",
  pubPort: 7001,
  subPort: 7002,
  pubFraming: "line",
  subFraming: "line",
  frameCodes: "spec",
  maxLine: 1024 * 1024,
  maxFrame: 1024 * 1024,
  token: undefined,
  maxPending: 8 * 1024 * 1024,
  slowConsumer: "stall",
  stallTimeout: 0.25,
  writeTimeout: 10,
  maxConns: 0,
  statsInterval: 60,
  shutdownTimeout: 5,
  cluster: [],
  clusterSubject: undefined,
  nodeId: undefined,
  reusePort: false,
  natsPort: undefined,
  wsPort: undefined,
  wsAllowedOrigins: [],
  wsSameOrigin: false,
  wsCompression: false,
  subject: "relay",
  subSubject: undefined,
  ...DEFAULT_NATS_LIMITS,
};
