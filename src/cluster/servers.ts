/**
 * --cluster URLs: `nats://[user:password@|token@]host[:port]`, or `tls://…` to require TLS
 * (the server's certificate checked against the system's CAs). Credentials apply to every
 * server (the NATS client takes one set), so URLs that give different ones are refused.
 * And how a node dials them: the NATS client's options and the retry and reconnect delays
 * (the connection itself is the backplane's, backplane.ts). Pure: no I/O.
 */
import type { NodeConnectionOptions } from "@nats-io/transport-node";

/** The first connection: retry delays double from this up to the maximum, with jitter. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/** Reconnects: delays double from this up to 2 s, plus up to 100 ms of jitter (ours). */
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 2000;
const RECONNECT_JITTER_MS = 100;

export interface NatsServer {
  /** `host:port`, what the NATS client dials. */
  hostport: string;
  /** The URL without its credentials, for logs. */
  display: string;
  user?: string;
  pass?: string;
  token?: string;
  tls: boolean;
}

const DEFAULT_NATS_PORT = 4222;

/** Parses one --cluster URL. @throws Error saying what is wrong. */
export function parseNatsUrl(text: string): NatsServer {
  const withScheme = text.includes("://") ? text : `nats://${text}`;
  const scheme = withScheme.slice(0, withScheme.indexOf("://"));
  if (scheme !== "nats" && scheme !== "tls") {
    throw new Error(`'${text}': the scheme must be nats:// or tls://`);
  }
  let url: URL;
  try {
    // URL knows no nats: scheme's default port; parse as http and read the parts back.
    url = new URL(`http://${withScheme.slice(scheme.length + 3)}`);
  } catch {
    throw new Error(`'${text}' is not a URL like nats://host:4222`);
  }
  if (url.hostname === "") throw new Error(`'${text}' has no host`);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new Error(`'${text}': a NATS URL has no path or query`);
  }
  const port = url.port === "" ? DEFAULT_NATS_PORT : Number(url.port);
  const host = url.hostname;
  const hostport = `${host}:${port}`;
  const server: NatsServer = {
    hostport,
    display: `${scheme}://${hostport}`,
    tls: scheme === "tls",
  };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  if (user !== "" && pass !== "") {
    server.user = user;
    server.pass = pass;
  } else if (user !== "") {
    server.token = user;
  }
  return server;
}

/** The credentials and TLS setting shared by all servers. @throws Error when they differ. */
export function sharedSettings(servers: readonly NatsServer[]): {
  user?: string;
  pass?: string;
  token?: string;
  tls: boolean;
} {
  const first = servers[0];
  if (!first) throw new Error("no --cluster server");
  for (const server of servers) {
    if (
      server.user !== first.user ||
      server.pass !== first.pass ||
      server.token !== first.token ||
      server.tls !== first.tls
    ) {
      throw new Error(
        `${server.display} and ${first.display} give different credentials or schemes (the NATS client takes one set for all servers)`,
      );
    }
  }
  const { user, pass, token, tls } = first;
  return {
    tls,
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    ...(token !== undefined ? { token } : {}),
  };
}

/**
 * The NATS client's options for a node: every server of the list, `noEcho`, reconnecting
 * forever with `reconnectDelay` (called before each attempt), PINGs every 10 s (3 missed:
 * stale), the shared credentials, TLS for tls:// URLs. @throws Error as sharedSettings.
 */
export function clusterConnectOptions(
  servers: readonly NatsServer[],
  nodeId: string,
  reconnectDelay: () => number,
): NodeConnectionOptions {
  const { tls, ...credentials } = sharedSettings(servers);
  return {
    servers: servers.map((s) => s.hostport),
    name: `bun-relay ${nodeId}`,
    noEcho: true,
    maxReconnectAttempts: -1,
    reconnectDelayHandler: reconnectDelay,
    pingInterval: 10_000,
    maxPingOut: 3,
    timeout: 5000,
    ...credentials,
    ...(tls ? { tls: {} } : {}),
  };
}

/** Milliseconds before first-connection attempt `attempt` + 1: 250 ms doubling to 5 s, ±20%. */
export function firstRetryDelay(attempt: number): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * Math.random()));
}

/**
 * Milliseconds before a reconnect, after `attempts` reconnect attempts since the connection
 * was lost: 100 ms doubling to 2 s, plus up to 100 ms of jitter. nats.js adds
 * `reconnectJitter` only in its own delay handler, not to ours: the jitter is added here, so
 * that nodes cut by one NATS restart do not all come back at once.
 */
export function reconnectDelay(attempts: number): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return base + Math.floor(Math.random() * (RECONNECT_JITTER_MS + 1));
}
