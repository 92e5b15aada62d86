/**
 * `bun run bench:compare`: the same bench client against this project's relay
 * and a peer relay (the article's Go relay by default), scenario by scenario,
 * alternating which runs first, and a table of medians with the ratio
 * ours / peer. Each run is a separate `bun run bench/main.ts --json` process
 * that starts its relay on fresh ports and stops it afterwards.
 *
 *   bun run bench:compare [--rounds 3] [--duration 5] [--peer-cmd CMD] [--ours-cmd CMD]
 *                         [--drain 5] [--only NAME] [--ceiling] [--json]
 *
 * --ceiling adds bench/sink-relay.ts, the trivial relay that shows the client's
 * own limit on this machine. Raw results go to bench/out/compare-*.json.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  FIGURES,
  formatFigure,
  median,
  ratio,
  roundOrder,
  SCENARIOS,
} from "./compare/scenarios.ts";
import { OUR_RELAY_CMD, REPO_ROOT, shellQuote } from "./lib/relay-launcher.ts";
import type { BenchResult } from "./report/bench-result.ts";

const GO_DIR = path.resolve(REPO_ROOT, "../shared/peers/go-relay");
const GO_RELAY = path.join(GO_DIR, "tcp_forward");
const SINK_CMD = `${shellQuote(process.execPath)} run bench/sink-relay.ts {pub} {sub}`;
const BASE_PORT = 27_001;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    // Long enough for an overloaded relay's backlog (seconds deep) to arrive rather than count as lost.
    drain: { type: "string", default: "5" },
    "peer-cmd": { type: "string" },
    "ours-cmd": { type: "string", default: OUR_RELAY_CMD },
    only: { type: "string" },
    ceiling: { type: "boolean", default: false },
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

async function peerCommand(): Promise<string> {
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

interface Relay {
  name: string;
  command: string;
}

const relays: Relay[] = [
  { name: "ours", command: values["ours-cmd"] },
  { name: values["peer-cmd"] === undefined ? "go" : "peer", command: await peerCommand() },
];
if (values.ceiling) relays.push({ name: "sink (client ceiling)", command: SINK_CMD });
const scenarios = SCENARIOS.filter(
  (s) => values.only === undefined || s.name.includes(values.only),
);
const rounds = Number(values.rounds);

let runIndex = 0;
async function runOnce(args: string[], relay: Relay): Promise<BenchResult | undefined> {
  // Fresh ports each run: no wait for the previous relay's sockets to clear.
  const pubPort = BASE_PORT + 2 * (runIndex++ % 500);
  const child = Bun.spawn(
    [
      process.execPath,
      "run",
      "bench/main.ts",
      ...args,
      "--duration",
      values.duration,
      "--warmup",
      values.warmup,
      "--drain",
      values.drain,
      "--pub-port",
      String(pubPort),
      "--sub-port",
      String(pubPort + 1),
      "--relay-cmd",
      relay.command,
      "--allow-loss",
      "--json",
    ],
    { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  // Exit 1 still prints the JSON result (the run happened, with loss): keep it, say why.
  if (code !== 0) say(`compare: ${relay.name} exited ${code}:\n${stderr.trim()}`);
  if (stdout.trim() === "") return undefined;
  return JSON.parse(stdout) as BenchResult;
}

const results: Record<string, Record<string, BenchResult[]>> = {};
for (const scenario of scenarios) {
  const byRelay: Record<string, BenchResult[]> = {};
  for (const r of relays) byRelay[r.name] = [];
  results[scenario.name] = byRelay;
  for (let round = 0; round < rounds; round++) {
    for (const relay of roundOrder(relays, round)) {
      say(`compare: ${scenario.name} | round ${round + 1}/${rounds} | ${relay.name}`);
      const result = await runOnce(scenario.args, relay);
      if (result !== undefined) byRelay[relay.name]?.push(result);
    }
  }
}

const outDir = path.join(REPO_ROOT, "bench/out");
mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, `compare-${new Date().toISOString().replaceAll(":", "-")}.json`);
await Bun.write(
  outFile,
  JSON.stringify({ relays, rounds, duration: values.duration, results }, null, 2),
);

const lines: string[] = [];
const [ours, peer] = relays as [Relay, Relay];
lines.push(
  `Medians of ${rounds} alternating runs, ${values.duration} s each (+${values.warmup} s warmup), same client.`,
  "",
  `| scenario | figure | ${relays.map((r) => r.name).join(" | ")} | ${ours.name}/${peer.name} |`,
  `|---|---|${relays.map(() => "---|").join("")}---|`,
);
const summary: Record<string, Record<string, Record<string, number>>> = {};
for (const scenario of scenarios) {
  const byRelay = results[scenario.name] ?? {};
  summary[scenario.name] = {};
  for (const figure of FIGURES) {
    const medians = relays.map((r) => median((byRelay[r.name] ?? []).map(figure.pick)));
    if (medians.every((m) => Number.isNaN(m))) continue;
    const row: Record<string, number> = {};
    relays.forEach((r, i) => {
      row[r.name] = medians[i] as number;
    });
    const q = ratio(medians[0] as number, medians[1] as number);
    row.ratio = q;
    (summary[scenario.name] as Record<string, Record<string, number>>)[figure.label] = row;
    const cells = medians.map(formatFigure).join(" | ");
    const note = Number.isNaN(q)
      ? "n/a"
      : `${q.toFixed(2)}${figure.higherIsBetter ? "" : " (<1 better)"}`;
    lines.push(`| ${scenario.name} | ${figure.label} | ${cells} | ${note} |`);
  }
}
if (values.json) process.stdout.write(`${JSON.stringify({ relays, rounds, summary })}\n`);
else process.stdout.write(`${lines.join("\n")}\n`);
say(`compare: raw results in ${path.relative(REPO_ROOT, outFile)}`);
