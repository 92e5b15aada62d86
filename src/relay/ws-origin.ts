/**
 * The WebSocket port's origin check, as nats-server 2.9's websocket listener does it
 * (server/websocket.go checkOrigin, wsGetHostAndPort, wsSetOriginOptions):
 * - with neither `--ws-same-origin` nor `--ws-allowed-origins`, every origin is accepted;
 * - a request without `Origin` (nor `Sec-WebSocket-Origin`) is accepted: RFC 6455 §1.6, a
 *   client that is not a browser can claim any origin, so the header only guards pages;
 * - `--ws-same-origin`: the origin's host and port must be the request's `Host` (port 80 or
 *   443 implied by the scheme when absent);
 * - `--ws-allowed-origins`: the origin's host must be listed, with the same scheme and port.
 * A refused upgrade is answered `403 Forbidden`, as nats-server does.
 */

/** One allowed origin: scheme (`http`, `https`), lower-case host, port as text. */
export interface AllowedOrigin {
  scheme: string;
  host: string;
  port: string;
}

/** The origin rules of a WebSocket port. */
export interface OriginPolicy {
  sameOrigin: boolean;
  /** By lower-case host, as nats-server keys its map (a later entry for a host wins). */
  allowed: ReadonlyMap<string, AllowedOrigin>;
}

/** Host and port of `hostport`; the scheme's default port when none is given. */
function hostAndPort(tls: boolean, hostport: string): { host: string; port: string } {
  // [v6]:port, host:port, or either without a port.
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  const host = (match?.[1] ?? hostport).toLowerCase();
  const port = match?.[2] || (tls ? "443" : "80");
  return { host, port };
}

/**
 * Parses one `--ws-allowed-origins` entry (`https://app.example.com`, `http://localhost:8080`).
 * @throws Error when it is not an absolute URL with a host.
 */
export function parseAllowedOrigin(text: string): AllowedOrigin {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`'${text}' is not an origin URL (scheme://host[:port])`);
  }
  if (url.host === "") throw new Error(`'${text}' has no host`);
  const scheme = url.protocol.slice(0, -1);
  // URL drops a default port; hostAndPort puts it back from the scheme.
  const { host, port } = hostAndPort(scheme === "https", url.host);
  return { scheme, host, port };
}

/** A policy from the parsed options. */
export function originPolicy(sameOrigin: boolean, allowed: readonly AllowedOrigin[]): OriginPolicy {
  return { sameOrigin, allowed: new Map(allowed.map((origin) => [origin.host, origin])) };
}

/**
 * Returns undefined when the upgrade may go on, else why not (for the log).
 * `origin`: the request's Origin (or Sec-WebSocket-Origin) header, null when absent;
 * `requestHost`: its Host header; `tls`: the request came over TLS.
 */
export function checkOrigin(
  policy: OriginPolicy,
  origin: string | null,
  requestHost: string | null,
  tls: boolean,
): string | undefined {
  if (!policy.sameOrigin && policy.allowed.size === 0) return undefined;
  if (origin === null || origin === "") return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `origin '${origin}' is not a URL`;
  }
  const scheme = url.protocol.slice(0, -1);
  const { host, port } = hostAndPort(scheme === "https", url.host);
  if (policy.sameOrigin) {
    const request = hostAndPort(tls, requestHost ?? "");
    if (host !== request.host || port !== request.port) {
      return `origin '${origin}' is not the same origin as Host '${requestHost ?? ""}'`;
    }
  }
  if (policy.allowed.size > 0) {
    const allowed = policy.allowed.get(host);
    if (allowed === undefined || allowed.scheme !== scheme || allowed.port !== port) {
      return `origin '${origin}' is not in --ws-allowed-origins`;
    }
  }
  return undefined;
}
