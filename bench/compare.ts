/**
 * `bun run bench:compare`: one scenario per target of issue 4, each run
 * against this project's relay, the article's Go relay and, where the issue
 * asks, nats-server (through the bench's NATS adapter) and the sink relay
 * (the bench client's own ceiling): same client, same machine, contenders
 * alternating round by round (ABBA), medians, ratios and a pass/fail per
 * target. Each run is a separate `bun run bench/main.ts --json` process that
 * starts its relay on fresh ports and stops it afterwards; a raw loopback TCP
 * stream (bench/loopback.ts) is measured too, as the kernel's limit.
 *
 *   bun run bench:compare [--rounds 3] [--duration 5] [--warmup 1] [--drain 3]
 *                         [--only TARGET|NAME] [--skip-loopback] [--json]
 *                         [--ours-cmd CMD] [--ours-nats-cmd CMD] [--peer-cmd CMD]
 *                         [--go-frame-cmd CMD] [--client ts|native]
 *
 * --client native runs the saturation scenarios (1, 2, 3; rate 0) with the
 * native C client (bench/native/sat_client.c, built on demand) instead of the
 * TypeScript workers, and measures the raw loopback stream with it too; the
 * other scenarios keep the TypeScript client.
 *
 * Issue 11's scenarios (the default slow-consumer policy, `stall`) follow:
 * defaults against --slow-consumer block at saturation (11.1a, 11.1b), a
 * stuck subscriber (11.2), a 1 MiB/s reader (11.3) and one that pauses 100 ms
 * every second (11.4), judged on figures and on what our relay logged (cuts,
 * STALL lines, BYE totals; the bench reads the log of the relay it starts).
 *
 * Issue 12's scenarios (the framed protocol, `--only 12`): acks/s at 16
 * connections x 64 Submits in flight (12.a) and round trips at 100 x 1 (12.b),
 * ours (--framing frame --frame-codes article) against seed 003's Go server
 * (../shared/peers/go-frame, cmd/server, built with Go from a temporary copy),
 * both loaded by bench/native/frame_load.c; and frame fan-out 1 -> 3 at
 * saturation against line mode with the same payload bytes (12.c, on the
 * bench's client: TypeScript, or native with --client native).
 *
 * Issue 20's scenarios (`--only 20`): NATS fan-out on one subject at saturation, 80 B,
 * 1 -> 3 (20.a) and 4 -> 16 (20.b), our relay's NATS port (--ours-nats-cmd, default
 * `--nats-port {port} --pub-port 0 --sub-port 0`, every other default) against nats-server,
 * both loaded by the same client over the NATS protocol (`--client native`: sat_client's
 * PUB/MSG mode); target ours-nats/nats >= 3.
 *
 * Issue 21's scenarios (`--only 21`), ours-nats against nats-server again: 1,000 subjects with
 * one subscriber each and one publisher cycling through them (21.a, sat_client --subjects,
 * native whatever --client says; >= 1.5x); request/reply with 50 requesters and one responder
 * (21.b, bench/native/nats-load.ts --load reqrep; >= 1.2x requests/s, p99 no worse); 10,000
 * connections holding 100,000 subscriptions, idle (21.c, --load hold; RSS reported beside
 * nats-server's).
 *
 * --only takes an issue-4 target number (`--only 8`), an issue (`--only 11`,
 * or `--only 4.` for all of issue 4), an issue and target (`--only 11.2`,
 * `--only 11.1` for 1a and 1b), or part of a scenario name.
 * Raw results go to bench/out/compare-*.json.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { goPeer, goUnavailable } from "../test/support/go-peers.ts";
import {
  type Contender,
  oursLabel,
  type RelayKind,
  runnerScript,
  SCENARIOS,
  type Scenario,
  scenarioKey,
  selectScenarios,
  speaksNats,
} from "./compare/scenarios.ts";
import {
  FIGURES,
  formatFigure,
  formatRatio,
  headlineFigure,
  judge,
  median,
  mediansOf,
  ratio,
  roundOrder,
} from "./compare/verdicts.ts";
import { OUR_NATS_RELAY_CMD, OUR_RELAY_CMD, REPO_ROOT, shellQuote } from "./lib/relay-launcher.ts";
import { ensureNativeClient } from "./native/build.ts";
import { parseNativeOutput } from "./native/native-result.ts";
import type { BenchResult } from "./report/bench-result.ts";

const GO_DIR = path.resolve(REPO_ROOT, "../shared/peers/go-relay");
const GO_RELAY = path.join(GO_DIR, "tcp_forward");
const SINK_CMD = `${shellQuote(process.execPath)} run bench/sink-relay.ts {pub} {sub}`;
const NATS_CMD = "nats-server -a 127.0.0.1 -p {pub}";
const BASE_PORT = 27_001;
/** On top of warmup + duration + drain: connecting 10,000 subscribers, starting and stopping relays. */
const RUN_SLACK_SEC = 60;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    // A cap: runs end as soon as everything sent has arrived.
    drain: { type: "string", default: "3" },
    "peer-cmd": { type: "string" },
    "go-frame-cmd": { type: "string" },
    "ours-cmd": { type: "string", default: OUR_RELAY_CMD },
    "ours-nats-cmd": { type: "string", default: OUR_NATS_RELAY_CMD },
    only: { type: "string" },
    "skip-loopback": { type: "boolean", default: false },
    client: { type: "string", default: "ts" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    `${(await Bun.file(import.meta.path).text()).split("*/")[0]?.replace(/^\/\*\*|^ \* ?/gm, "")}\n`,
  );
  process.exit(0);
}
const say = (line: string) => process.stderr.write(`${line}\n`);
if (values.client !== "ts" && values.client !== "native") {
  say(`compare: --client must be ts or native, got "${values.client}"`);
  process.exit(2);
}
const nativeClient = values.client === "native";
const nativeBinary = nativeClient ? ensureNativeClient(say) : undefined;

