/**
 * One bench run: start the worker threads, connect every subscriber before any
 * publisher sends, hand all workers one timeline, then gather and merge what
 * they measured. The relay must already be listening.
 *
 *   subscribers connect -> publishers connect -> settle -> warmup -> window -> drain
 *
 * The settle pause lets the relay register the subscribers it has accepted
 * (a connect completes in the kernel before the relay's accept handler runs),
 * so seq 1 is not lost to a subscriber the relay does not know yet.
 */
import { Worker } from "node:worker_threads";
import type {
  PublisherReport,
  PublisherSetup,
  SubscriberSetup,
  SubscriberWorkerReport,
  Timeline,
  WorkerToMain,
} from "../workers/protocol.ts";
import type { AckReport } from "./ack-tracker.ts";
import type { BenchOptions } from "./args.ts";
import { epochMs } from "./clock.ts";
import { connectExtras, type ExtraKind, type ExtraSubscriber } from "./extra-subscribers.ts";
import { type Histogram, mergeLatency } from "./latency-histogram.ts";
import { cpuPercent, type ProcSample, readProcSample } from "./proc-stats.ts";
import { type SequenceCounts, sumCounts } from "./sequence-tracker.ts";
import { planThreads } from "./thread-plan.ts";

const SETTLE_MS = 250;
/** Workers get this long to connect before the run is abandoned. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface RunMeasurement {
  threads: number;
  /** The measured window, seconds: every counted message was stamped inside it. */
  windowSec: number;
  sent: number;
  received: number;
  sentTotal: number;
  receivedTotal: number;
  service: { histogram: Histogram; sumNs: number };
  corrected: { histogram: Histogram; sumNs: number } | null;
  sequence: SequenceCounts;
  malformed: number;
  foreign: number;
  negative: number;
  disconnected: number;
  unflushedBytes: number;
  /** Light mode: messages decoded for latency and sequence checks. */
  sampled: number;
  /** The relay process over the window (when its pid is known): CPU% of one core, RSS bytes. */
  relayCpuPct: number | null;
  relayRssBytes: number | null;
  /** The bench's own process (main thread and workers) over the window, CPU% of one core. */
  clientCpuPct: number | null;
  /** The relay's RSS before the bench connected anything. */
  relayRssBaselineBytes: number | null;
  /** Epoch ms at which publishers began sending (message 1 was due): relay log times count from here. */
  publishStartMs: number;
  /** The extra subscribers (idle, stalled, slow-reader, pausing), none counted in the results. */
  extras: ExtraRecord[];
  /** Frame mode: the publishers' SubmitAcks, all workers summed; null in line mode. */
  acks: AckMeasurement | null;
}

/** AckReport with the workers' histograms merged. */
export interface AckMeasurement extends Omit<AckReport, "latency"> {
  latency: { histogram: Histogram; sumNs: number };
}

/** Sums the publisher workers' ack reports (null when none has any: line mode). */
export function mergeAcks(reports: readonly (AckReport | null)[]): AckMeasurement | null {
  const present = reports.filter((r): r is AckReport => r !== null);
  if (present.length === 0) return null;
  const sum = (pick: (r: AckReport) => number) => present.reduce((n, r) => n + pick(r), 0);
  return {
    received: sum((r) => r.received),
    inWindow: sum((r) => r.inWindow),
    failed: sum((r) => r.failed),
    outOfOrder: sum((r) => r.outOfOrder),
    unacked: sum((r) => r.unacked),
    errors: sum((r) => r.errors),
    latency: mergeLatency(present.map((r) => r.latency)),
  };
}

/** One extra subscriber after the run. */
export interface ExtraRecord {
  kind: ExtraKind;
  /** Its local port: the port the relay logs for it. */
  port: number;
  /** Epoch ms at which the client saw it closed (not by the bench), if it did. */
  closedAtMs: number | undefined;
  /** Bytes it read. */
  bytes: number;
}

export interface LiveCounters {
  /** Messages sent and received so far, read by the progress line. */
  sent(): number;
  received(): number;
}

