/**
 * Who may use the proxy and where to: `--allow host:port` patterns and `--auth user:password`.
 * Pure functions, no sockets.
 */
import { timingSafeEqual } from "node:crypto";

/**
 * One `--allow` pattern. Host: an exact name or address (case-insensitive), `*.example.com`
 * (any subdomain, not the domain itself), or `*`. Port: a number, a range `8000-8999`, or `*`.
 */
export interface AllowPattern {
  text: string;
  matches(host: string, port: number): boolean;
}

/** Parses an --allow pattern; throws a plain Error with the reason. */
export function parseAllowPattern(text: string): AllowPattern {
  const match =
    /^(\*|\*\.[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\*|\d{1,5}(?:-\d{1,5})?)$/.exec(
      text.trim(),
    );
  if (!match) {
    throw new Error(
      `'${text}' is not an allow pattern (examples: example.com:443, *.internal:*, 10.0.0.5:8000-8999)`,
    );
  }
  const hostPattern = (match[1] as string).toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const portPattern = match[2] as string;
  let low = 1;
  let high = 65535;
  if (portPattern !== "*") {
    const [from, to = from] = portPattern.split("-").map(Number) as [number, number?];
    low = from;
    high = to;
    if (low < 1 || high > 65535 || low > high) throw new Error(`'${text}' has a bad port range`);
  }
  const hostMatches = (host: string): boolean => {
    const name = host.toLowerCase();
    if (hostPattern === "*") return true;
    if (hostPattern.startsWith("*.")) return name.endsWith(hostPattern.slice(1));
    return name === hostPattern;
  };
  return {
    text,
    matches: (host, port) => port >= low && port <= high && hostMatches(host),
  };
}

/** True when some pattern allows `host:port`. */
export function isAllowed(patterns: readonly AllowPattern[], host: string, port: number): boolean {
  return patterns.some((pattern) => pattern.matches(host, port));
}

/** True for addresses that only this machine can reach: a proxy there is not an open proxy. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parses `--auth user:password`; throws a plain Error with the reason. */
export function parseCredentials(text: string): string {
  const colon = text.indexOf(":");
  if (colon <= 0) throw new Error("--auth takes user:password (the user must not be empty)");
  return text;
}

const sha256 = (text: string): Buffer =>
  Buffer.from(new Bun.CryptoHasher("sha256").update(text).digest());

/**
 * Checks a `Proxy-Authorization: Basic …` value against `user:password`. The comparison runs
 * on SHA-256 digests with timingSafeEqual, so neither the content nor the length of the
 * expected credentials leaks through timing.
 */
export function checkProxyAuthorization(header: string | undefined, expected: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  const offered = match ? Buffer.from(match[1] as string, "base64").toString("utf8") : "";
  const equal = timingSafeEqual(sha256(offered), sha256(expected));
  return match !== null && equal;
}
