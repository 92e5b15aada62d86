/**
 * Everything one run measured, as plain numbers: what `--json` prints and
 * what the text report and bench:compare read.
 */
import type { BenchOptions } from "../lib/args.ts";
import { type LatencySummary, summarize } from "../lib/latency-histogram.ts";
import { type RelayLogRecord, type RelayLogSummary, summarizeRelayLog } from "../lib/relay-log.ts";
import type { AckMeasurement, RunMeasurement } from "../lib/run-bench.ts";

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
    /** The relay's wire format (issue 12); absent in results written before it. */
    framing?: "line" | "frame";
    stalled: number;
    idle: number;
    /** --slow-reader: bytes/s of the one slow extra subscriber; null = none. */
    slowReader: number | null;
    /** --pausing: extra subscribers that stop reading 100 ms every second. */
    pausing: number;
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
  /**
   * The bench client's own process over the same window, CPU% of one core (200 = two cores):
   * whether the client or the server was the limit. Absent in results written before it.
   */
  clientCpuPct?: number | null;
  /** Counts including warmup and drain, for reference. */
  sentTotal: number;
  receivedTotal: number;
  /**
   * What our relay logged about the run (cuts, stall timeouts, BYE totals), times in seconds
   * after publishing started; null when the relay is not ours or the bench did not start it.
   */
  relayLog: RelayLogSummary | null;
  /** The stalled, slow-reader and pausing extra subscribers (idle ones are not listed). */
  extraSubscribers: ExtraSubscriberResult[];
  /** Frame mode: the publishers' SubmitAcks; null (or absent, older results) in line mode. */
  acks?: AckResult | null;
}

/** What the publishers' SubmitAcks came to (`--framing frame`, and the frame-load client). */
export interface AckResult {
  /** Acks received over the whole run. */
  received: number;
  /** Acks of Submits inside the measured window. */
  inWindow: number;
  /** inWindow / windowSec. */
  rate: number;
  /** Result not 0. */
  failed: number;
  /** ID not the next Submit's. */
  outOfOrder: number;
  /** Submits never acked (after the drain). */
  unacked: number;
  /** Frame errors in the ack stream, or frames that are not acks. */
  errors: number;
  /** Submit (send stamp) to ack (read), over the window's acks. */
  latencyMs: LatencySummary;
}

export interface ExtraSubscriberResult {
  kind: string;
  port: number;
  /** Seconds after publishing start at which the client saw it closed; null = not seen. */
  closedAtSec: number | null;
  bytes: number;
}

/**
 * The summary of the relay's log for a measured run (null without a log, or when the log is
 * not our relay's), with the extra subscribers named by their ports.
 */
export function relayLogOf(
  records: readonly RelayLogRecord[] | undefined,
  m: Pick<RunMeasurement, "publishStartMs" | "extras">,
): RelayLogSummary | null {
  if (records === undefined) return null;
  return summarizeRelayLog(
    records,
    m.publishStartMs,
    new Map(m.extras.map((e) => [e.port, e.kind])),
  );
}

export function toBenchResult(
  options: BenchOptions,
  relay: string,
  m: RunMeasurement,
  relayLog: RelayLogSummary | null = null,
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
      framing: options.framing,
      stalled: options.stalled,
      idle: options.idle,
      slowReader: options.slowReader ?? null,
      pausing: options.pausing,
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
    clientCpuPct: m.clientCpuPct,
    sentTotal: m.sentTotal,
    receivedTotal: m.receivedTotal,
    relayLog,
    extraSubscribers: m.extras
      .filter((e) => e.kind !== "idle")
      .map((e) => ({
        kind: e.kind,
        port: e.port,
        closedAtSec:
          e.closedAtMs === undefined ? null : Math.round(e.closedAtMs - m.publishStartMs) / 1000,
        bytes: e.bytes,
      })),
    acks: m.acks === null ? null : ackResult(m.acks, m.windowSec),
  };
}

export function ackResult(a: AckMeasurement, windowSec: number): AckResult {
  return {
    received: a.received,
    inWindow: a.inWindow,
    rate: a.inWindow / windowSec,
    failed: a.failed,
    outOfOrder: a.outOfOrder,
    unacked: a.unacked,
    errors: a.errors,
    latencyMs: summarize(a.latency.histogram, a.latency.sumNs),
  };
}

/** Whether every Submit got its ack, in order, with result 0 (true in line mode). */
export function ackedEverything(r: BenchResult): boolean {
  const a = r.acks;
  return a == null || a.failed + a.outOfOrder + a.unacked + a.errors === 0;
}

/** Whether the run delivered everything once (what decides the exit code). */
export function deliveredEverything(r: BenchResult): boolean {
  return (
    r.lost === 0 &&
    r.duplicated === 0 &&
    r.malformedLines === 0 &&
    r.disconnectedSubscribers === 0 &&
    ackedEverything(r)
  );
}
