/**
 * bench/native/nats-load.ts's interface as pure functions (issue 21): its flags (bench:compare
 * passes the bench's own too), the native clients' flags and JSON lines, and how a line becomes
 * a BenchResult. Tested without running anything.
 */
import { parseArgs } from "node:util";
import { integer, seconds, UsageError } from "../lib/args.ts";
import type { LatencySummary } from "../lib/latency-histogram.ts";
import type { BenchResult } from "../report/bench-result.ts";
import { NO_LATENCY, type RelaySamples } from "./native-result.ts";

export interface NatsLoadOptions {
  /** `reqrep`: request/reply round trips; `hold`: idle connections holding subscriptions. */
  load: "reqrep" | "hold";
  host: string;
  port: number;
  /** reqrep: requester connections, one request in flight each. */
  requesters: number;
  /** reqrep: request and reply payload bytes. */
  msgSize: number;
  /** hold: connections, subscriptions on each, connections opened per wave (<= 256). */
  conns: number;
  subsPerConn: number;
  wave: number;
  duration: number;
  warmup: number;
  drain: number;
  relayCmd: string | undefined;
  noSpawn: boolean;
  json: boolean;
  allowLoss: boolean;
  help: boolean;
}

export const NATS_LOAD_USAGE = `Usage: bun run bench/native/nats-load.ts --load reqrep|hold [flags]

  --pub-port N         the NATS server's port (7001); --pub-host H (127.0.0.1)
  --requesters R       reqrep: requester connections, one request in flight each (50)
  --msg-size B         reqrep: payload bytes of requests and replies (80)
  --conns C            hold: connections (10000)
  --subs-per-conn S    hold: subscriptions per connection (10)
  --wave W             hold: connections opened, then confirmed by PING/PONG, at once (256, at most 256)
  --duration S         reqrep: measured seconds; hold: idle seconds before RSS is read (5)
  --warmup S           reqrep: seconds before measuring (1)
  --drain S            reqrep: at most this long for the replies in flight (3)
  --relay-cmd CMD      start this server when nothing listens; {port} = {pub} = the port
  --no-spawn           never start a server
  --json               one BenchResult object
  --allow-loss         exit 0 even when requests went unanswered
  (--sub-port, --protocol, --rate, --sample are accepted and ignored: bench:compare passes them)`;

/** Parses nats-load's flags; throws UsageError. */
export function parseNatsLoadArgs(argv: string[]): NatsLoadOptions {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const load = v.load ?? "";
  if (load !== "reqrep" && load !== "hold" && !v.help) {
    throw new UsageError(`--load must be reqrep or hold, got "${load}"`);
  }
  if (v.protocol !== undefined && v.protocol !== "nats") {
    throw new UsageError("nats-load speaks NATS only (--protocol nats)");
  }
  return {
    load: load === "hold" ? "hold" : "reqrep",
    host: v["pub-host"] ?? "127.0.0.1",
    port: integer("pub-port", v["pub-port"], 7001, 1, 65535),
    requesters: integer("requesters", v.requesters, 50, 1, 4000),
    msgSize: integer("msg-size", v["msg-size"], 80, 1, 65536),
    conns: integer("conns", v.conns, 10_000, 1),
    subsPerConn: integer("subs-per-conn", v["subs-per-conn"], 10, 1, 1000),
    wave: integer("wave", v.wave, 256, 1, 256),
    duration: seconds("duration", v.duration, 5, 0),
    warmup: seconds("warmup", v.warmup, 1, 0),
    drain: seconds("drain", v.drain, 3, 0.1),
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
      load: text,
      "pub-host": text,
      "pub-port": text,
      "sub-port": text,
      protocol: text,
      rate: text,
      sample: text,
      requesters: text,
      "msg-size": text,
      conns: text,
      "subs-per-conn": text,
      wave: text,
      duration: text,
      warmup: text,
      drain: text,
      "relay-cmd": text,
      "no-spawn": flag,
      json: flag,
      "allow-loss": flag,
      help: { type: "boolean", short: "h" },
    },
  });
}

