/**
 * Prometheus metrics of the `forward` and `proxy` modes, served by the relay's own metrics
 * endpoint (src/metrics/server.ts) when --metrics-port is given.
 *
 * As in src/metrics/registry.ts, nothing runs per chunk: every metric reads the connection
 * table's running totals in its collect() callback, at scrape time only. Counters are restated
 * from those totals at each scrape (reset, then inc by the total).
 */
import { Counter, Gauge, Registry } from "prom-client";
import { METRIC_PREFIX, registerProcessMetrics } from "../metrics/scraped-metrics.ts";
import type { ConnectionTable } from "../pipe/connection-table.ts";

const PREFIX = `${METRIC_PREFIX}forward_`;

/** Builds a registry with the bun_relay_forward_* metrics of one listener's table. */
export function createForwardMetricsRegistry(
  table: ConnectionTable,
  options: { defaultMetrics?: boolean } = {},
): Registry {
  const registry = new Registry();
  const mode = table.mode;
  const snapshot = () => table.snapshot();

  new Gauge({
    name: `${PREFIX}connections`,
    help: "Client connections open now (connecting, tunnelling or being refused).",
    labelNames: ["mode"],
    registers: [registry],
    collect() {
      this.set({ mode }, table.pipes.size);
    },
  });
  new Counter({
    name: `${PREFIX}connections_opened_total`,
    help: "Pipes that reached OPEN: both sockets connected.",
    labelNames: ["mode"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ mode }, table.totals.opened);
    },
  });
  new Counter({
    name: `${PREFIX}connections_closed_total`,
    help: "Client connections closed, by close reason (refusals such as max_conns included).",
    labelNames: ["mode", "reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of table.closedByReason) this.inc({ mode, reason }, count);
    },
  });
  new Counter({
    name: `${PREFIX}bytes_total`,
    help: 'Bytes piped, by direction: "up" is client to upstream, "down" upstream to client.',
    labelNames: ["mode", "direction"],
    registers: [registry],
    collect() {
      const stats = snapshot();
      this.reset();
      this.inc({ mode, direction: "up" }, stats.bytesUp);
      this.inc({ mode, direction: "down" }, stats.bytesDown);
    },
  });
  new Counter({
    name: `${PREFIX}pool_handouts_total`,
    help: 'Upstream sockets for new clients: result="hit" from the pool, "miss" dialed on demand.',
    labelNames: ["mode", "result"],
    registers: [registry],
    collect() {
      const stats = snapshot();
      this.reset();
      this.inc({ mode, result: "hit" }, stats.poolHits);
      this.inc({ mode, result: "miss" }, stats.poolMisses);
    },
  });
  new Gauge({
    name: `${PREFIX}targets`,
    help: 'Targets by state: "up", or "down" while marked down after a failure (forward only).',
    labelNames: ["mode", "state"],
    registers: [registry],
    collect() {
      const stats = snapshot();
      this.set({ mode, state: "up" }, stats.targetsUp);
      this.set({ mode, state: "down" }, stats.targets - stats.targetsUp);
    },
  });
  if (options.defaultMetrics ?? true) registerProcessMetrics(registry);
  return registry;
}
