/**
 * `GET /varz` and `GET /subsz` in nats-server's JSON shapes (server/monitor.go `Varz`,
 * `Subsz` with its embedded `SublistStats`), filled from the relay's running totals and its
 * ConnectionRegistry. Field names and units are monitor.go's: durations (`ping_interval`,
 * `write_deadline`) in nanoseconds as Go marshals time.Duration, `auth_timeout` and
 * `tls_timeout` in seconds, times as RFC 3339. Fields the relay has no value for are left
 * out (docs/monitoring.md lists them).
 */
import pkg from "../../package.json" with { type: "json" };
import type { ConnectionRegistry } from "../relay/connection-registry.ts";
import type { RelayOptions } from "../relay/options.ts";
import type { Counters } from "../relay/relay-stats.ts";
import { goTime, goUptime } from "./go-format.ts";

const NS_PER_SECOND = 1_000_000_000;

/** What /varz and /subsz read of the relay. `Relay` (src/relay/server.ts) satisfies it. */
export interface IntrospectionSource {
  /** The NATS port's INFO server_id (or one of the same form without --nats-port). */
  readonly serverId: string;
  readonly connections: ConnectionRegistry;
  readonly hub: { readonly counters: Readonly<Counters> };
  readonly config: Pick<
    RelayOptions,
    | "host"
    | "maxConns"
    | "maxSubscriptions"
    | "pingInterval"
    | "maxPingsOut"
    | "authTimeout"
    | "maxControlLine"
    | "maxPayload"
    | "maxPending"
    | "writeTimeout"
  >;
  /** The NATS port (undefined without --nats-port) and the publisher port (0 when off). */
  readonly natsPort: number | undefined;
  readonly pubPort: number;
  /** Subscriptions of NATS clients (the status page's tail not counted). */
  readonly natsSubscriptionCount: number;
  /** Line and frame subscribers: each reads the stream, one subscription. */
  readonly subscriberCount: number;
  /** The NATS port asks for credentials; its listeners speak TLS. */
  readonly authRequired: boolean;
  readonly tlsRequired: boolean;
}

/** Where the monitoring endpoint itself listens, and its own figures. */
export interface MonitorInfo {
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
  /** Epoch milliseconds the relay started. */
  readonly start: number;
  /** Requests per path served so far: /varz `http_req_stats`. */
  readonly requests: Readonly<Record<string, number>>;
  /** --tls handshake timeout in seconds: /varz `tls_timeout`. */
  readonly tlsTimeout: number;
}

/** Every subscription: NATS clients' and one per line/frame subscriber. */
export function subscriptionCount(source: IntrospectionSource): number {
  return source.natsSubscriptionCount + source.subscriberCount;
}

/** The /varz body. */
export function varz(
  source: IntrospectionSource,
  monitor: MonitorInfo,
  now = Date.now(),
): Record<string, unknown> {
  const { config, hub } = source;
  const counters = hub.counters;
  return {
    server_id: source.serverId,
    server_name: "bun-relay",
    version: pkg.version,
    proto: 1,
    go: `bun ${Bun.version}`,
    host: config.host,
    port: source.natsPort ?? source.pubPort,
    ...(source.authRequired ? { auth_required: true } : {}),
    ...(source.tlsRequired ? { tls_required: true } : {}),
    max_connections: config.maxConns,
    ...(config.maxSubscriptions > 0 ? { max_subscriptions: config.maxSubscriptions } : {}),
    ping_interval: config.pingInterval * NS_PER_SECOND,
    ping_max: config.maxPingsOut,
    http_host: monitor.host,
    http_port: monitor.https ? 0 : monitor.port,
    http_base_path: "",
    https_port: monitor.https ? monitor.port : 0,
    auth_timeout: config.authTimeout,
    max_control_line: config.maxControlLine,
    max_payload: config.maxPayload,
    max_pending: config.maxPending,
    tls_timeout: monitor.tlsTimeout,
    write_deadline: config.writeTimeout * NS_PER_SECOND,
    start: goTime(monitor.start),
    now: goTime(now),
    uptime: goUptime(now - monitor.start),
    mem: process.memoryUsage.rss(),
    cores: navigator.hardwareConcurrency,
    connections: source.connections.size,
    total_connections: source.connections.total,
    in_msgs: counters.messagesReceived,
    out_msgs: counters.messagesSent,
    in_bytes: counters.bytesReceived,
    out_bytes: counters.bytesSent,
    slow_consumers: counters.slowConsumerDisconnects,
    subscriptions: subscriptionCount(source),
    http_req_stats: { ...monitor.requests },
  };
}

/**
 * The /subsz body: the count, and the paging fields nats-server writes without `subs=1`
 * (`total` is the length of the list, 0 without one). No list here: /connz?subs=1 gives
 * each connection's subjects.
 */
export function subsz(source: IntrospectionSource, now = Date.now()): Record<string, unknown> {
  return {
    server_id: source.serverId,
    now: goTime(now),
    num_subscriptions: subscriptionCount(source),
    total: 0,
    offset: 0,
    limit: 1024,
  };
}
