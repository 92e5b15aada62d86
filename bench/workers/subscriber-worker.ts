/**
 * Subscriber thread: hosts one or more subscriber connections, splits what
 * they receive into lines, and for each line reads only the three leading
 * fields (publisher id, seq, send stamp). Every line feeds the sequence check;
 * lines stamped inside the measured window also feed the latency histograms.
 *
 * The receive time is read once per chunk, not per line: all lines of a chunk
 * arrived together, and the later ones only waited for our own parsing.
 *
 * Light mode (`--sample N`, and always with `--protocol nats`) does no work
 * per message beyond finding its end: it counts messages (newlines, or NATS
 * MSG frames), decodes one in N for latency and sequence checks
 * (SampledSequenceCheck), and counts the messages received inside the
 * measured window by arrival time. Saturation then measures the relay, not
 * this thread.
 *
 * Frame mode (`--framing frame`, issue 12): the relay sends Submit frames, cut by
 * the relay's own decoder (SubmitReader); each payload is a line message, read
 * as above, and its frame's ID must be its seq (%08d) or the message counts as
 * malformed. Light mode counts frames instead of newlines.
 */
import { parentPort, workerData } from "node:worker_threads";
import { epochMs, NS_PER_MS } from "../lib/clock.ts";
import { idIsSeq, SubmitReader } from "../lib/frame-messages.ts";
import { createHistogram, encodeLatency } from "../lib/latency-histogram.ts";
import { LineCounter, SampledSequenceCheck } from "../lib/light-count.ts";
import { decoded, decodeLine, NEWLINE } from "../lib/message.ts";
import { NATS_CONNECT, NATS_PONG, NATS_SUB, NatsFrameReader } from "../lib/nats.ts";
import { RateSchedule } from "../lib/rate-schedule.ts";
import { SequenceTracker } from "../lib/sequence-tracker.ts";
import type { MainToWorker, SubscriberSetup, Timeline, WorkerToMain } from "./protocol.ts";

const setup = workerData as SubscriberSetup;
const port = parentPort;
if (port === null) throw new Error("subscriber-worker must run as a worker thread");
const progress = new Float64Array(setup.progress);
const frames = setup.framing === "frame";

function send(message: WorkerToMain): void {
  port?.postMessage(message);
}

const service = createHistogram();
let serviceSumNs = 0;
const corrected = createHistogram();
let correctedSumNs = 0;
let receivedTotal = 0;
let receivedInWindow = 0;
let malformed = 0;
let foreign = 0;
let negative = 0;
let disconnected = 0;
let sampled = 0;

// Until `start` arrives nothing is measured: the window is empty.
let measureStartMs = Number.POSITIVE_INFINITY;
let measureEndMs = Number.NEGATIVE_INFINITY;
let schedule: RateSchedule | undefined;
let firstMeasuredSeq = Number.POSITIVE_INFINITY;
let lastMeasuredSeq = Number.NEGATIVE_INFINITY;

class Subscriber {
  /** The start of a line whose newline has not arrived yet. */
  carry: Uint8Array | undefined;
  closed = false;
  readonly trackers: SequenceTracker[];
  /** Frame mode: the Submit frames' reader (every message handed over). */
  private readonly submits: SubmitReader | undefined;
  private nowMs = 0;

  constructor(pubs: number) {
    this.trackers = Array.from({ length: pubs }, () => new SequenceTracker());
    if (frames) {
      this.submits = new SubmitReader(1, (bytes, start, end, idStart) =>
        this.onLine(bytes, start, end, this.nowMs, idStart),
      );
    }
  }

  /** A connection that ends before the run does is counted once, whichever handler sees it first. */
  markClosed(): void {
    if (!this.closed) disconnected++;
    this.closed = true;
  }

  complete(lastSeqs: number[]): boolean {
    return this.closed || this.trackers.every((t, pubId) => t.hasAllUpTo(lastSeqs[pubId] ?? 0));
  }

  counts(lastSeqs: number[]) {
    return this.trackers.map((t, pubId) => t.counts(lastSeqs[pubId] ?? 0));
  }

