/**
 * `bun run bench/native/frame-load.ts`: the framed submit/ack load (issue 12) with the native
 * client bench/native/frame_load.c (built on demand): N connections, W Submits in flight on
 * each, every ack checked (ID order, result, command code), acks/s and submit-to-ack latency.
 *
 *   bun run bench/native/frame-load.ts --conns 16 --window 64 --duration 5
 *   bun run bench/native/frame-load.ts --connect 127.0.0.1:8888 --ack-cmd 0x81   # a running server
 *
 * If nothing listens on the port, it starts this project's relay with --framing frame and
 * the --frame-codes that --ack-cmd implies (0x82 spec, 0x81 article), or --relay-cmd (`{pub}`
 * is the port, `{sub}` the relay's unused subscriber port), and waits for the one port only.
 * `--json` prints one BenchResult (acks/s as the sent and received rates, ack latency as the
 * latency, `acks` filled in), so bench:compare reads it like any other run.
 * Exit status: 0 when every Submit got its ack in order with result 0, 1 otherwise (unless
 * --allow-loss), 2 on bad usage, 3 when the run could not happen.
 */
import { parseArgs } from "node:util";
import { integer, seconds, UsageError } from "../lib/args.ts";
import type { LatencySummary } from "../lib/latency-histogram.ts";
import { type ProcSample, readProcSample, relaySamples } from "../lib/proc-stats.ts";
import { ensureRelay, type RelayHandle } from "../lib/relay-launcher.ts";
import { formatRelayLog } from "../lib/relay-log.ts";
import { type BenchResult, deliveredEverything, relayLogOf } from "../report/bench-result.ts";
import { ensureFrameLoad } from "./build.ts";
import type { RelaySamples } from "./native-result.ts";

export interface FrameLoadOptions {
  host: string;
  port: number;
  /** Filled into `{sub}` of the relay command (our relay needs a subscriber port). */
  subPort: number;
  conns: number;
  window: number;
  payload: number;
  /** The SubmitAck command code expected: 0x82 (seed 003's table) or 0x81 (its Go code). */
  ackCmd: number;
  duration: number;
  warmup: number;
  drain: number;
  threads: number;
  relayCmd: string | undefined;
  noSpawn: boolean;
  json: boolean;
  allowLoss: boolean;
  help: boolean;
}

export const FRAME_LOAD_USAGE = `Usage: bun run bench/native/frame-load.ts [flags]

  --connect HOST:PORT  the server (default 127.0.0.1:7001; or --pub-host, --pub-port)
  --conns N            connections (16)
  --window W           Submits in flight per connection (64)
  --payload B          payload bytes per Submit (64)
  --ack-cmd C          SubmitAck code expected: 0x82 (spec, default) or 0x81 (article)
  --duration S         measured seconds (10)
  --warmup S           seconds before measuring (1)
  --drain S            at most this long for the last acks (2)
  --threads T          client epoll threads (1)
  --relay-cmd CMD      start this server when nothing listens; {pub} = port, {sub} = port + 1
  --sub-port N         {sub} of the relay command (port + 1)
  --no-spawn           never start a server
  --json               one BenchResult object
  --allow-loss         exit 0 even when acks were missing or wrong`;

