/**
 * Everything one run measured, as plain numbers: what `--json` prints and
 * what the text report and bench:compare read.
 */
import type { BenchOptions } from "../lib/args.ts";
import { type LatencySummary, summarize } from "../lib/latency-histogram.ts";
import type { RunMeasurement } from "../lib/run-bench.ts";

export interface BenchResult {
  params: {
    pubs: number;
    subs: number;
    rate: number;
    msgSize: number;
    duration: number;
    warmup: number;
    threads: number;
    /** Light subscribers: one message in `sample` decoded; null = every message. */
    sample: number | null;
    msgsPerWrite: number | null;
    protocol: "line" | "nats";
    stalled: number;
    idle: number;
  };
  relay: string;
  /** Seconds; the rates divide by this. */
  windowSec: number;
  /** Messages stamped inside the window: sent by publishers, received by all subscribers. */
  sent: number;
  sentRate: number;
  received: number;
  receivedRate: number;
  /** sent × subs: what a lossless relay delivers. */
  expectedReceived: number;
  /** Send stamp to receive time (what the article reports). */
  latencyMs: LatencySummary;
  /** Scheduled send time to receive time (wrk2's coordinated-omission correction); null at rate 0. */
  correctedLatencyMs: LatencySummary | null;
  lost: number;
  duplicated: number;
  reordered: number;
  malformedLines: number;
  foreignLines: number;
  negativeLatencySamples: number;
  disconnectedSubscribers: number;
  unflushedBytes: number;
  /** Light mode: how many messages were decoded (latency and sequence checks). */
  sampled: number;
  /** The relay process (when the bench started it): CPU% of one core over the window, RSS at its end. */
  relayCpuPct: number | null;
  relayRssMb: number | null;
  relayRssBaselineMb: number | null;
  /** Counts including warmup and drain, for reference. */
  sentTotal: number;
  receivedTotal: number;
}

export function toBenchResult(
  options: BenchOptions,
  relay: string,
  m: RunMeasurement,
): BenchResult {
  return {
    params: {
      pubs: options.pubs,
      subs: options.subs,
      rate: options.rate,
      msgSize: options.msgSize,
      duration: options.duration,
      warmup: options.warmup,
      threads: m.threads,
      sample: options.sample ?? null,
      msgsPerWrite: options.msgsPerWrite ?? null,
      protocol: options.protocol,
      stalled: options.stalled,
      idle: options.idle,
    },
    relay,
    windowSec: m.windowSec,
    sent: m.sent,
    sentRate: m.sent / m.windowSec,
    received: m.received,
    receivedRate: m.received / m.windowSec,
    expectedReceived: m.sent * options.subs,
    latencyMs: summarize(m.service.histogram, m.service.sumNs),
    correctedLatencyMs:
      m.corrected === null ? null : summarize(m.corrected.histogram, m.corrected.sumNs),
    lost: m.sequence.lost,
    duplicated: m.sequence.duplicated,
    reordered: m.sequence.reordered,
    malformedLines: m.malformed,
    foreignLines: m.foreign,
    negativeLatencySamples: m.negative,
    disconnectedSubscribers: m.disconnected,
    unflushedBytes: m.unflushedBytes,
    sampled: m.sampled,
    relayCpuPct: m.relayCpuPct,
    relayRssMb: m.relayRssBytes === null ? null : m.relayRssBytes / 2 ** 20,
    relayRssBaselineMb: m.relayRssBaselineBytes === null ? null : m.relayRssBaselineBytes / 2 ** 20,
    sentTotal: m.sentTotal,
    receivedTotal: m.receivedTotal,
  };
}

/** Whether the run delivered everything once (what decides the exit code). */
export function deliveredEverything(r: BenchResult): boolean {
  return (
    r.lost === 0 && r.duplicated === 0 && r.malformedLines === 0 && r.disconnectedSubscribers === 0
  );
}