  onData(chunk: Uint8Array): void {
    const nowMs = epochMs();
    if (this.submits !== undefined) {
      this.nowMs = nowMs;
      const errors = this.submits.errors;
      this.submits.push(chunk);
      malformed += this.submits.errors - errors;
      return;
    }
    let pos = 0;
    if (this.carry !== undefined) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.carry = concat(this.carry, chunk);
        return;
      }
      const line = concat(this.carry, chunk.subarray(0, newline));
      this.carry = undefined;
      this.onLine(line, 0, line.length, nowMs);
      pos = newline + 1;
    }
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, pos);
      if (newline < 0) break;
      this.onLine(chunk, pos, newline, nowMs);
      pos = newline + 1;
    }
    // Bun hands each chunk over in its own buffer, so a view of the tail is safe to keep.
    if (pos < chunk.length) this.carry = chunk.subarray(pos);
  }

  private onLine(bytes: Uint8Array, start: number, end: number, nowMs: number, idStart = -1): void {
    if (!decodeLine(bytes, start, end) || (idStart >= 0 && !idIsSeq(bytes, idStart, decoded.seq))) {
      malformed++;
      return;
    }
    const tracker = this.trackers[decoded.pubId];
    if (tracker === undefined) {
      foreign++;
      return;
    }
    tracker.observe(decoded.seq);
    receivedTotal++;
    const stampMs = decoded.stampMs;
    if (schedule !== undefined) {
      // Rate mode: the window holds the seqs scheduled inside it (see RateSchedule.seqsWithin).
      if (decoded.seq < firstMeasuredSeq || decoded.seq > lastMeasuredSeq) return;
    } else if (stampMs < measureStartMs || stampMs >= measureEndMs) {
      return;
    }
    receivedInWindow++;
    recordLatency(decoded.seq, stampMs, nowMs);
  }
}

/** Records the latency of one decoded message stamped inside the window (both modes). */
function recordLatency(seq: number, stampMs: number, nowMs: number): void {
  let latencyNs = Math.round((nowMs - stampMs) * NS_PER_MS);
  if (latencyNs < 0) {
    negative++;
    latencyNs = 0;
  }
  service.recordValue(latencyNs);
  serviceSumNs += latencyNs;
  if (schedule !== undefined) {
    const fromScheduleNs = Math.max(0, Math.round((nowMs - schedule.scheduledMs(seq)) * NS_PER_MS));
    // Latency from when the message was due, not from when it got sent (wrk2).
    corrected.recordValue(fromScheduleNs);
    correctedSumNs += fromScheduleNs;
  }
}

/**
 * Light mode: counts messages, decodes one in `setup.sample`. Received in the
 * window = messages whose end arrived inside it.
 */
class LightSubscriber {
  closed = false;
  socket: { write(bytes: Uint8Array, offset: number, length: number): number } | undefined;
  private readonly check = new SampledSequenceCheck(setup.pubs);
  private readonly reader: LineCounter | NatsFrameReader | SubmitReader;
  private nowMs = 0;

  constructor(every: number) {
    const onSample = (bytes: Uint8Array, start: number, end: number) =>
      this.onSample(bytes, start, end);
    if (setup.protocol === "nats") {
      this.reader = new NatsFrameReader(every, onSample, () =>
        this.socket?.write(NATS_PONG, 0, NATS_PONG.length),
      );
    } else if (frames) {
      this.reader = new SubmitReader(every, (bytes, start, end, idStart) =>
        this.onSample(bytes, start, end, idStart),
      );
    } else {
      this.reader = new LineCounter(every, onSample);
    }
  }

  markClosed(): void {
    if (!this.closed) disconnected++;
    this.closed = true;
  }

  complete(lastSeqs: number[]): boolean {
    return this.closed || SampledSequenceCheck.complete(this.reader.count, lastSeqs);
  }

  counts(lastSeqs: number[]) {
    return [this.check.counts(this.reader.count, lastSeqs)];
  }

