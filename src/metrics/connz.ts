/**
 * `GET /connz` in nats-server's JSON shape (server/monitor.go `Connz`, `ConnInfo`,
 * `HandleConnz`; sort keys from monitor_sort_opts.go), over every connection in the relay's
 * ConnectionRegistry: line and frame publishers and subscribers, NATS and WebSocket clients.
 *
 * Query parameters, parsed as nats-server parses them (an unreadable value is a 400 with
 * nats-server's message): `sort`, `limit` (default 1024, as DefaultConnListSize), `offset`,
 * `cid` (one connection: limit 1), `subs` (`subscriptions_list`), `auth` (`authorized_user`).
 * Field names are monitor.go's; `kind` holds ours (line, frame, nats, ws) and `role`,
 * `held_ms`, `stalled_ms` are the relay's own. docs/monitoring.md lists what is left out.
 */
import type { RegisteredConnection } from "../relay/connection-registry.ts";
import { goTime, goUptime } from "./go-format.ts";

/** nats-server's DefaultConnListSize. */
export const DEFAULT_CONN_LIST_SIZE = 1024;

/**
 * The sort keys we honour and how: `cid`/`start` ascending, `uptime` shortest first, the rest
 * descending (monitor.go `Connz`). Ties go by cid, so a listing is the same twice.
 */
const SORTS: Readonly<Record<string, (a: ConnInfo, b: ConnInfo) => number>> = {
  cid: (a, b) => a.cid - b.cid,
  start: (a, b) => a.cid - b.cid,
  uptime: (a, b) => b.cid - a.cid,
  subs: (a, b) => b.subscriptions - a.subscriptions,
  pending: (a, b) => b.pending_bytes - a.pending_bytes,
  msgs_to: (a, b) => b.out_msgs - a.out_msgs,
  msgs_from: (a, b) => b.in_msgs - a.in_msgs,
  bytes_to: (a, b) => b.out_bytes - a.out_bytes,
  bytes_from: (a, b) => b.in_bytes - a.in_bytes,
};

/** nats-server's other sort keys, and why we refuse them (400). */
const REFUSED_SORTS: Readonly<Record<string, string>> = {
  last: "sort by last is not supported: the relay keeps no last activity per connection",
  idle: "sort by idle is not supported: the relay keeps no last activity per connection",
  stop: "sort by stop only valid on closed connections",
  reason: "sort by reason only valid on closed connections",
};

/** One entry of `connections`, monitor.go ConnInfo's names (and three of ours). */
export interface ConnInfo {
  cid: number;
  kind: string;
  role?: string;
  ip: string;
  port: number;
  start: string;
  uptime: string;
  pending_bytes: number;
  held_ms: number;
  stalled_ms: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  name?: string;
  tls_version?: string;
  tls_cipher_suite?: string;
  authorized_user?: string;
  subscriptions_list?: string[];
}

export interface ConnzQuery {
  sort: string;
  limit: number;
  offset: number;
  cid: number;
  subs: boolean;
  auth: boolean;
}

/** A query nats-server would refuse, or one we cannot honour: answered 400 with `message`. */
export class QueryError extends Error {
  override readonly name = "QueryError";
}

/** Go's strconv.ParseBool. */
function parseGoBool(params: URLSearchParams, name: string): boolean {
  const text = params.get(name) ?? "";
  if (text === "") return false;
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  throw new QueryError(
    `Error decoding boolean for '${name}': strconv.ParseBool: parsing "${text}": invalid syntax`,
  );
}

/** Go's strconv.Atoi (decimal, optional sign). */
function parseGoInt(params: URLSearchParams, name: string, type = "int"): number {
  const text = params.get(name) ?? "";
  if (text === "") return 0;
  const pattern = type === "uint64" ? /^[0-9]+$/ : /^[+-]?[0-9]+$/;
  if (!pattern.test(text) || !Number.isSafeInteger(Number(text))) {
    const fn = type === "uint64" ? "ParseUint" : "Atoi";
    throw new QueryError(
      `Error decoding ${type} for '${name}': strconv.${fn}: parsing "${text}": invalid syntax`,
    );
  }
  return Number(text);
}