class WorkerHandle {
  readonly worker: Worker;
  private readonly waiting = new Map<string, (message: WorkerToMain) => void>();
  /** Messages that came before anyone waited for them (one per kind is all the protocol sends). */
  private readonly arrived = new Map<string, WorkerToMain>();
  private failure: ((err: Error) => void) | undefined;
  /** A failure reported while nobody was waiting; the next wait rejects with it at once. */
  private failed: Error | undefined;

  constructor(setup: PublisherSetup | SubscriberSetup) {
    this.worker = new Worker(new URL(`../workers/${setup.role}-worker.ts`, import.meta.url), {
      workerData: setup,
    });
    this.worker.on("message", (message: WorkerToMain) => {
      if (message.kind === "failed") this.fail(new Error(message.message));
      else {
        const waiter = this.waiting.get(message.kind);
        if (waiter === undefined) this.arrived.set(message.kind, message);
        else waiter(message);
      }
    });
    this.worker.on("error", (err: Error) => this.fail(err));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    this.failure?.(err);
  }

  /** Resolves with the next message of `kind`; rejects if the worker fails or `timeoutMs` passes. */
  next<K extends WorkerToMain["kind"]>(
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<WorkerToMain, { kind: K }>> {
    return new Promise((resolve, reject) => {
      if (this.failed !== undefined) return reject(this.failed);
      const early = this.arrived.get(kind);
      if (early !== undefined) {
        this.arrived.delete(kind);
        return resolve(early as Extract<WorkerToMain, { kind: K }>);
      }
      const timer = setTimeout(
        () => reject(new Error(`worker gave no "${kind}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.failure = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      this.waiting.set(kind, (message) => {
        clearTimeout(timer);
        resolve(message as Extract<WorkerToMain, { kind: K }>);
      });
    });
  }
}

export async function runBench(
  options: BenchOptions,
  threads: number,
  onLive: (live: LiveCounters) => void,
  relayPid?: number,
): Promise<RunMeasurement> {
  const sampleRelay = () =>
    relayPid === undefined ? undefined : readProcSample(relayPid, epochMs());
  const sampleClient = () => readProcSample(process.pid, epochMs());
  const baseline = sampleRelay();
  let windowStart: ProcSample | undefined;
  let windowEnd: ProcSample | undefined;
  let clientStart: ProcSample | undefined;
  let clientEnd: ProcSample | undefined;
  const extras: ExtraSubscriber[] = [];
  const plan = planThreads(options.pubs, options.subs, threads);
  const pubWorkers = plan.publisherIdsByWorker.length;
  const progress = new SharedArrayBuffer(8 * plan.threads);
  const counters = new Float64Array(progress);
  const sum = (from: number, to: number) => {
    let total = 0;
    for (let i = from; i < to; i++) total += counters[i] as number;
    return total;
  };

  const subscribers = plan.subscriberIdsByWorker.map(
    (subscriberIds, i) =>
      new WorkerHandle({
        role: "subscriber",
        endpoint: { host: options.subHost, port: options.subPort },
        subscriberIds,
        pubs: options.pubs,
        rate: options.rate,
        sample: options.sample,
        protocol: options.protocol,
        framing: options.framing,
        progress,
        progressSlot: pubWorkers + i,
      }),
  );
  const publishers = plan.publisherIdsByWorker.map(
    (publisherIds, i) =>
      new WorkerHandle({
        role: "publisher",
        endpoint: { host: options.pubHost, port: options.pubPort },
        publisherIds,
        rate: options.rate,
        msgSize: options.msgSize,
        msgsPerWrite: options.msgsPerWrite,
        protocol: options.protocol,
        framing: options.framing,
        frameCodes: options.frameCodes,
        progress,
        progressSlot: i,
      }),
  );
  const all = [...subscribers, ...publishers];
  try {
    await Promise.all(subscribers.map((w) => w.next("ready", CONNECT_TIMEOUT_MS)));
    const endpoint = { host: options.subHost, port: options.subPort, protocol: options.protocol };
    extras.push(...(await connectExtras(endpoint, options.idle, "idle")));
    extras.push(...(await connectExtras(endpoint, options.stalled, "stalled")));
    if (options.slowReader !== undefined) {
      extras.push(...(await connectExtras(endpoint, 1, "slow-reader", options.slowReader)));
    }
    extras.push(...(await connectExtras(endpoint, options.pausing, "pausing")));
    await Promise.all(publishers.map((w) => w.next("ready", CONNECT_TIMEOUT_MS)));
    await Bun.sleep(SETTLE_MS);

    const startMs = epochMs() + 20;
    const measureStartMs = startMs + options.warmup * 1000;
    const measureEndMs = measureStartMs + options.duration * 1000;
    const timeline: Timeline = {
      startMs,
      measureStartMs,
      measureEndMs,
      drainUntilMs: measureEndMs + options.drain * 1000,
    };
    for (const w of all) w.worker.postMessage({ kind: "start", timeline });
    const startTimer = setTimeout(() => {
      windowStart = sampleRelay();
      clientStart = sampleClient();
    }, measureStartMs - epochMs());
    onLive({ sent: () => sum(0, pubWorkers), received: () => sum(pubWorkers, plan.threads) });

    const runMs = measureEndMs - epochMs();
    const limitMs = runMs + options.drain * 1000 + 10_000;
    const published = await Promise.all(publishers.map((w) => w.next("published", limitMs)));
    // Publishers report at the window's end (or after it): the relay is sampled there too.
    const untilEnd = measureEndMs - epochMs();
    if (untilEnd > 0) await Bun.sleep(untilEnd);
    windowEnd = sampleRelay();
    clientEnd = sampleClient();
    const pubReports: PublisherReport[] = published.flatMap((m) => m.publishers);
    const lastSeqs: number[] = new Array(options.pubs).fill(0);
    for (const p of pubReports) lastSeqs[p.id] = p.lastSeq;

    const receiving = subscribers.map((w) => w.next("received", options.drain * 1000 + 10_000));
    for (const w of subscribers) w.worker.postMessage({ kind: "finish", lastSeqs });
    const subReports: SubscriberWorkerReport[] = (await Promise.all(receiving)).map(
      (m) => m.report,
    );
    clearTimeout(startTimer);

    return {
      threads: plan.threads,
      windowSec: (measureEndMs - measureStartMs) / 1000,
      sent: pubReports.reduce((n, p) => n + p.sentInWindow, 0),
      sentTotal: pubReports.reduce((n, p) => n + p.sentTotal, 0),
      unflushedBytes: pubReports.reduce((n, p) => n + p.unflushedBytes, 0),
      received: subReports.reduce((n, r) => n + r.receivedInWindow, 0),
      receivedTotal: subReports.reduce((n, r) => n + r.receivedTotal, 0),
      service: mergeLatency(subReports.map((r) => r.service)),
      corrected:
        options.rate > 0
          ? mergeLatency(subReports.flatMap((r) => (r.corrected === null ? [] : [r.corrected])))
          : null,
      sequence: sumCounts(subReports.flatMap((r) => r.sequences)),
      malformed: subReports.reduce((n, r) => n + r.malformed, 0),
      foreign: subReports.reduce((n, r) => n + r.foreign, 0),
      negative: subReports.reduce((n, r) => n + r.negative, 0),
      disconnected: subReports.reduce((n, r) => n + r.disconnected, 0),
      sampled: subReports.reduce((n, r) => n + r.sampled, 0),
      relayCpuPct:
        windowStart !== undefined && windowEnd !== undefined
          ? cpuPercent(windowStart, windowEnd)
          : null,
      relayRssBytes: windowEnd?.rssBytes ?? null,
      clientCpuPct:
        clientStart !== undefined && clientEnd !== undefined
          ? cpuPercent(clientStart, clientEnd)
          : null,
      relayRssBaselineBytes: baseline?.rssBytes ?? null,
      publishStartMs: startMs,
      extras: extras.map((e) => ({
        kind: e.kind,
        port: e.port,
        closedAtMs: e.closedAtMs,
        bytes: e.bytes,
      })),
      acks: mergeAcks(published.map((m) => m.acks)),
    };
  } finally {
    for (const extra of extras) extra.end();
    await Promise.all(all.map((w) => w.worker.terminate()));
  }
}
