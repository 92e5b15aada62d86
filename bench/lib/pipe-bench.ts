/**
 * What bench:forward and bench:tunnel share: both time the same workloads (bulk, round trips,
 * new connections) through a byte pipe to an echo and a sink target, in rounds, and print the
 * medians as one markdown table. Only the contenders and who the ratios compare to differ.
 */
import type { Subprocess } from "bun";

/** The command-line options both benches take (parseArgs rows), with the same defaults. */
export const PIPE_BENCH_OPTIONS = {
  rounds: { type: "string", default: "3" },
  seconds: { type: "string", default: "2" },
  "bulk-mib": { type: "string", default: "512" },
  concurrency: { type: "string", default: "8" },
} as const;

/** The columns of both tables, in order. */
export const METRICS = [
  "bulk1 MB/s",
  "bulk32 MB/s",
  "rtt/s",
  "rtt p50 ms",
  "rtt p99 ms",
  "conns/s",
  "conn p50 ms",
  "conn p99 ms",
] as const;
export type Metric = (typeof METRICS)[number];
/** One contender's figures in one round (a failed workload leaves its cells out). */
export type MetricRow = Partial<Record<Metric, number>>;

/** Fills the round-trip cells of `result` from one run of roundTrips (bench/forward/load.ts). */
export function recordRoundTrips(
  result: MetricRow,
  rtt: { perSecond: number; p50Ms: number; p99Ms: number } | undefined,
): void {
  if (rtt === undefined) return;
  result["rtt/s"] = rtt.perSecond;
  result["rtt p50 ms"] = rtt.p50Ms;
  result["rtt p99 ms"] = rtt.p99Ms;
}

/**
 * Fills the new-connection cells of `result` from one run of newConns, and reports failed
 * connections of contender `name` on stderr.
 */
export function recordNewConns(
  result: MetricRow,
  name: string,
  fresh: { perSecond: number; failures: number; p50Ms: number; p99Ms: number } | undefined,
): void {
  if (fresh === undefined) return;
  if (fresh.failures > 0) console.error(`  ${name}: ${fresh.failures} failed connections`);
  result["conns/s"] = fresh.perSecond;
  result["conn p50 ms"] = fresh.p50Ms;
  result["conn p99 ms"] = fresh.p99Ms;
}

/**
 * Starts the echo and sink targets in their own process (`script` prints their ports as one
 * JSON line), so the targets' work does not share a thread with the load generator.
 */
export async function startTargetProcess(
  script: string,
): Promise<{ echo: number; sink: number; stop: () => void }> {
  const child = Bun.spawn(["bun", "run", script], { stdout: "pipe", stderr: "inherit" });
  const { value } = await child.stdout.getReader().read();
  const ports = JSON.parse(new TextDecoder().decode(value)) as { echo: number; sink: number };
  return { ...ports, stop: () => child.kill("SIGTERM") };
}

/** Runs one workload; a failure is reported and leaves its cells empty instead of ending the run. */
export async function attempt<T>(
  name: string,
  what: string,
  run: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    console.error(`  ${name}: ${what} failed: ${(error as Error).message}`);
    return undefined;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A cell: latencies with 3 decimals, rates whole; `-` when missing. */
export function formatMetric(metric: Metric, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  return metric.includes("ms") ? value.toFixed(3) : value.toFixed(0);
}

/** Every round's figures by contender, in the order contenders first reported. */
export class RoundSamples {
  private readonly samples = new Map<string, Map<Metric, number[]>>();

  /** Keeps one round of `name` and prints it as a progress line on stderr. */
  add(round: number, name: string, result: MetricRow): void {
    const perMetric = this.samples.get(name) ?? new Map<Metric, number[]>();
    this.samples.set(name, perMetric);
    for (const [metric, value] of Object.entries(result) as [Metric, number][]) {
      perMetric.set(metric, [...(perMetric.get(metric) ?? []), value]);
    }
    console.error(
      `round ${round + 1} ${name}: ${METRICS.map((m) => `${m}=${formatMetric(m, result[m])}`).join(" ")}`,
    );
  }

  /** The median of each metric over the rounds, by contender. */
  medians(): Map<string, MetricRow> {
    const medians = new Map<string, MetricRow>();
    for (const [name, perMetric] of this.samples) {
      const row: MetricRow = {};
      for (const [metric, values] of perMetric) row[metric] = median(values);
      medians.set(name, row);
    }
    return medians;
  }
}

/**
 * The markdown table of the medians: `title` heads the name column; a row that `showsRatio`
 * gets each cell's ratio to the `reference` row's in parentheses.
 */
export function medianTable(
  title: string,
  medians: Map<string, MetricRow>,
  reference: MetricRow | undefined,
  showsRatio: (name: string) => boolean,
): string {
  const lines = [
    `| ${title} | ${METRICS.join(" | ")} |`,
    `|---|${METRICS.map(() => "---:").join("|")}|`,
  ];
  for (const [name, row] of medians) {
    const cells = METRICS.map((metric) => {
      const value = row[metric];
      const base = reference?.[metric];
      const ratio =
        showsRatio(name) && value !== undefined && base !== undefined
          ? ` (${(value / base).toFixed(2)}x)`
          : "";
      return `${formatMetric(metric, value)}${ratio}`;
    });
    lines.push(`| ${name} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** A port that was free a moment ago (contenders that need a number up front). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Resolves once `port` accepts a connection; gives up after `timeoutMs` or if `child` exits. */
export async function waitUntilListening(
  port: number,
  child: Subprocess,
  timeoutMs: number,
): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (performance.now() < giveUpAt) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening`);
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(20); // nothing to wait on: the other process gives no signal
    }
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs / 1000} s`);
}
