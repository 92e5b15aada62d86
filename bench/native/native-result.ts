/**
 * The native saturation client's interface, as pure functions: the flags it
 * gets from the bench's options, its one JSON line, and how that becomes a
 * BenchResult so bench:compare reads it like any other run. Tested without
 * running anything.
 */
import type { BenchOptions } from "../lib/args.ts";
import type { LatencySummary } from "../lib/latency-histogram.ts";
import type { RelayLogSummary } from "../lib/relay-log.ts";
import type { BenchResult } from "../report/bench-result.ts";

/** What bench/native/sat_client.c prints (one line of JSON). */
export interface NativeOutput {
  client: "native";
  threads: number;
  protocol: "line" | "nats";
  pubs: number;
  subs: number;
  msgSize: number;
  msgsPerWrite: number;
  windowSec: number;
  sent: number;
  received: number;
  sentRate: number;
  receivedRate: number;
  expectedReceived: number;
  sentTotal: number;
  receivedTotal: number;
  expectedTotal: number;
  /** expectedTotal - receivedTotal after the drain, when positive: exact. */
  lost: number;
  duplicated: number;
  /** Single publisher only: seqs skipped between sampled lines. */
  sequenceGaps: number;
  reordered: number;
  malformed: number;
  sampled: number;
  disconnected: number;
  drainSec: number;
  runSec: number;
  complete: boolean;
  /** `--framing frame` (issue 12); absent from clients built before it. */
  framing?: "line" | "frame";
  /** Frame mode: SubmitAcks read in the window and in all, acks with a wrong code, ID or result, Submits never acked. */
  acks?: number;
  acksTotal?: number;
  badAcks?: number;
  unacked?: number;
}

/** Why the native client cannot run these options, or undefined when it can. */
export function unsupported(options: BenchOptions): string | undefined {
  if (options.rate !== 0) return "the native client only saturates (--rate 0)";
  if (
    options.stalled > 0 ||
    options.idle > 0 ||
    options.slowReader !== undefined ||
    options.pausing > 0
  ) {
    return "no --stalled / --idle / --slow-reader / --pausing in the native client";
  }
  if (options.msgSize < 40) return "the native client needs --msg-size >= 40";
  if (options.pubs + options.subs > 4096) return "the native client takes at most 4096 sockets";
  return undefined;
}

/** Whether bench/main.ts flags describe a run the native client does: --rate 0, nobody stalled or idle. */
export function nativeCanRun(benchArgs: readonly string[]): boolean {
  const rate = benchArgs.lastIndexOf("--rate"); // the last one wins, as in the bench's parser
  return (
    rate >= 0 &&
    benchArgs[rate + 1] === "0" &&
    !benchArgs.includes("--stalled") &&
    !benchArgs.includes("--idle") &&
    !benchArgs.includes("--slow-reader") &&
    !benchArgs.includes("--pausing")
  );
}

/** sat_client's flags for these options. */
export function nativeArgs(options: BenchOptions, threads: number): string[] {
  const args = [
    "--pub-host",
    options.pubHost,
    "--pub-port",
    String(options.pubPort),
    "--sub-host",
    options.subHost,
    "--sub-port",
    String(options.subPort),
    "--pub",
    String(options.pubs),
    "--sub",
    String(options.subs),
    "--msg-size",
    String(options.msgSize),
    "--duration",
    String(options.duration),
    "--warmup",
    String(options.warmup),
    "--drain",
    String(options.drain),
    "--threads",
    String(threads),
  ];
  if (options.msgsPerWrite !== undefined)
    args.push("--msgs-per-write", String(options.msgsPerWrite));
  if (options.protocol === "nats") args.push("--protocol", "nats");
  if (options.subjects > 0) args.push("--subjects", String(options.subjects));
  if (options.framing === "frame") {
    args.push(
      "--framing",
      "frame",
      "--ack-cmd",
      options.frameCodes === "article" ? "0x81" : "0x82",
    );
  }
  return args;
}

/** Parses sat_client's stdout: the last line that is a JSON object from the native client. */
export function parseNativeOutput(stdout: string): NativeOutput {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error("the native client printed no result");
  const out = JSON.parse(line) as NativeOutput;
  if (out.client !== "native" || typeof out.receivedRate !== "number") {
    throw new Error("not a native client result");
  }
  return out;
}

/** No latency is measured at saturation by the native client: every figure NaN. */
export const NO_LATENCY: LatencySummary = {
  count: 0,
  avgMs: Number.NaN,
  minMs: Number.NaN,
  p50Ms: Number.NaN,
  p90Ms: Number.NaN,
  p99Ms: Number.NaN,
  p999Ms: Number.NaN,
  p9999Ms: Number.NaN,
  maxMs: Number.NaN,
};

export interface RelaySamples {
  cpuPct: number | null;
  rssBytes: number | null;
  rssBaselineBytes: number | null;
}

export function nativeToBenchResult(
  options: BenchOptions,
  relay: string,
  out: NativeOutput,
  samples: RelaySamples,
  relayLog: RelayLogSummary | null = null,
  clientCpuPct: number | null = null,
): BenchResult {
  return {
    params: {
      pubs: out.pubs,
      subs: out.subs,
      rate: 0,
      msgSize: out.msgSize,
      duration: options.duration,
      warmup: options.warmup,
      threads: out.threads,
      sample: null,
      msgsPerWrite: out.msgsPerWrite,
      protocol: out.protocol,
      framing: out.framing ?? "line",
      stalled: 0,
      idle: 0,
      slowReader: null,
      pausing: 0,
    },
    relay: `${relay} (native client)`,
    windowSec: out.windowSec,
    sent: out.sent,
    sentRate: out.sentRate,
    received: out.received,
    receivedRate: out.receivedRate,
    expectedReceived: out.expectedReceived,
    latencyMs: NO_LATENCY,
    correctedLatencyMs: null,
    // The drain makes the totals exact; sampled gaps only add what a duplicate hid.
    lost: Math.max(out.lost, out.sequenceGaps),
    duplicated: out.duplicated,
    reordered: out.reordered,
    malformedLines: out.malformed,
    foreignLines: 0,
    negativeLatencySamples: 0,
    disconnectedSubscribers: out.disconnected,
    unflushedBytes: 0,
    sampled: out.sampled,
    relayCpuPct: samples.cpuPct,
    relayRssMb: samples.rssBytes === null ? null : samples.rssBytes / 2 ** 20,
    relayRssBaselineMb:
      samples.rssBaselineBytes === null ? null : samples.rssBaselineBytes / 2 ** 20,
    clientCpuPct,
    sentTotal: out.sentTotal,
    receivedTotal: out.receivedTotal,
    relayLog,
    extraSubscribers: [],
    acks:
      out.framing === "frame"
        ? {
            received: out.acksTotal ?? 0,
            inWindow: out.acks ?? 0,
            rate: (out.acks ?? 0) / out.windowSec,
            failed: 0,
            // The native client counts every wrong ack in one figure (code, ID or result).
            outOfOrder: out.badAcks ?? 0,
            unacked: out.unacked ?? 0,
            errors: 0,
            latencyMs: NO_LATENCY,
          }
        : null,
  };
}

/** Whether the cached binary must be (re)built: missing, or older than its source. */
export function needsBuild(sourceMtimeMs: number, binaryMtimeMs: number | undefined): boolean {
  return binaryMtimeMs === undefined || binaryMtimeMs < sourceMtimeMs;
}