/**
 * Reads /connz's query as HandleConnz does. Throws QueryError for a bad number or boolean, an
 * unknown sort key, `subs=detail` or a `state` other than open (the relay keeps no closed
 * connections).
 */
export function parseConnzQuery(params: URLSearchParams): ConnzQuery {
  const sort = params.get("sort") || "cid";
  const refused = REFUSED_SORTS[sort];
  if (refused !== undefined) throw new QueryError(refused);
  if (SORTS[sort] === undefined) throw new QueryError(`invalid sorting option: ${sort}`);
  if ((params.get("subs") ?? "").toLowerCase() === "detail") {
    throw new QueryError("subs=detail is not supported: use subs=1");
  }
  const state = params.get("state") ?? "";
  if (state !== "" && state.toLowerCase() !== "open") {
    throw new QueryError(`state=${state} is not supported: the relay keeps no closed connections`);
  }
  const offset = parseGoInt(params, "offset");
  const limit = parseGoInt(params, "limit");
  return {
    sort,
    offset: Math.max(0, offset),
    limit: limit <= 0 ? DEFAULT_CONN_LIST_SIZE : limit,
    cid: parseGoInt(params, "cid", "uint64"),
    subs: parseGoBool(params, "subs"),
    auth: parseGoBool(params, "auth"),
  };
}

/** nats-server prints "1.3"; Bun (OpenSSL) says "TLSv1.3". */
function tlsVersion(version: string): string {
  return version.startsWith("TLSv") ? version.slice(4) : version;
}

/** One connection as ConnInfo, read now. */
export function connInfo(
  connection: RegisteredConnection,
  now: number,
  query: ConnzQuery,
): ConnInfo {
  const figures = connection.figures();
  const info: ConnInfo = {
    cid: connection.cid,
    kind: connection.kind,
    ...(connection.role === undefined ? {} : { role: connection.role }),
    ip: connection.ip,
    port: connection.port,
    start: goTime(connection.start),
    uptime: goUptime(now - connection.start),
    pending_bytes: figures.pendingBytes,
    held_ms: Math.round(figures.heldMs),
    stalled_ms: Math.round(figures.stalledMs),
    in_msgs: figures.inMsgs,
    out_msgs: figures.outMsgs,
    in_bytes: figures.inBytes,
    out_bytes: figures.outBytes,
    subscriptions: figures.subjects.length,
  };
  if (figures.name) info.name = figures.name;
  if (connection.tls !== undefined) {
    info.tls_version = tlsVersion(connection.tls.version);
    if (connection.tls.cipher) info.tls_cipher_suite = connection.tls.cipher;
  }
  // Only the user's name, and only when asked (`auth`), as nats-server: never a secret.
  if (query.auth && figures.user) info.authorized_user = figures.user;
  if (query.subs && figures.subjects.length > 0) info.subscriptions_list = [...figures.subjects];
  return info;
}

/** The /connz body (monitor.go Connz) for `connections` open now. */
export function connz(
  serverId: string,
  connections: readonly RegisteredConnection[],
  query: ConnzQuery,
  now = Date.now(),
): Record<string, unknown> {
  const chosen =
    query.cid > 0 ? connections.filter((connection) => connection.cid === query.cid) : connections;
  const limit = query.cid > 0 ? 1 : query.limit;
  const infos = chosen.map((connection) => connInfo(connection, now, query));
  const order = SORTS[query.sort] as (a: ConnInfo, b: ConnInfo) => number;
  infos.sort((a, b) => order(a, b) || a.cid - b.cid);
  const from = Math.min(query.offset, infos.length);
  const page = infos.slice(from, Math.min(query.offset + limit, infos.length));
  return {
    server_id: serverId,
    now: goTime(now),
    num_connections: page.length,
    total: connections.length,
    offset: query.offset,
    limit,
    connections: page,
  };
}
