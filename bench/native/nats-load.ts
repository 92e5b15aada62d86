/**
 * `bun run bench/native/nats-load.ts`: issue 21's NATS loads other than fan-out, with native
 * clients (built on demand), against our relay's NATS port or nats-server:
 *
 * - `--load reqrep` (bench/native/nats_reqrep.c): R requesters with one request in flight each,
 *   one responder; requests/s and exact round-trip percentiles;
 * - `--load hold` (bench/native/nats_hold.c): C connections with S subscriptions each, opened
 *   in waves, confirmed by PING/PONG, then idle for --duration s; the server's RSS at the end.
 *
 *   bun run bench/native/nats-load.ts --load reqrep --requesters 50 --duration 5
 *   bun run bench/native/nats-load.ts --load hold --conns 10000 --subs-per-conn 10 \
 *     --relay-cmd "nats-server -a 127.0.0.1 -p {port}"
 *
 * If nothing listens on --pub-port, it starts our relay with only its NATS port there, or
 * --relay-cmd. `--json` prints one BenchResult (requests/s as the sent and received rates,
 * round trips as the latency, unanswered requests as lost; for hold, unconfirmed connections
 * as lost and no rates), so bench:compare reads it like any other run.
 * Exit status: 0, 1 when something was lost or malformed (unless --allow-loss), 2 on bad
 * usage, 3 when the run could not happen.
 */
import path from "node:path";
import { UsageError } from "../lib/args.ts";
import { cpuPercent, readProcSample, relaySamples } from "../lib/proc-stats.ts";
import { ensureRelay, REPO_ROOT, type RelayHandle } from "../lib/relay-launcher.ts";
import { type BenchResult, deliveredEverything } from "../report/bench-result.ts";
import { ensureNativeBinary } from "./build.ts";
import {
  holdArgs,
  NATS_LOAD_USAGE,
  type NatsLoadOptions,
  natsLoadToBenchResult,
  parseNatsLoadArgs,
  reqrepArgs,
} from "./nats-load-args.ts";
import { runWindowedClient } from "./windowed-client.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);
/** On top of warmup + duration + drain: opening 10,000 connections, the last PING round. */
const SLACK_SEC = 60;

function clientBinary(load: NatsLoadOptions["load"]): string {
  const name = load === "reqrep" ? "nats_reqrep" : "nats_hold";
  return ensureNativeBinary(
    path.join(REPO_ROOT, `bench/native/${name}.c`),
    path.join(REPO_ROOT, `bench/out/native/${name}`),
    say,
  );
}

async function main(): Promise<number> {
  let o: NatsLoadOptions;
  try {
    o = parseNatsLoadArgs(Bun.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(`nats-load: ${err.message}\n(see --help)`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${NATS_LOAD_USAGE}\n`);
    return 0;
  }
  let binary: string;
  let relay: RelayHandle;
  try {
    binary = clientBinary(o.load);
    relay = await ensureRelay(
      {
        pubHost: o.host,
        pubPort: o.port,
        subHost: o.host,
        subPort: o.port,
        noSpawn: o.noSpawn,
        relayCmd: o.relayCmd,
        protocol: "nats",
        pubPortOnly: true,
      },
      say,
    );
  } catch (err) {
    say(`nats-load: ${(err as Error).message}`);
    return 3;
  }
  const sample = () =>
    relay.pid === undefined ? undefined : readProcSample(relay.pid, Date.now());
  const baseline = sample();
  const limitSec = o.warmup + o.duration + o.drain + SLACK_SEC;
  const run = await runWindowedClient(
    [binary, ...(o.load === "reqrep" ? reqrepArgs(o) : holdArgs(o))],
    limitSec,
    sample,
    () => say(`nats-load: the client exceeded ${limitSec} s; killing it`),
  );
  await relay.stop();
  if (run.said !== "") say(`nats-load: the client said: ${run.said}`);
  if (run.exit !== 0 || run.stdout.trim() === "") {
    say(`nats-load: the client exited ${run.exit}`);
    return 3;
  }
  const result: BenchResult = natsLoadToBenchResult(
    o,
    relay.description,
    JSON.parse(run.stdout.trim().split("\n").at(-1) as string),
    relaySamples(baseline, run.server.start, run.server.end),
    run.client.start !== undefined && run.client.end !== undefined
      ? cpuPercent(run.client.start, run.client.end)
      : null,
  );
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (n: number | null) => (n === null ? "n/a" : Math.round(n).toLocaleString("en-US"));
    process.stdout.write(
      o.load === "reqrep"
        ? `${o.requesters} requesters, 1 responder, ${o.msgSize} B: ${f(result.receivedRate)} requests/s, ` +
            `p50 ${result.latencyMs.p50Ms} ms, p99 ${result.latencyMs.p99Ms} ms, unanswered ${result.lost}, ` +
            `server CPU ${f(result.relayCpuPct)}%, client CPU ${f(result.clientCpuPct ?? null)}%, ` +
            `server RSS ${f(result.relayRssMb)} MB\n`
        : `${o.conns} connections x ${o.subsPerConn} subscriptions: server RSS ${result.relayRssMb?.toFixed(1)} MB ` +
            `(${result.relayRssBaselineMb?.toFixed(1)} MB before), idle CPU ${f(result.relayCpuPct)}%, ` +
            `unconfirmed ${result.lost}\n`,
    );
  }
  if (!deliveredEverything(result) && !o.allowLoss) {
    say("nats-load: requests unanswered, connections lost or replies malformed (exit 1)");
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exit(await main());
