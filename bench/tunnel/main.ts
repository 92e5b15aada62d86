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
 * Before timing, each pair gets the same untimed warm-up (half the bulk bytes over 32 streams;
 * round trips for --seconds; new connections for 4 x --seconds), so a JIT runtime is measured
 * warm. New connections need the longest: a fresh pair of ours gained 35-45% over its first
 * 5-8 s of them (2,600-2,800/s in the first second, 3,500-4,000/s from then on, in 1 s steps
 * on one pair; Go's stayed at 2,450-3,150/s throughout).
 *
 * Load and targets are native by default (bench/native/pipe_load.c, pipe_target.c; see
 * native-load.ts): on a 2-core box the Bun ones took most of the CPU both tunnels compete for.
 *
 * Flags: --rounds N (3), --seconds S per timed workload (2), --bulk-mib M (512),
 * --concurrency C (8), --version 1|2 (1), --conns N (4), --direct (add the no-tunnel row),
 * --client native|bun (the load generator), --target native|bun (the echo and sink),
 * --cpu-prof DIR (profile our two processes into DIR: one round, ours only).
 */
import { parseArgs } from "node:util";
import { newConns, roundTrips } from "../forward/load.ts";
import {
  attempt,
  type MetricRow,
  medianTable,
  PIPE_BENCH_OPTIONS,
  RoundSamples,
  recordNewConns,
  recordRoundTrips,
  startTargetProcess,
} from "../lib/pipe-bench.ts";
import { countedBulk } from "./bulk.ts";
import { buildGoTunnel, type Contender, direct, go, ours } from "./contenders.ts";
import {
  nativeCountedBulk,
  nativeNewConns,
  nativeRoundTrips,
  startNativeTargets,
} from "./native-load.ts";

const { values } = parseArgs({
  options: {
    ...PIPE_BENCH_OPTIONS,
    version: { type: "string", default: "1" },
    conns: { type: "string", default: "4" },
    direct: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    client: { type: "string", default: "native" },
    target: { type: "string", default: "native" },
  },
});
for (const flag of ["client", "target"] as const) {
  if (values[flag] !== "native" && values[flag] !== "bun") {
    console.error(`bench:tunnel: --${flag} must be native or bun`);
    process.exit(2);
  }
}
const nativeClient = values.client === "native";
const load = nativeClient
  ? { bulk: nativeCountedBulk, roundTrips: nativeRoundTrips, newConns: nativeNewConns }
  : { bulk: countedBulk, roundTrips, newConns };
const profileDir = values["cpu-prof"];
const rounds = profileDir ? 1 : Number(values.rounds);
const seconds = Number(values.seconds);
const bulkBytes = Number(values["bulk-mib"]) * 1024 * 1024;
const concurrency = Number(values.concurrency);
const version = Number(values.version) as 1 | 2;
const conns = Number(values.conns);

async function measure(
  contender: Contender,
  targets: { echo: number; sink: number },
): Promise<MetricRow> {
  const result: MetricRow = {};
  const name = contender.name;
  const toSink = await contender.start(targets.sink);
  try {
    // Warm-up, the same for both: every session dialed, and our JIT past its first tiers.
    await attempt(name, "warm-up", () => load.bulk(toSink.port, 32, Math.floor(bulkBytes / 64)));
    const one = await attempt(name, "bulk x1", () => load.bulk(toSink.port, 1, bulkBytes));
    if (one !== undefined) result["bulk1 MB/s"] = one;
    const many = await attempt(name, "bulk x32", () =>
      load.bulk(toSink.port, 32, Math.floor(bulkBytes / 16)),
    );
    if (many !== undefined) result["bulk32 MB/s"] = many;
  } finally {
    await toSink.stop();
  }
  const toEcho = await contender.start(targets.echo);
  try {
    // Warm-up, the same for both: a fresh JIT runtime puts its compile pauses into the first
    // seconds' tail (p99 0.9 ms in a fresh pair, 0.4 ms in the next 2 s, measured here). The
    // connection churn goes first, so that the garbage it leaves is collected during the
    // untimed round trips rather than the timed ones.
    await attempt(name, "warm-up", () => load.newConns(toEcho.port, 4 * seconds, concurrency));
    await attempt(name, "warm-up", () => load.roundTrips(toEcho.port, seconds));
    const rtt = await attempt(name, "round trips", () => load.roundTrips(toEcho.port, seconds));
    recordRoundTrips(result, rtt);
    const fresh = await attempt(name, "new connections", () =>
      load.newConns(toEcho.port, seconds, concurrency),
    );
    recordNewConns(result, name, fresh);
  } finally {
    await toEcho.stop();
  }
  return result;
}

const goBinary = profileDir ? undefined : await buildGoTunnel();
const ourContender = ours(version, conns, profileDir);
const goContender = goBinary ? go(goBinary, version, conns) : undefined;
const targets =
  values.target === "native"
    ? await startNativeTargets()
    : await startTargetProcess("bench/tunnel/targets.ts");
const samples = new RoundSamples();
console.error(
  `bench:tunnel: ${rounds} round(s), smux v${version}, ${conns} sessions, ${seconds}s timed workloads, bulk ${bulkBytes / 2 ** 20} MiB x1 and ${bulkBytes / 2 ** 24} MiB x32, ${concurrency} connect loops; load ${values.client}, targets ${values.target}; Bun ${Bun.version}`,
);
try {
  for (let round = 0; round < rounds; round++) {
    const pair = goContender ? [ourContender, goContender] : [ourContender];
    const order = round % 2 === 0 ? pair : [...pair].reverse(); // alternate who goes first
    if (values.direct) order.unshift(direct);
    for (const contender of order) {
      const result = await measure(contender, targets);
      samples.add(round, contender.name, result);
    }
  }
} finally {
  targets.stop();
}

const medians = samples.medians();
const reference = goContender ? medians.get(goContender.name) : undefined;
const table = medianTable("tunnel", medians, reference, (name) => name === ourContender.name);
console.log(`Medians of ${rounds} round(s); ratios are ours / Go in the same run.\n`);
console.log(table);
if (profileDir) {
  console.log(
    `\nCPU profiles: ${profileDir}/{client,server}-1.cpuprofile (bulk), -2 (round trips, new connections); summarize with bun run bench/report/cpu-profile.ts FILE`,
  );
}
