/**
 * Metrics read from the relay at scrape time: the bun_relay_ prefix every metric name of the
 * relay's modes starts with, and a Counter and a Gauge whose `collect()` reads one number.
 * Counters are restated at each scrape from the relay's own totals (reset, then inc by the
 * total): prom-client has no `set` on a Counter, and the totals only grow, so what Prometheus
 * sees is a proper monotonic counter. Shared by registry.ts and cluster-metrics.ts.
 */
import { Counter, Gauge, type Registry } from "prom-client";

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
