/**
 * The bench's saturation runs with the native client (bench/native/sat_client.c)
 * instead of the TypeScript workers: same flags as bench/main.ts (the subset
 * that makes sense at --rate 0), same relay launching, and with --json the
 * same BenchResult object, so bench:compare runs either (`--client native`).
 *
 *   bun run bench/native/main.ts --rate 0 --pub 4 --sub 16 --msg-size 80 --duration 5 --json
 *
 * --threads 1 runs one epoll loop for everything; 2 (default) one for the
 * publishers and one for the subscribers. No latency is measured.
 * --framing frame (issue 12): Submit frames out, SubmitAcks checked, frames
 * counted; the relay it starts gets --framing frame --frame-codes C.
 */
import { parseBenchArgs, UsageError } from "../lib/args.ts";
import { cpuPercent, readProcSample, relaySamples } from "../lib/proc-stats.ts";
import { ensureRelay, type RelayHandle } from "../lib/relay-launcher.ts";
import { formatRelayLog } from "../lib/relay-log.ts";
import { deliveredEverything, relayLogOf } from "../report/bench-result.ts";
import { ackLine } from "../report/text-report.ts";
import { ensureNativeClient } from "./build.ts";
import {
  nativeArgs,
  nativeToBenchResult,
  parseNativeOutput,
  unsupported,
} from "./native-result.ts";
import { runWindowedClient } from "./windowed-client.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);
/** On top of warmup + duration + drain: connecting, the publishers' last batch, exiting. */
const SLACK_SEC = 20;

async function main(): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>;
  try {
    options = parseBenchArgs(Bun.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(`native: ${err.message}`);
    return 2;
  }
  const why = unsupported(options);
  if (why !== undefined) {
    say(`native: ${why}`);
    return 2;
  }
  const threads = options.threads === 1 ? 1 : 2;
  let binary: string;
  let relay: RelayHandle;
  try {
    binary = ensureNativeClient(say);
    relay = await ensureRelay(options, say);
  } catch (err) {
    say(`native: ${(err as Error).message}`);
    return 3;
  }
  const sample = () =>
    relay.pid === undefined ? undefined : readProcSample(relay.pid, Date.now());
  const baseline = sample();
  const limitSec = options.warmup + options.duration + 2 * options.drain + SLACK_SEC;
  // The client says when its window opens and closes: the relay's CPU is sampled right then,
  // and the client's own over the same window (is it, or the relay, the limit?).
  const run = await runWindowedClient(
    [binary, ...nativeArgs(options, threads)],
    limitSec,
    sample,
    () => say(`native: the client exceeded ${limitSec} s; killing it`),
  );
  await relay.stop();
  if (run.said !== "") say(`native: client said: ${run.said}`);
  if (run.exit !== 0 || run.stdout.trim() === "") {
    say(`native: the client exited ${run.exit}`);
    return 3;
  }
  /** When the client said its window opened: publishing began `warmup` s before. */
  const windowStartMs = run.windowStartMs;
  // The client does not say when publishing began: warmup before its window opened (~ms).
  const relayLog =
    windowStartMs === undefined
      ? null
      : relayLogOf(relay.log?.records, {
          publishStartMs: windowStartMs - options.warmup * 1000,
          extras: [],
        });
  const result = nativeToBenchResult(
    options,
    relay.description,
    parseNativeOutput(run.stdout),
    relaySamples(baseline, run.server.start, run.server.end),
    relayLog,
    run.client.start !== undefined && run.client.end !== undefined
      ? cpuPercent(run.client.start, run.client.end)
      : null,
  );
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (n: number) => Math.round(n).toLocaleString("en-US");
    process.stdout.write(
      `${result.params.pubs} pub -> ${result.params.subs} sub, ${result.params.msgSize} B, native client (${threads} thread${threads === 1 ? "" : "s"}), ${result.windowSec.toFixed(2)} s\n` +
        `sent ${f(result.sentRate)} msg/s, received ${f(result.receivedRate)} msg/s (${f((result.receivedRate * result.params.msgSize) / 1e6)} MB/s)\n` +
        `lost ${result.lost}, duplicated ${result.duplicated}, reordered ${result.reordered}, malformed ${result.malformedLines}, relay CPU ${result.relayCpuPct?.toFixed(0) ?? "n/a"}%, client CPU ${result.clientCpuPct?.toFixed(0) ?? "n/a"}%\n` +
        (result.acks == null ? "" : `${ackLine(result.acks)}\n`) +
        (result.relayLog === null ? "" : `${formatRelayLog(result.relayLog)}\n`),
    );
  }
  if (!deliveredEverything(result) && !options.allowLoss) {
    say("native: messages were lost, duplicated or mangled (exit 1; --allow-loss to accept)");
    return 1;
  }
  return 0;
}

process.exit(await main());
