/**
 * `bun run bench`: the pub/sub load client. Parses the flags, finds or starts
 * the relay, runs publishers and subscribers on worker threads, and prints the
 * article's result block followed by our figures (or one JSON object).
 * `--framing frame` runs the same scenario over seed 003's frames (issue 12) and
 * adds the publishers' submit-to-ack latency (the "Acks:" line).
 * Exit code: 0 when everything was delivered once, 1 on loss or duplicates
 * (unless --allow-loss), 2 on bad usage, 3 when the run could not happen.
 */
import { availableParallelism } from "node:os";
import { parseBenchArgs, USAGE, UsageError } from "./lib/args.ts";
import { percentileDistribution } from "./lib/latency-histogram.ts";
import { ProgressLine } from "./lib/progress.ts";
import { ensureRelay, type RelayHandle } from "./lib/relay-launcher.ts";
import { runBench } from "./lib/run-bench.ts";
import { defaultThreads, planThreads } from "./lib/thread-plan.ts";
import { deliveredEverything, relayLogOf, toBenchResult } from "./report/bench-result.ts";
import { renderPercentilePlot } from "./report/svg-plot.ts";
import { articleBlock, extraLines, headerLines } from "./report/text-report.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>;
  try {
    options = parseBenchArgs(Bun.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(`bench: ${err.message}\n(see bun run bench --help)`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const note of options.notes) say(`bench: ${note}`);
  if (options.subjects > 0) {
    say("bench: --subjects is the native client's (bun run bench/native/main.ts)");
    return 2;
  }

  const threads = planThreads(
    options.pubs,
    options.subs,
    options.threads ?? defaultThreads(availableParallelism()),
  ).threads;

  let relay: RelayHandle;
  try {
    relay = await ensureRelay(options, say);
  } catch (err) {
    say(`bench: ${(err as Error).message}`);
    return 3;
  }
  const stopOnSignal = () => {
    relay.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  const text = !options.json;
  if (text) {
    const params = {
      ...options,
      threads,
      sample: options.sample ?? null,
      msgsPerWrite: options.msgsPerWrite ?? null,
      slowReader: options.slowReader ?? null,
    };
    process.stdout.write(`${headerLines(params).join("\n")}\n`);
  }
  const progress = text && process.stdout.isTTY ? new ProgressLine(process.stdout) : undefined;
  let measurement: Awaited<ReturnType<typeof runBench>>;
  try {
    measurement = await runBench(options, threads, (live) => progress?.follow(live), relay.pid);
  } catch (err) {
    progress?.stop();
    say(`bench: run failed: ${(err as Error).message}`);
    await relay.stop();
    return 3;
  }
  progress?.stop();
  await relay.stop();

  const result = toBenchResult(
    options,
    relay.description,
    measurement,
    relayLogOf(relay.log?.records, measurement),
  );
  if (text) {
    process.stdout.write(`${[...articleBlock(result), ...extraLines(result)].join("\n")}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  if (options.hgrm !== undefined) {
    await Bun.write(options.hgrm, percentileDistribution(measurement.service.histogram));
    say(`bench: wrote ${options.hgrm}`);
  }
  if (options.plot !== undefined) {
    const p = result.params;
    const title = `${p.pubs} pub x ${p.subs} sub, ${p.rate === 0 ? "saturation" : `${p.rate}/s per pub`}, ${p.msgSize} B, ${p.duration} s`;
    const series = [
      { label: "service (send stamp -> receive)", histogram: measurement.service.histogram },
    ];
    if (measurement.acks !== null) {
      series.push({
        label: "submit -> ack (publisher)",
        histogram: measurement.acks.latency.histogram,
      });
    }
    if (measurement.corrected !== null) {
      series.push({
        label: "corrected (scheduled send -> receive)",
        histogram: measurement.corrected.histogram,
      });
    }
    await Bun.write(options.plot, renderPercentilePlot(title, series));
    say(`bench: wrote ${options.plot}`);
  }
  if (!deliveredEverything(result) && !options.allowLoss) {
    say("bench: messages were lost, duplicated or mangled (exit 1; --allow-loss to accept)");
    return 1;
  }
  if (result.received === 0) {
    say("bench: nothing was received in the measured window");
    return 1;
  }
  return 0;
}

process.exit(await main());