/** nats_reqrep's flags. */
export function reqrepArgs(o: NatsLoadOptions): string[] {
  return [
    ...["--host", o.host, "--port", String(o.port)],
    ...["--requesters", String(o.requesters), "--msg-size", String(o.msgSize)],
    ...["--duration", String(o.duration), "--warmup", String(o.warmup)],
    ...["--drain", String(o.drain)],
  ];
}

/** nats_hold's flags. */
export function holdArgs(o: NatsLoadOptions): string[] {
  return [
    ...["--host", o.host, "--port", String(o.port), "--conns", String(o.conns)],
    ...["--subs-per-conn", String(o.subsPerConn), "--wave", String(o.wave)],
    ...["--duration", String(o.duration)],
  ];
}

/** What nats_reqrep prints (one JSON line). */
export interface ReqrepOutput {
  client: "nats-reqrep";
  requesters: number;
  msgSize: number;
  windowSec: number;
  /** Round trips completed in the window, and per second. */
  requests: number;
  requestRate: number;
  avgMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Requests still without a reply after the drain. */
  unanswered: number;
  malformed: number;
}

/** What nats_hold prints (one JSON line). */
export interface HoldOutput {
  client: "nats-hold";
  conns: number;
  subsPerConn: number;
  subscriptions: number;
  connectSec: number;
  idleSec: number;
  /** Connections that answered the PING after the idle time. */
  confirmed: number;
}

/** A nats-load run as a BenchResult: requests/s as both rates, round trips as the latency. */
export function natsLoadToBenchResult(
  o: NatsLoadOptions,
  relay: string,
  out: ReqrepOutput | HoldOutput,
  samples: RelaySamples,
  clientCpuPct: number | null,
): BenchResult {
  const reqrep = out.client === "nats-reqrep";
  const latency: LatencySummary = reqrep
    ? {
        count: out.requests,
        avgMs: out.avgMs,
        minMs: Number.NaN,
        p50Ms: out.p50Ms,
        p90Ms: out.p90Ms,
        p99Ms: out.p99Ms,
        p999Ms: out.p999Ms,
        p9999Ms: Number.NaN,
        maxMs: out.maxMs,
      }
    : NO_LATENCY;
  const rate = reqrep ? out.requestRate : Number.NaN;
  const count = reqrep ? out.requests : 0;
  return {
    params: {
      pubs: reqrep ? out.requesters : out.conns,
      subs: reqrep ? 1 : out.subscriptions,
      rate: 0,
      msgSize: reqrep ? out.msgSize : 0,
      duration: o.duration,
      warmup: o.warmup,
      threads: reqrep ? 2 : 1,
      sample: null,
      msgsPerWrite: 1,
      protocol: "nats",
      framing: "line",
      stalled: 0,
      idle: 0,
      slowReader: null,
      pausing: 0,
    },
    relay: `${relay} (native ${out.client})`,
    windowSec: reqrep ? out.windowSec : out.idleSec,
    sent: count,
    sentRate: rate,
    received: count,
    receivedRate: rate,
    expectedReceived: count,
    latencyMs: latency,
    correctedLatencyMs: null,
    lost: reqrep ? out.unanswered : out.conns - out.confirmed,
    duplicated: 0,
    reordered: 0,
    malformedLines: reqrep ? out.malformed : 0,
    foreignLines: 0,
    negativeLatencySamples: 0,
    disconnectedSubscribers: 0,
    unflushedBytes: 0,
    sampled: count,
    relayCpuPct: samples.cpuPct,
    relayRssMb: samples.rssBytes === null ? null : samples.rssBytes / 2 ** 20,
    relayRssBaselineMb:
      samples.rssBaselineBytes === null ? null : samples.rssBaselineBytes / 2 ** 20,
    clientCpuPct,
    sentTotal: count,
    receivedTotal: count,
    relayLog: null,
    extraSubscribers: [],
    acks: null,
  };
}
