/**
 * `bun run bench:tunnel`: our `tunnel client` + `tunnel server` against Go's smux-tunnel
 * pair, side by side in one run, same topology (load generator -> client side -> server side
 * -> target process), same smux version and pool size:
 *
 * - bulk1 / bulk32: 1 stream of --bulk-mib MiB, or 32 of 1/16 of that each, to the counted
 *   sink (targets.ts); MB/s until the sink confirmed every byte;
 * - rtt: one connection, 64 bytes to the echo and back, in a loop (bench/forward/load.ts);
 * - conns: --concurrency loops of connect, 16-byte echo, close (bench/forward/load.ts).
 *
 * Each round starts every contender in turn (ours and Go alternate first), runs the
 * workloads on a fresh pair, and stops it; the table shows medians over rounds and ours/Go.
 * Before timing, each pair gets the same untimed warm-up (a quarter of the bulk bytes; round
 * trips for --seconds; new connections for half of it), so a JIT runtime is measured warm.
 *
 * Flags: --rounds N (3), --seconds S per timed workload (2), --bulk-mib M (512),
 * --concurrency C (8), --version 1|2 (1), --conns N (4), --direct (add the no-tunnel row),
 * --cpu-prof DIR (profile our two processes into DIR: one round, ours only).
 */
import { parseArgs } from "node:util";
import { newConns, roundTrips } from "../forward/load.ts";
import { countedBulk } from "./bulk.ts";
import { buildGoTunnel, type Contender, direct, go, ours } from "./contenders.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "2" },
    "bulk-mib": { type: "string", default: "512" },
    concurrency: { type: "string", default: "8" },
    version: { type: "string", default: "1" },
    conns: { type: "string", default: "4" },
    direct: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
  },
});
const profileDir = values["cpu-prof"];
const rounds = profileDir ? 1 : Number(values.rounds);
const seconds = Number(values.seconds);
const bulkBytes = Number(values["bulk-mib"]) * 1024 * 1024;
const concurrency = Number(values.concurrency);
const version = Number(values.version) as 1 | 2;
const conns = Number(values.conns);

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

async function startTargets(): Promise<{ echo: number; sink: number; stop: () => void }> {
  const child = Bun.spawn(["bun", "run", "bench/tunnel/targets.ts"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const { value } = await child.stdout.getReader().read();
  const ports = JSON.parse(new TextDecoder().decode(value)) as { echo: number; sink: number };
  return { ...ports, stop: () => child.kill("SIGTERM") };
}

/** Runs one workload; a failure is reported and leaves its cells empty. */
async function attempt<T>(
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

async function measure(
  contender: Contender,
  targets: { echo: number; sink: number },
): Promise<Partial<Record<Metric, number>>> {
  const result: Partial<Record<Metric, number>> = {};
  const name = contender.name;
  const toSink = await contender.start(targets.sink);
  try {
    // Warm-up, the same for both: every session dialed, and our JIT past its first tiers.
    await attempt(name, "warm-up", () => countedBulk(toSink.port, 32, Math.floor(bulkBytes / 64)));
    const one = await attempt(name, "bulk x1", () => countedBulk(toSink.port, 1, bulkBytes));
    if (one !== undefined) result["bulk1 MB/s"] = one;
    const many = await attempt(name, "bulk x32", () =>
      countedBulk(toSink.port, 32, Math.floor(bulkBytes / 16)),
    );
    if (many !== undefined) result["bulk32 MB/s"] = many;
  } finally {
    await toSink.stop();
  }
  const toEcho = await contender.start(targets.echo);
  try {
    // Warm-up, the same for both: a fresh JIT runtime puts its compile pauses into the first
    // seconds' tail (p99 0.9 ms in a fresh pair, 0.4 ms in the next 2 s, measured here).
    await attempt(name, "warm-up", () => roundTrips(toEcho.port, seconds));
    await attempt(name, "warm-up", () => newConns(toEcho.port, seconds / 2, concurrency));
    const rtt = await attempt(name, "round trips", () => roundTrips(toEcho.port, seconds));
    if (rtt !== undefined) {
      result["rtt/s"] = rtt.perSecond;
      result["rtt p50 ms"] = rtt.p50Ms;
      result["rtt p99 ms"] = rtt.p99Ms;
    }
    const fresh = await attempt(name, "new connections", () =>
      newConns(toEcho.port, seconds, concurrency),
    );
    if (fresh !== undefined) {
      if (fresh.failures > 0) console.error(`  ${name}: ${fresh.failures} failed connections`);
      result["conns/s"] = fresh.perSecond;
      result["conn p50 ms"] = fresh.p50Ms;
      result["conn p99 ms"] = fresh.p99Ms;
    }
  } finally {
    await toEcho.stop();
  }
  return result;
}

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function format(metric: Metric, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  return metric.includes("ms") ? value.toFixed(3) : value.toFixed(0);
}

const goBinary = profileDir ? undefined : await buildGoTunnel();
const ourContender = ours(version, conns, profileDir);
const goContender = goBinary ? go(goBinary, version, conns) : undefined;
const targets = await startTargets();
const samples = new Map<string, Map<Metric, number[]>>();
console.error(
  `bench:tunnel: ${rounds} round(s), smux v${version}, ${conns} sessions, ${seconds}s timed workloads, bulk ${bulkBytes / 2 ** 20} MiB x1 and ${bulkBytes / 2 ** 24} MiB x32, ${concurrency} connect loops; Bun ${Bun.version}`,
);
try {
  for (let round = 0; round < rounds; round++) {
    const pair = goContender ? [ourContender, goContender] : [ourContender];
    const order = round % 2 === 0 ? pair : [...pair].reverse(); // alternate who goes first
    if (values.direct) order.unshift(direct);
    for (const contender of order) {
      const result = await measure(contender, targets);
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
  targets.stop();
}

const medians = new Map<string, Partial<Record<Metric, number>>>();
for (const [name, perMetric] of samples) {
  const row: Partial<Record<Metric, number>> = {};
  for (const [metric, list] of perMetric) row[metric] = median(list);
  medians.set(name, row);
}
const reference = goContender ? medians.get(goContender.name) : undefined;
const lines = [
  `| tunnel | ${METRICS.join(" | ")} |`,
  `|---|${METRICS.map(() => "---:").join("|")}|`,
];
for (const [name, row] of medians) {
  const cells = METRICS.map((metric) => {
    const value = row[metric];
    const base = reference?.[metric];
    const ratio =
      name === ourContender.name && value !== undefined && base !== undefined
        ? ` (${(value / base).toFixed(2)}x)`
        : "";
    return `${format(metric, value)}${ratio}`;
  });
  lines.push(`| ${name} | ${cells.join(" | ")} |`);
}
console.log(`Medians of ${rounds} round(s); ratios are ours / Go in the same run.\n`);
console.log(lines.join("\n"));
if (profileDir) {
  console.log(
    `\nCPU profiles: ${profileDir}/{client,server}-1.cpuprofile (bulk), -2 (round trips, new connections); summarize with bun run bench/report/cpu-profile.ts FILE`,
  );
}
