/**
 * Messages between the main thread and the client's worker threads. Workers
 * get their setup in `workerData`, connect, say `ready`, and then follow the
 * run's clock: everything time-related is an epoch-ms instant decided once by
 * the main thread, so no message has to arrive "on time".
 */
import type { AckReport } from "../lib/ack-tracker.ts";
import type { EncodedLatency } from "../lib/latency-histogram.ts";
import type { SequenceCounts } from "../lib/sequence-tracker.ts";

export interface Endpoint {
  host: string;
  port: number;
}

export interface PublisherSetup {
  role: "publisher";
  endpoint: Endpoint;
  publisherIds: number[];
  /** Messages per second per publisher; 0 = saturation. */
  rate: number;
  msgSize: number;
  /** Saturation: messages per write; undefined = about 64 KiB of them. */
  msgsPerWrite: number | undefined;
  protocol: "line" | "nats";
  /** `frame`: Submit frames out, SubmitAcks (with `frameCodes`) in, checked and timed. */
  framing: "line" | "frame";
  frameCodes: "spec" | "article";
  /** Live counters for the progress line: one Float64 per worker (messages sent so far). */
  progress: SharedArrayBuffer;
  progressSlot: number;
}

export interface SubscriberSetup {
  role: "subscriber";
  endpoint: Endpoint;
  subscriberIds: number[];
  pubs: number;
  rate: number;
  /** Light mode: count only, decode one message in `sample`; undefined = decode every message. */
  sample: number | undefined;
  protocol: "line" | "nats";
  /** `frame`: the relay sends Submit frames; their payload is the line message. */
  framing: "line" | "frame";
  progress: SharedArrayBuffer;
  progressSlot: number;
}

/** The run's timeline in epoch ms, sent to every worker once all are connected. */
export interface Timeline {
  /** Message 1 of every publisher is due here. */
  startMs: number;
  /** Messages stamped in [measureStartMs, measureEndMs) are counted and measured. */
  measureStartMs: number;
  measureEndMs: number;
  /** Give up flushing / waiting for in-flight messages at this instant. */
  drainUntilMs: number;
}

export type MainToWorker =
  | { kind: "start"; timeline: Timeline }
  /** To subscribers: the last seq each publisher sent, indexed by publisher id. */
  | { kind: "finish"; lastSeqs: number[] };

export interface PublisherReport {
  id: number;
  lastSeq: number;
  sentInWindow: number;
  sentTotal: number;
  /** Bytes still unsent when the drain deadline passed (relay not reading). */
  unflushedBytes: number;
}

export interface SubscriberWorkerReport {
  receivedTotal: number;
  receivedInWindow: number;
  service: EncodedLatency;
  corrected: EncodedLatency | null;
  /** One entry per (subscriber, publisher) pair. */
  sequences: SequenceCounts[];
  /** Lines that did not start with `pubId,seq,timestampNs,`. */
  malformed: number;
  /** Lines from publisher ids this run did not start (another client on the relay). */
  foreign: number;
  /** Samples whose receive time preceded the send stamp (clock trouble); recorded as 0. */
  negative: number;
  /** Subscribers whose connection closed before the end. */
  disconnected: number;
  /** Light mode: messages decoded for latency and sequence checks (0 in full mode). */
  sampled: number;
}

export type WorkerToMain =
  | { kind: "ready" }
  | { kind: "failed"; message: string }
  /** `acks`: frame mode only, summed over the worker's publishers. */
  | { kind: "published"; publishers: PublisherReport[]; acks: AckReport | null }
  | { kind: "received"; report: SubscriberWorkerReport };