/** Parses the wrapper's flags (bench:compare passes the bench's own too; see the usage). */
export function parseFrameLoadArgs(argv: string[]): FrameLoadOptions {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  let host = v["pub-host"] ?? "127.0.0.1";
  let portText = v["pub-port"];
  if (v.connect !== undefined) {
    const match = /^(.+):(\d+)$/.exec(v.connect);
    if (!match) throw new UsageError(`--connect takes HOST:PORT, got "${v.connect}"`);
    host = match[1] as string;
    portText = match[2];
  }
  const port = integer("pub-port", portText, 7001, 1, 65535);
  const ackText = v["ack-cmd"] ?? "0x82";
  const ackCmd = Number(ackText);
  if (!/^(0x[0-9a-f]{1,2}|\d{1,3})$/i.test(ackText) || ackCmd > 255) {
    throw new UsageError(`--ack-cmd must be a byte (0x82, 0x81, 130), got "${ackText}"`);
  }
  if (v["relay-cmd"] !== undefined && v["no-spawn"]) {
    throw new UsageError("--relay-cmd and --no-spawn contradict each other");
  }
  return {
    host,
    port,
    subPort: integer("sub-port", v["sub-port"], port + 1, 1, 65535),
    conns: integer("conns", v.conns, 16, 1, 8192),
    window: integer("window", v.window, 64, 1, 1 << 20),
    payload: integer("payload", v.payload, 64, 0, 1 << 20),
    ackCmd,
    duration: seconds("duration", v.duration, 10, 0.1),
    warmup: seconds("warmup", v.warmup, 1, 0),
    drain: seconds("drain", v.drain, 2, 0.1),
    threads: integer("threads", v.threads, 1, 1, 16),
    relayCmd: v["relay-cmd"],
    noSpawn: v["no-spawn"] ?? false,
    json: v.json ?? false,
    allowLoss: v["allow-loss"] ?? false,
    help: v.help ?? false,
  };
}

function parseWithNode(argv: string[]) {
  const text = { type: "string" } as const;
  const flag = { type: "boolean" } as const;
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      connect: text,
      "pub-host": text,
      "pub-port": text,
      "sub-port": text,
      conns: text,
      window: text,
      payload: text,
      "ack-cmd": text,
      duration: text,
      warmup: text,
      drain: text,
      threads: text,
      "relay-cmd": text,
      "no-spawn": flag,
      json: flag,
      "allow-loss": flag,
      help: { type: "boolean", short: "h" },
    },
  });
}

/** Our relay's --frame-codes for an expected SubmitAck code, or undefined for neither. */
export function frameCodesFor(ackCmd: number): "spec" | "article" | undefined {
  if (ackCmd === 0x82) return "spec";
  if (ackCmd === 0x81) return "article";
  return undefined;
}

/** frame_load's flags for these options. */
export function frameLoadArgs(o: FrameLoadOptions): string[] {
  return [
    "--connect",
    `${o.host}:${o.port}`,
    "--conns",
    String(o.conns),
    "--window",
    String(o.window),
    "--payload",
    String(o.payload),
    "--ack-cmd",
    `0x${o.ackCmd.toString(16)}`,
    "--duration",
    String(o.duration),
    "--warmup",
    String(o.warmup),
    "--drain",
    String(o.drain),
    "--threads",
    String(o.threads),
  ];
}

/** What frame_load prints: one line of JSON. Latency in microseconds. */
export interface FrameLoadOutput {
  client: "frame-load";
  conns: number;
  window: number;
  payload: number;
  ackCmd: number;
  threads: number;
  windowSec: number;
  /** Acks read inside the window, and per second of it. */
  acks: number;
  acksPerSec: number;
  submitsTotal: number;
  acksTotal: number;
  /** Submits without an ack after the drain. */
  unacked: number;
  /** Acks whose ID was not the oldest unacked Submit's. */
  badId: number;
  badResult: number;
  /** Acks with another command code than --ack-cmd. */
  badCmd: number;
  /** Frames whose totalLength was not 14 (the connection is then closed: it cannot be followed). */
  badLength: number;
  disconnected: number;
  latencyUs: {
    count: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    p999: number;
    max: number;
  };
  drainSec: number;
  runSec: number;
}

/** Parses frame_load's stdout: its last line that is a JSON object from frame-load. */
export function parseFrameLoadOutput(stdout: string): FrameLoadOutput {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error("frame_load printed no result");
  const out = JSON.parse(line) as FrameLoadOutput;
  if (out.client !== "frame-load" || typeof out.acksPerSec !== "number") {
    throw new Error("not a frame_load result");
  }
  return out;
}

/** Acks that broke a rule: wrong ID, result, command or length. */
export function badAcks(out: FrameLoadOutput): number {
  return out.badId + out.badResult + out.badCmd + out.badLength;
}