  onData(chunk: Uint8Array): void {
    const nowMs = epochMs();
    this.nowMs = nowMs;
    const reader = this.reader;
    const errors = reader instanceof SubmitReader ? reader.errors : 0;
    const completed = reader.push(chunk);
    if (reader instanceof SubmitReader) malformed += reader.errors - errors;
    receivedTotal += completed;
    if (nowMs >= measureStartMs && nowMs < measureEndMs) receivedInWindow += completed;
  }

  private onSample(bytes: Uint8Array, start: number, end: number, idStart = -1): void {
    if (!decodeLine(bytes, start, end) || (idStart >= 0 && !idIsSeq(bytes, idStart, decoded.seq))) {
      malformed++;
      return;
    }
    if (decoded.pubId >= setup.pubs) {
      foreign++;
      return;
    }
    sampled++;
    // The reader has already counted this message.
    this.check.observe(decoded.pubId, decoded.seq, this.reader.count);
    const stampMs = decoded.stampMs;
    if (schedule !== undefined) {
      if (decoded.seq < firstMeasuredSeq || decoded.seq > lastMeasuredSeq) return;
    } else if (stampMs < measureStartMs || stampMs >= measureEndMs) {
      return;
    }
    recordLatency(decoded.seq, stampMs, this.nowMs);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const sampleEvery = setup.sample;
const subscribers: (Subscriber | LightSubscriber)[] = setup.subscriberIds.map(() =>
  sampleEvery === undefined ? new Subscriber(setup.pubs) : new LightSubscriber(sampleEvery),
);
let timeline: Timeline | undefined;

const progressTimer = setInterval(() => {
  progress[setup.progressSlot] = receivedTotal;
}, 200);

/** Waits until every subscriber has every message up to `lastSeqs`, or the drain deadline. */
function awaitDelivery(lastSeqs: number[]): void {
  const complete = subscribers.every((s) => s.complete(lastSeqs));
  if (!complete && epochMs() < (timeline?.drainUntilMs ?? 0)) {
    setTimeout(() => awaitDelivery(lastSeqs), 5);
    return;
  }
  clearInterval(progressTimer);
  progress[setup.progressSlot] = receivedTotal;
  send({
    kind: "received",
    report: {
      receivedTotal,
      receivedInWindow,
      service: encodeLatency(service, serviceSumNs),
      corrected: schedule === undefined ? null : encodeLatency(corrected, correctedSumNs),
      sequences: subscribers.flatMap((s) => s.counts(lastSeqs)),
      malformed,
      foreign,
      negative,
      disconnected,
      sampled,
    },
  });
}

port.on("message", (message: MainToWorker) => {
  if (message.kind === "start") {
    timeline = message.timeline;
    measureStartMs = timeline.measureStartMs;
    measureEndMs = timeline.measureEndMs;
    schedule = setup.rate > 0 ? new RateSchedule(timeline.startMs, setup.rate) : undefined;
    if (schedule !== undefined) {
      const seqs = schedule.seqsWithin(measureStartMs, measureEndMs);
      firstMeasuredSeq = seqs.first;
      lastMeasuredSeq = seqs.last;
    }
  } else if (message.kind === "finish") {
    awaitDelivery(message.lastSeqs);
  }
});

Promise.all(
  subscribers.map((sub) =>
    Bun.connect({
      hostname: setup.endpoint.host,
      port: setup.endpoint.port,
      socket: {
        open(socket) {
          if (setup.protocol !== "nats" || !(sub instanceof LightSubscriber)) return;
          sub.socket = socket;
          socket.write(NATS_CONNECT, 0, NATS_CONNECT.length);
          socket.write(NATS_SUB, 0, NATS_SUB.length);
        },
        data(_socket, chunk) {
          sub.onData(chunk);
        },
        close() {
          sub.markClosed();
        },
        error() {
          sub.markClosed();
        },
      },
    }),
  ),
).then(
  () => send({ kind: "ready" }),
  (err: Error) =>
    send({
      kind: "failed",
      message: `subscriber cannot connect to ${setup.endpoint.host}:${setup.endpoint.port}: ${err.message}`,
    }),
);
