/**
 * Metrics read from the relay at scrape time: the bun_relay_ prefix every metric name of the
 * relay's modes starts with, and a Counter and a Gauge whose `collect()` reads one number.
 * Counters are restated at each scrape from the relay's own totals (reset, then inc by the
 * total): prom-client has no `set` on a Counter, and the totals only grow, so what Prometheus
 * sees is a proper monotonic counter. Shared by registry.ts and cluster-metrics.ts. And the
 * process metrics every mode's /metrics carries (registerProcessMetrics).
 */
import { Counter, collectDefaultMetrics, Gauge, type Registry } from "prom-client";

/** Every metric name of the relay (all its modes) starts with this. */
export const METRIC_PREFIX = "bun_relay_";

/** A counter whose value is read from the relay at scrape time. */
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  new Counter({
    name: METRIC_PREFIX + name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is read from the relay at scrape time. */
export function scrapedGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  new Gauge({
    name: METRIC_PREFIX + name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * prom-client default metrics every registry removes again, because Bun (1.4.5) cannot fill
 * them and so they would only ever show a constant:
 *
 * - `nodejs_active_{handles,requests,resources}`: Bun's `process._getActiveHandles()`,
 *   `process._getActiveRequests()` and `process.getActiveResourcesInfo()` always return `[]`,
 *   so these by-type gauges never have a sample, whatever the relay has open.
 * - `nodejs_active_{handles,requests,resources}_total`: the same empty lists counted, a
 *   constant 0. They are also gauges named like counters, which `promtool check metrics`
 *   rejects ("non-counter metrics should not have "_total" suffix", exit 3).
 * - `nodejs_gc_duration_seconds`: Bun emits no `gc` performance entries, so this histogram
 *   never has a sample.
 */
export const DROPPED_DEFAULT_METRICS: readonly string[] = [
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_gc_duration_seconds",
];

/**
 * prom-client's process_* and nodejs_* metrics in `registry`, less
 * {@link DROPPED_DEFAULT_METRICS}: every mode's /metrics registers them through this, so
 * each passes `promtool check metrics`.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
}