export function frameLoadLatency(out: FrameLoadOutput): LatencySummary {
  const l = out.latencyUs;
  const msOf = (us: number) => (l.count === 0 ? Number.NaN : us / 1000);
  return {
    count: l.count,
    avgMs: msOf(l.mean),
    minMs: Number.NaN,
    p50Ms: msOf(l.p50),
    p90Ms: msOf(l.p90),
    p99Ms: msOf(l.p99),
    p999Ms: msOf(l.p999),
    p9999Ms: Number.NaN,
    maxMs: msOf(l.max),
  };
}

/**
 * A frame_load run as a BenchResult: `conns` publishers, no subscribers; the acks of the window
 * are both "sent" and "received" (every ack is one Submit done), the ack latency is the
 * latency, and `acks` holds the checks.
 */
export function frameLoadToBenchResult(
  o: FrameLoadOptions,
  relay: string,
  out: FrameLoadOutput,
  samples: RelaySamples,
  relayLog: BenchResult["relayLog"] = null,
): BenchResult {
  const latency = frameLoadLatency(out);
  return {
    params: {
      pubs: out.conns,
      subs: 0,
      rate: 0,
      msgSize: out.payload,
      duration: o.duration,
      warmup: o.warmup,
      threads: out.threads,
      sample: null,
      msgsPerWrite: out.window,
      protocol: "line",
      framing: "frame",
      stalled: 0,
      idle: 0,
      slowReader: null,
      pausing: 0,
    },
    relay: `${relay} (frame_load: ${out.conns} conns x ${out.window} in flight)`,
    windowSec: out.windowSec,
    sent: out.acks,
    sentRate: out.acksPerSec,
    received: out.acks,
    receivedRate: out.acksPerSec,
    expectedReceived: out.acks,
    latencyMs: latency,
    correctedLatencyMs: null,
    lost: out.unacked,
    duplicated: 0,
    reordered: 0,
    malformedLines: badAcks(out),
    foreignLines: 0,
    negativeLatencySamples: 0,
    disconnectedSubscribers: out.disconnected,
    unflushedBytes: 0,
    sampled: 0,
    relayCpuPct: samples.cpuPct,
    relayRssMb: samples.rssBytes === null ? null : samples.rssBytes / 2 ** 20,
    relayRssBaselineMb:
      samples.rssBaselineBytes === null ? null : samples.rssBaselineBytes / 2 ** 20,
    sentTotal: out.submitsTotal,
    receivedTotal: out.acksTotal,
    relayLog,
    extraSubscribers: [],
    acks: {
      received: out.acksTotal,
      inWindow: out.acks,
      rate: out.acksPerSec,
      failed: out.badResult,
      outOfOrder: out.badId,
      unacked: out.unacked,
      errors: out.badCmd + out.badLength,
      latencyMs: latency,
    },
  };
}

/** The text report of one run. */
export function frameLoadLines(r: BenchResult, out: FrameLoadOutput): string[] {
  const f = (n: number) => Math.round(n).toLocaleString("en-US");
  const ms = (n: number) => n.toFixed(3);
  const l = r.latencyMs;
  const bad = badAcks(out);
  return [
    `frame_load: ${out.conns} conns x ${out.window} in flight, ${out.payload} B payload, SubmitAck 0x${out.ackCmd.toString(16)}, ${out.threads} thread${out.threads === 1 ? "" : "s"}, ${out.windowSec.toFixed(2)} s`,
    `Acks: ${f(out.acksPerSec)}/s (${out.acks} in window, ${out.acksTotal} in all); submit-to-ack (ms): avg=${ms(l.avgMs)} p50=${ms(l.p50Ms)} p90=${ms(l.p90Ms)} p99=${ms(l.p99Ms)} p99.9=${ms(l.p999Ms)} max=${ms(l.maxMs)}`,
    bad + out.unacked + out.disconnected === 0
      ? "Checked: every ack in Submit order, result 0"
      : `Checked: bad ID ${out.badId}, bad result ${out.badResult}, bad command ${out.badCmd}, bad length ${out.badLength}; never acked ${out.unacked}; disconnected ${out.disconnected}`,
    `Server CPU ${r.relayCpuPct === null ? "n/a" : `${r.relayCpuPct.toFixed(0)}%`}; ${r.relay}`,
    ...(r.relayLog === null ? [] : [formatRelayLog(r.relayLog)]),
  ];
}