async function goCommand(): Promise<string> {
  if (values["peer-cmd"] !== undefined) return values["peer-cmd"];
  if (!existsSync(GO_RELAY)) {
    say(`compare: ${GO_RELAY} is missing; building it with ${GO_DIR}/build.sh`);
    const build = Bun.spawnSync(["bash", path.join(GO_DIR, "build.sh")], {
      stdout: "inherit",
      stderr: "inherit",
    });
    if (build.exitCode !== 0) throw new Error("building the Go relay failed; pass --peer-cmd");
  }
  return `${shellQuote(GO_RELAY)} {pub} {sub}`;
}

/** Seed 003's Go server, built from a temporary copy of ../shared/peers/go-frame (issue 12). */
async function goFrameCommand(): Promise<string> {
  if (values["go-frame-cmd"] !== undefined) return values["go-frame-cmd"];
  const why = goUnavailable();
  if (why !== undefined)
    throw new Error(`cannot build seed 003's Go server: ${why}; pass --go-frame-cmd`);
  return `${shellQuote(await goPeer("go-frame", "server"))} -listen 127.0.0.1:{pub}`;
}

const only = values.only;
const scenarios = selectScenarios(SCENARIOS, only);
if (scenarios.length === 0) {
  say(`compare: --only ${only} matches no scenario`);
  process.exit(2);
}
const needs = (kind: RelayKind) =>
  scenarios.some((s) => s.contenders.some((c) => c.relay === kind));

const commands: Record<RelayKind, string> = {
  ours: values["ours-cmd"],
  go: needs("go") ? await goCommand() : "(not needed)",
  nats: NATS_CMD,
  sink: SINK_CMD,
  "go-frame": needs("go-frame") ? await goFrameCommand() : "(not needed)",
  "ours-nats": values["ours-nats-cmd"],
};

function relayTemplate(c: Contender): string {
  const base = commands[c.relay];
  return c.relayFlags === undefined ? base : `${base} ${c.relayFlags.join(" ")}`;
}
if (needs("nats") && Bun.which("nats-server") === null) {
  say("compare: nats-server is not installed (apt-get install -y nats-server); its runs will fail");
}
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const drain = Number(values.drain);

