/**
 * --cluster URLs: `nats://[user:password@|token@]host[:port]`, or `tls://…` to require TLS
 * (the server's certificate checked against the system's CAs). Credentials apply to every
 * server (the NATS client takes one set), so URLs that give different ones are refused.
 * Pure: no I/O.
 */

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