/** On top of warmup + duration + drain: connecting, exiting. */
const SLACK_SEC = 20;

export interface FrameLoadRun {
  output: FrameLoadOutput;
  /** Epoch ms at which the client's window opened and closed (from its stderr). */
  windowStartMs: number | undefined;
  windowEndMs: number | undefined;
  stderr: string;
}

/**
 * Runs frame_load against a listening server; `onWindow` is called as the window opens and
 * closes (to sample the server's CPU). Throws when it exits badly or prints no result.
 */
export async function runFrameLoad(
  binary: string,
  o: FrameLoadOptions,
  onWindow: (edge: "start" | "end") => void = () => {},
): Promise<FrameLoadRun> {
  const child = Bun.spawn([binary, ...frameLoadArgs(o)], { stdout: "pipe", stderr: "pipe" });
  const limitSec = o.warmup + o.duration + o.drain + SLACK_SEC;
  const timer = setTimeout(() => child.kill("SIGKILL"), limitSec * 1000);
  let stderr = "";
  let windowStartMs: number | undefined;
  let windowEndMs: number | undefined;
  const readStderr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      if (text.includes("window-start")) {
        windowStartMs = Date.now();
        onWindow("start");
      }
      if (text.includes("window-end")) {
        windowEndMs = Date.now();
        onWindow("end");
      }
      stderr += text;
    }
  })();
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  await readStderr;
  clearTimeout(timer);
  const said = stderr.replace(/window-(start|end)\n/g, "").trim();
  if (code !== 0) {
    throw new Error(`frame_load exited ${code ?? child.signalCode}${said ? `: ${said}` : ""}`);
  }
  return { output: parseFrameLoadOutput(stdout), windowStartMs, windowEndMs, stderr: said };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  let o: FrameLoadOptions;
  try {
    o = parseFrameLoadArgs(Bun.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(`frame-load: ${err.message}\n(see --help)`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${FRAME_LOAD_USAGE}\n`);
    return 0;
  }
  const codes = frameCodesFor(o.ackCmd);
  if (o.relayCmd === undefined && codes === undefined) {
    say("frame-load: our relay sends SubmitAck as 0x82 (spec) or 0x81 (article); pass --relay-cmd");
  }
  let binary: string;
  let relay: RelayHandle;
  try {
    binary = ensureFrameLoad(say);
    relay = await ensureRelay(
      {
        pubHost: o.host,
        pubPort: o.port,
        subHost: o.host,
        subPort: o.subPort,
        noSpawn: o.noSpawn,
        relayCmd: o.relayCmd,
        framing: "frame",
        frameCodes: codes ?? "spec",
        pubPortOnly: true,
      },
      say,
    );
  } catch (err) {
    say(`frame-load: ${(err as Error).message}`);
    return 3;
  }
  const sample = () =>
    relay.pid === undefined ? undefined : readProcSample(relay.pid, Date.now());
  const baseline = sample();
  let windowStart: ProcSample | undefined;
  let windowEnd: ProcSample | undefined;
  let run: FrameLoadRun;
  try {
    run = await runFrameLoad(binary, o, (edge) => {
      if (edge === "start") windowStart = sample();
      else windowEnd = sample();
    });
  } catch (err) {
    await relay.stop();
    say(`frame-load: ${(err as Error).message}`);
    return 3;
  }
  await relay.stop();
  if (run.stderr !== "") say(`frame-load: the client said: ${run.stderr}`);
  const relayLog =
    run.windowStartMs === undefined
      ? null
      : relayLogOf(relay.log?.records, {
          publishStartMs: run.windowStartMs - o.warmup * 1000,
          extras: [],
        });
  const result = frameLoadToBenchResult(
    o,
    relay.description,
    run.output,
    relaySamples(baseline, windowStart, windowEnd),
    relayLog,
  );
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${frameLoadLines(result, run.output).join("\n")}\n`);
  if (!deliveredEverything(result) && !o.allowLoss) {
    say("frame-load: acks were missing, out of order or failed (exit 1; --allow-loss to accept)");
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exit(await main());
