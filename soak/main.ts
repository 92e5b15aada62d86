/**
 * `bun run soak`: starts the relay as a child process, holds the scenario's load on it for
 * --duration seconds, then accounts for every message and judges the relay's memory.
 *
 * Exit status: 0 pass; 1 fail (a loss without a logged cause, RSS still growing, the relay
 * crashed or miscounted); 2 bad usage; 3 the run could not happen (the relay did not start).
 * Progress goes to stderr every 10 s; the report goes to stdout.
 */
import { cpus, totalmem } from "node:os";
import { accountSession, type RelayView, sumAccounts } from "./accounting.ts";
import { parseSoakArgs, type SoakOptions, USAGE, UsageError } from "./args.ts";
import { RelayProcess } from "./relay-process.ts";
import {
  judge,
  lossLines,
  relayLoadLines,
  rssLines,
  type SoakFindings,
  slowLines,
  subscriberLines,
} from "./report.ts";
import { rssTrend } from "./rss-trend.ts";
import { Scenario } from "./scenario.ts";

const PROGRESS_INTERVAL_MS = 10_000;
/** Beyond --duration: the wind-down, the relay's shutdown and the accounting. */
const DEADLINE_MARGIN_MS = 90_000;

const say = (line: string) => process.stderr.write(`soak: ${line}\n`);

function describe(options: SoakOptions): string {
  return (
    `policy=${options.policy}, ${options.duration} s, ${options.publishers} publishers x ` +
    `${options.rate} msg/s x ${options.msgSize} B, ${options.subscribers} regular subscribers ` +
    `(one joins and one leaves every second), ` +
    `${options.slowEvery > 0 ? `a slow subscriber every ${options.slowEvery} s` : "no slow subscribers"}, ` +
    `relay --max-pending ${options.maxPending} --write-timeout ${options.writeTimeout}`
  );
}

async function main(): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseSoakArgs(Bun.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(`${error.message}\n(see bun run soak --help)`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const startedAt = new Date().toISOString();
  const logWriter = options.relayLog ? Bun.file(options.relayLog).writer() : undefined;
  let relay: RelayProcess;
  try {
    relay = await RelayProcess.start({
      policy: options.policy,
      maxPending: options.maxPending,
      writeTimeout: options.writeTimeout,
      onLine: logWriter ? (line) => logWriter.write(`${line}\n`) : undefined,
    });
  } catch (error) {
    say((error as Error).message);
    return 3;
  }
  say(
    `relay pid ${relay.pid}: ${relay.command} (publishers :${relay.pubPort}, subscribers :${relay.subPort})`,
  );
  say(describe(options));

  // Whatever hangs, the run ends: the relay is killed and the soak fails.
  const deadline = setTimeout(
    () => {
      say("the run passed its deadline; stopping the relay");
      void relay.stop().finally(() => process.exit(1));
    },
    options.duration * 1000 + DEADLINE_MARGIN_MS,
  );
  const stopOnSignal = () => void relay.stop().finally(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  relay.sampleRss();
  const scenario = new Scenario(
    options,
    { pub: relay.pubPort, sub: relay.subPort },
    () => relay.ledger.stats[relay.ledger.stats.length - 1]?.stats.pendingBytes ?? 0,
  );
  const progress = setInterval(() => {
    const p = scenario.progress();
    const rss = relay.rss[relay.rss.length - 1];
    say(
      `${p.elapsedSec.toFixed(0)} s: ${p.published} published, ${p.connected} subscribers connected ` +
        `(${p.sessions} so far), relay RSS ${rss ? (rss.rssKiB / 1024).toFixed(1) : "?"} MiB`,
    );
  }, PROGRESS_INTERVAL_MS);
  await scenario.run(() => relay.stopSampling());
  clearInterval(progress);
  const relayDiedEarly = relay.exited;
  const relayExit = await relay.stop();
  clearTimeout(deadline);
  await logWriter?.end();

  const findings = account(scenario, relay, relayExit, relayDiedEarly);
  const published = scenario.publishers.map((p) => `${p.id}:${p.lastSent}`).join(" ");
  const lines = [
    `soak: ${describe(options)}`,
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ` +
      `Bun ${Bun.version}, started ${startedAt}`,
    `relay: ${relay.command} (pid ${relay.pid}), exit ${relayExit}`,
    "",
    "per subscriber connection (messages):",
    ...subscriberLines(findings.accounts),
    "",
    `published: ${findings.published} messages (publisher:last seq ${published}); ` +
      `the relay's BYE line counts ${findings.relayReceived ?? "?"} received`,
    ...slowLines(scenario.slowOutcomes),
    ...relayLoadLines(relay.ledger),
    "",
    ...lossLines(findings.totals, relay.ledger),
    "",
    ...rssLines(relay.rss, findings.trend),
    "",
  ];
  const reasons = judge(findings);
  if (reasons.length === 0) lines.push("verdict: PASS");
  else lines.push("verdict: FAIL", ...reasons.map((reason) => `  - ${reason}`));
  process.stdout.write(`${lines.join("\n")}\n`);
  return reasons.length === 0 ? 0 : 1;
}

function account(
  scenario: Scenario,
  relay: RelayProcess,
  relayExit: number | string,
  relayDiedEarly: boolean,
): SoakFindings {
  const ledger = relay.ledger;
  const accounts = scenario.subscribers.map((subscriber) => {
    const session = subscriber.session();
    const record = ledger.subscriber(session.peer, session.peerOccurrence);
    const view: RelayView | undefined = record && {
      openMs: record.openMs,
      closeReason: record.close?.reason,
      closeDroppedBytes: record.close?.droppedBytes ?? 0,
      dropMessages: record.dropMessages,
    };
    return accountSession(session, scenario.publishers, view);
  });
  const publisherCloseProblems = ledger.publisherCloses
    .filter((close) => close.reason !== "peer_closed" || close.droppedBytes > 0)
    .map(
      (close) =>
        `publisher ${close.peer} closed with reason=${close.reason} dropped=${close.droppedBytes}B`,
    );
  if (ledger.publisherCloses.length !== scenario.publishers.length && !relayDiedEarly) {
    publisherCloseProblems.push(
      `${ledger.publisherCloses.length} publisher CLOSE lines for ${scenario.publishers.length} publishers`,
    );
  }
  return {
    accounts,
    totals: sumAccounts(accounts),
    published: scenario.publishers.reduce((sum, p) => sum + p.lastSent, 0),
    relayReceived: ledger.bye?.totals.received,
    relayExit,
    relayDiedEarly,
    publisherCloseProblems,
    scenarioProblems: scenario.problems,
    trend: rssTrend(relay.rss),
  };
}

process.exit(await main());