/** Runs a child to completion within `limitSec`, killing it (and its relay's process group is its own) after. */
async function runChild(argv: string[], limitSec: number) {
  const child = Bun.spawn(argv, { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => {
    say(`compare: run exceeded ${limitSec} s; killing it`);
    child.kill("SIGKILL");
  }, limitSec * 1000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

let runIndex = 0;
async function runOnce(scenario: Scenario, c: Contender): Promise<BenchResult | undefined> {
  // Fresh ports each run: no wait for the previous relay's sockets to clear.
  const pubPort = BASE_PORT + 2 * (runIndex++ % 500);
  const nats = speaksNats(c.relay);
  const { stdout, stderr, code } = await runChild(
    [
      process.execPath,
      "run",
      runnerScript(scenario, nativeClient),
      ...scenario.args,
      ...(c.benchArgs ?? []),
      ...(nats ? ["--protocol", "nats"] : []),
      "--duration",
      String(duration),
      "--warmup",
      String(warmup),
      "--drain",
      String(drain),
      "--pub-port",
      String(pubPort),
      "--sub-port",
      String(nats ? pubPort : pubPort + 1),
      "--relay-cmd",
      relayTemplate(c),
      "--allow-loss",
      "--json",
    ],
    warmup + duration + drain + RUN_SLACK_SEC,
  );
  // Exit 1 still prints the JSON result (the run happened, with loss): keep it, say why.
  if (code !== 0) say(`compare: ${c.label} exited ${code}:\n${stderr.trim()}`);
  if (stdout.trim() === "") return undefined;
  return JSON.parse(stdout) as BenchResult;
}

interface Loopback {
  bytesPerSec: number;
  msgsPerSec: number;
}

const loopbacks: Loopback[] = [];
if (!values["skip-loopback"]) {
  for (let round = 0; round < rounds; round++) {
    say(`compare: raw loopback stream | round ${round + 1}/${rounds}`);
    if (nativeBinary !== undefined) {
      const { stdout } = await runChild(
        // One epoll loop: for a single stream it beats a thread per side (23 M vs 17 M msgs/s here).
        [
          nativeBinary,
          "--loopback",
          "--threads",
          "1",
          "--duration",
          String(duration),
          "--warmup",
          String(warmup),
        ],
        warmup + duration + 30,
      );
      if (stdout.trim() !== "") {
        const out = parseNativeOutput(stdout);
        loopbacks.push({
          bytesPerSec: out.receivedRate * out.msgSize,
          msgsPerSec: out.receivedRate,
        });
      }
      continue;
    }
    const { stdout } = await runChild(
      [
        process.execPath,
        "run",
        "bench/loopback.ts",
        "--duration",
        String(duration),
        "--warmup",
        String(warmup),
        "--json",
      ],
      warmup + duration + 30,
    );
    if (stdout.trim() !== "") loopbacks.push(JSON.parse(stdout) as Loopback);
  }
}
const loopback = {
  bytesPerSec: median(loopbacks.map((l) => l.bytesPerSec)),
  msgsPerSec: median(loopbacks.map((l) => l.msgsPerSec)),
};

const results: Record<string, Record<string, BenchResult[]>> = {};
for (const scenario of scenarios) {
  const byContender: Record<string, BenchResult[]> = {};
  for (const c of scenario.contenders) byContender[c.label] = [];
  const key = scenarioKey(scenario);
  results[key] = byContender;
  for (let round = 0; round < rounds; round++) {
    for (const c of roundOrder(scenario.contenders, round)) {
      say(`compare: ${key} | round ${round + 1}/${rounds} | ${c.label}`);
      const result = await runOnce(scenario, c);
      if (result !== undefined) byContender[c.label]?.push(result);
    }
  }
}

const outDir = path.join(REPO_ROOT, "bench/out");
mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, `compare-${new Date().toISOString().replaceAll(":", "-")}.json`);

const targetLines = [
  `Medians of ${rounds} alternating runs, ${duration} s each (+${warmup} s warmup), same client, same machine${nativeClient ? "; saturation scenarios with the native C client (bench/native/sat_client.c)" : ""}.`,
  `Raw loopback stream (one TCP connection, ${nativeClient ? "native client" : "same counting"}): ${formatFigure(loopback.bytesPerSec / 1e6)} MB/s = ${formatFigure(loopback.msgsPerSec)} msgs/s of 80 B.`,
  "",
  "| issue | target | scenario | figure | ours | go | nats | sink | ours/go | ours/nats | delivered MB/s (ours) | vs loopback | verdict |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
];
const detailLines: string[] = [];
const summary: Record<string, unknown> = {};
for (const scenario of scenarios) {
  const key = scenarioKey(scenario);
  const medians = mediansOf(results[key] ?? {});
  const verdict = judge(scenario.goal, medians);
  summary[key] = { medians, verdict, note: scenario.note };
  const headline = headlineFigure(scenario.goal);
  const cell = (label: string) => formatFigure(medians[label]?.[headline] ?? Number.NaN);
  // Issue 11: the "ours" column is our relay with every default (the first contender).
  const ours = oursLabel(scenario);
  const oursNote = ours === "ours" ? "" : ` (${ours})`;
  const oursRecv = medians[ours]?.["recv msg/s"] ?? Number.NaN;
  const deliveredBytes = oursRecv * 80;
  const byteCells =
    scenario.goal.kind === "ratio" ||
    scenario.goal.kind === "keep-up" ||
    scenario.goal.kind === "paced" ||
    scenario.goal.kind === "no-cut" ||
    scenario.goal.kind === "framing" ||
    scenario.goal.kind === "vs-nats"
      ? [
          formatFigure(deliveredBytes / 1e6),
          formatRatio(ratio(deliveredBytes, loopback.bytesPerSec)),
        ]
      : ["", ""];
  if (scenario.goal.kind === "stall") {
    targetLines.push(
      `| ${scenario.issue} | ${scenario.target} | ${scenario.name} | recv msg/s with/without the stalled one | | | | | | | | | ${verdict.pass ? "PASS" : "FAIL"}: ${verdict.summary} |`,
    );
  } else {
    const higherBetter = headline === "recv msg/s" || headline === "acks/s";
    const q = ratio(medians[ours]?.[headline] ?? Number.NaN, medians.go?.[headline] ?? Number.NaN);
    const qn = ratio(
      medians[ours]?.[headline] ?? Number.NaN,
      medians.nats?.[headline] ?? Number.NaN,
    );
    targetLines.push(
      `| ${scenario.issue} | ${scenario.target} | ${scenario.name} | ${headline}${oursNote} | ${cell(ours)} | ${cell("go")} | ${cell("nats")} | ${cell("sink")} | ${formatRatio(q)}${higherBetter ? "" : " (<1 better)"} | ${formatRatio(qn)} | ${byteCells.join(" | ")} | ${verdict.pass ? "PASS" : "FAIL"}: ${verdict.summary} |`,
    );
  }
  const labels = scenario.contenders.map((c) => c.label);
  detailLines.push(
    "",
    `### ${key}`,
    "",
    ...(scenario.note === undefined ? [] : [`${scenario.note}.`, ""]),
    `| figure | ${labels.join(" | ")} |`,
    `|---|${labels.map(() => "---|").join("")}`,
  );
  for (const figure of FIGURES) {
    const row = labels.map((l) => medians[l]?.[figure.label] ?? Number.NaN);
    if (row.every((v) => Number.isNaN(v))) continue;
    detailLines.push(`| ${figure.label} | ${row.map(formatFigure).join(" | ")} |`);
  }
}

await Bun.write(
  outFile,
  JSON.stringify(
    {
      rounds,
      duration,
      warmup,
      client: values.client,
      commands,
      loopbacks,
      loopback,
      results,
      summary,
    },
    null,
    2,
  ),
);
if (values.json) process.stdout.write(`${JSON.stringify({ rounds, loopback, summary })}\n`);
else process.stdout.write(`${[...targetLines, ...detailLines].join("\n")}\n`);
say(`compare: raw results in ${path.relative(REPO_ROOT, outFile)}`);
