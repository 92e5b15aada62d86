/**
 * `bun run bench:forward`: bulk MB/s (1 and 32 connections), 64-byte round trips with
 * p50/p99, and new connections per second (16-byte echo each) through our forwarder (with and
 * without --pool), haproxy and socat, in the same run, against the same upstream process.
 *
 * Each round starts every contender in turn (the order rotates between rounds), runs the
 * workloads, and stops it; the table shows the median over rounds and the ratio to haproxy.
 *
 * Flags: --rounds N (default 3), --seconds S per timed workload (default 2),
 * --bulk-mib M bytes per single-connection stream (default 512; 32 streams take M/16 each),
 * --concurrency C for new connections (default 8), --pool N for our pooled run (default 64).
 */
import { parseArgs } from "node:util";
import { availableContenders, type Contender } from "./contenders.ts";
import { bulk, newConns, roundTrips } from "./load.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "2" },
    "bulk-mib": { type: "string", default: "512" },
    concurrency: { type: "string", default: "8" },
    pool: { type: "string", default: "64" },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const bulkBytes = Number(values["bulk-mib"]) * 1024 * 1024;
const concurrency = Number(values.concurrency);
const poolSize = Number(values.pool);

const METRICS = [
  "bulk1 MB/s",
  "bulk32 MB/s",
  "rtt/s",
  "rtt p50 ms",
  "rtt p99 ms",
  "conns/s",
  "conn p50 ms",
  "conn p99 ms",
] as const;
type Metric = (typeof METRICS)[number];

async function startUpstream(): Promise<{ echo: number; sink: number; stop: () => void }> {
  const child = Bun.spawn(["bun", "run", "bench/forward/upstream.ts"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const ports = JSON.parse(new TextDecoder().decode(value)) as { echo: number; sink: number };
  return { ...ports, stop: () => child.kill("SIGTERM") };
}

/** Runs one workload; a failure is reported and leaves its cells empty instead of ending the run. */
async function attempt<T>(
  contender: Contender,
  what: string,
  run: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    console.error(`  ${contender.name}: ${what} failed: ${(error as Error).message}`);
    return undefined;
  }
}

async function measure(
  contender: Contender,
  upstream: { echo: number; sink: number },
  onlyConns: boolean,
): Promise<Partial<Record<Metric, number>>> {
  const result: Partial<Record<Metric, number>> = {};
  if (!onlyConns) {
    const toSink = await contender.start(upstream.sink);
    try {
      const one = await attempt(contender, "bulk x1", () => bulk(toSink.port, 1, bulkBytes));
      if (one !== undefined) result["bulk1 MB/s"] = one;
      const many = await attempt(contender, "bulk x32", () =>
        bulk(toSink.port, 32, Math.floor(bulkBytes / 16)),
      );
      if (many !== undefined) result["bulk32 MB/s"] = many;
    } finally {
      await toSink.stop();
    }
  }
  const toEcho = await contender.start(upstream.echo);
  try {
    if (!onlyConns) {
      const rtt = await attempt(contender, "round trips", () => roundTrips(toEcho.port, seconds));
      if (rtt !== undefined) {
        result["rtt/s"] = rtt.perSecond;
        result["rtt p50 ms"] = rtt.p50Ms;
        result["rtt p99 ms"] = rtt.p99Ms;
      }
    }
    const conns = await attempt(contender, "new connections", () =>
      newConns(toEcho.port, seconds, concurrency),
    );
    if (conns !== undefined) {
      if (conns.failures > 0) {
        console.error(`  ${contender.name}: ${conns.failures} failed connections`);
      }
      result["conns/s"] = conns.perSecond;
      result["conn p50 ms"] = conns.p50Ms;
      result["conn p99 ms"] = conns.p99Ms;
    }
  } finally {
    await toEcho.stop();
  }
  return result;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function format(metric: Metric, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  return metric.includes("ms") ? value.toFixed(3) : value.toFixed(0);
}

const upstream = await startUpstream();
const { contenders, missing } = availableContenders(poolSize);
if (missing.length > 0) console.error(`not installed, left out: ${missing.join(", ")}`);
const samples = new Map<string, Map<Metric, number[]>>();
console.error(
  `bench:forward: ${rounds} rounds, ${seconds}s timed workloads, bulk ${bulkBytes / 2 ** 20} MiB x1 and ${bulkBytes / 2 ** 24} MiB x32, ${concurrency} connect loops; Bun ${Bun.version}`,
);
try {
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map(
      (_, i) => contenders[(i + round) % contenders.length] as Contender,
    );
    for (const contender of order) {
      const onlyConns = contender.name.includes("--pool");
      const result = await measure(contender, upstream, onlyConns);
      const perMetric = samples.get(contender.name) ?? new Map<Metric, number[]>();
      samples.set(contender.name, perMetric);
      for (const [metric, value] of Object.entries(result) as [Metric, number][]) {
        perMetric.set(metric, [...(perMetric.get(metric) ?? []), value]);
      }
      console.error(
        `round ${round + 1} ${contender.name}: ${METRICS.map((m) => `${m}=${format(m, result[m])}`).join(" ")}`,
      );
    }
  }
} finally {
  upstream.stop();
}

const medians = new Map<string, Partial<Record<Metric, number>>>();
for (const [name, perMetric] of samples) {
  const row: Partial<Record<Metric, number>> = {};
  for (const [metric, values] of perMetric) row[metric] = median(values);
  medians.set(name, row);
}
const reference = medians.get("haproxy");
const lines = [
  `| forwarder | ${METRICS.join(" | ")} |`,
  `|---|${METRICS.map(() => "---:").join("|")}|`,
];
for (const [name, row] of medians) {
  const cells = METRICS.map((metric) => {
    const value = row[metric];
    const base = reference?.[metric];
    const ratio =
      value !== undefined && base !== undefined && name !== "haproxy" && !name.startsWith("direct")
        ? ` (${(value / base).toFixed(2)}x)`
        : "";
    return `${format(metric, value)}${ratio}`;
  });
  lines.push(`| ${name} | ${cells.join(" | ")} |`);
}
console.log(`Medians of ${rounds} rounds; ratios are to haproxy in the same run.\n`);
console.log(lines.join("\n"));
