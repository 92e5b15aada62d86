/**
 * Prometheus metrics of the `tunnel` modes, served by the relay's metrics endpoint
 * (src/metrics/server.ts) with --metrics-port: the forwarding metrics of the connection table
 * (as bun_relay_forward_* in forward-metrics.ts, here bun_relay_tunnel_*) plus the sessions'.
 *
 * Every value is read at scrape time from the table's and the session book's running totals;
 * nothing is counted per chunk or per frame. Each metric has a `mode` label,
 * `tunnel-client` or `tunnel-server`.
 */
import { Counter, Gauge, Registry } from "prom-client";
import { METRIC_PREFIX, registerProcessMetrics } from "../metrics/scraped-metrics.ts";
import type { ConnectionTable } from "../pipe/connection-table.ts";
import type { SessionBook, SessionTotals } from "./session-book.ts";
import type { TunnelMode } from "./tunnel-events.ts";

const PREFIX = `${METRIC_PREFIX}tunnel_`;

/** What the registry reads: one tunnel side. */
export interface TunnelMetricsSource {
  readonly table: ConnectionTable<TunnelMode>;
  readonly sessions: SessionBook;
}

/** A counter restated from a running total at each scrape. */
function total(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: (set: (labels: Record<string, string>, value: number) => void) => void,
): void {
  new Counter({
    name: `${PREFIX}${name}`,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => this.inc(labels, value));
    },
  });
}

function gauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: (set: (labels: Record<string, string>, value: number) => void) => void,
): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    labelNames,
    registers: [registry],
    collect() {
      read((labels, value) => this.set(labels, value));
    },
  });
}

/** Builds a registry with the bun_relay_tunnel_* metrics of one tunnel side. */
export function createTunnelMetricsRegistry(
  source: TunnelMetricsSource,
  options: { defaultMetrics?: boolean } = {},
): Registry {
  const registry = new Registry();
  const { table, sessions } = source;
  const mode = table.mode;

  gauge(registry, "connections", "Tunnelled connections open now.", ["mode"], (set) =>
    set({ mode }, table.pipes.size),
  );
  total(
    registry,
    "connections_opened_total",
    "Tunnelled connections that reached OPEN: TCP side and stream both connected.",
    ["mode"],
    (set) => set({ mode }, table.totals.opened),
  );
  total(
    registry,
    "connections_closed_total",
    "Tunnelled connections closed, by close reason (refusals such as max_conns included).",
    ["mode", "reason"],
    (set) => {
      for (const [reason, count] of table.closedByReason) set({ mode, reason }, count);
    },
  );
  total(
    registry,
    "bytes_total",
    'Bytes piped: "up" from the accepting side (TCP client or stream) to the other, "down" back.',
    ["mode", "direction"],
    (set) => {
      const stats = table.snapshot();
      set({ mode, direction: "up" }, stats.bytesUp);
      set({ mode, direction: "down" }, stats.bytesDown);
    },
  );
  gauge(registry, "sessions", "smux sessions up now.", ["mode"], (set) =>
    set({ mode }, sessions.live.size),
  );
  gauge(registry, "streams", "smux streams open now over all sessions.", ["mode"], (set) =>
    set({ mode }, sessions.openStreams()),
  );
  total(registry, "sessions_opened_total", "smux sessions that came up.", ["mode"], (set) =>
    set({ mode }, sessions.opened),
  );
  total(
    registry,
    "sessions_closed_total",
    "smux sessions closed, by the code of their cause (MUX_ERR_KEEPALIVE_TIMEOUT, ...).",
    ["mode", "code"],
    (set) => {
      for (const [code, count] of sessions.closedByCode) set({ mode, code }, count);
    },
  );
  total(
    registry,
    "session_dial_failures_total",
    "Client: dials to the tunnel server that failed or timed out.",
    ["mode"],
    (set) => set({ mode }, sessions.dialFailures),
  );
  // The session counters by direction: one read of the summed totals gives both labels.
  const sessionInOut = (
    name: string,
    help: string,
    pick: (sum: SessionTotals) => readonly [inbound: number, outbound: number],
  ) =>
    total(registry, name, help, ["mode", "direction"], (set) => {
      const [inbound, outbound] = pick(sessions.totals());
      set({ mode, direction: "in" }, inbound);
      set({ mode, direction: "out" }, outbound);
    });
  sessionInOut(
    "session_bytes_total",
    "Bytes on the sessions' connections, frame headers included, by direction.",
    (sum) => [sum.bytesIn, sum.bytesOut],
  );
  sessionInOut("session_frames_total", "smux frames received and sent, any command.", (sum) => [
    sum.framesIn,
    sum.framesOut,
  ]);
  total(
    registry,
    "session_read_pauses_total",
    "Times a session stopped reading its connection (receive buffer spent: readers behind).",
    ["mode"],
    (set) => set({ mode }, sessions.totals().readPauses),
  );
  if (options.defaultMetrics ?? true) registerProcessMetrics(registry);
  return registry;
}
