/**
 * Publisher thread: hosts one or more publisher connections and feeds them on
 * the run's timeline.
 *
 * Rate mode is open-loop: each wake-up sends, per publisher and in one write,
 * every message the RateSchedule says is due. Between wake-ups the thread
 * sleeps in `Atomics.wait` (sub-millisecond, unlike timers which round to
 * ~1 ms), and it returns to the event loop every SLICE_MS so drain events are
 * handled. Saturation mode (rate 0) writes batches as long as the kernel takes
 * them whole and waits for `drain` otherwise, so the relay's TCP backpressure
 * sets the pace.
 *
 * Frame mode (`--framing frame`, issue 12) sends each message as a Submit frame
 * (frame-messages.ts) and reads the relay's SubmitAcks: each is checked (ID order,
 * result 0) and timed from its Submit's send stamp (AckTracker). Sending stays
 * open-loop: acks are not awaited, except that the report waits (up to the drain
 * deadline) until every Submit is acked.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Socket } from "bun";
import {
  FrameDecoder,
  type FrameError,
  FrameIdCounter,
  type FrameSink,
} from "../../src/protocol/frame-codec.ts";
import { AckTracker } from "../lib/ack-tracker.ts";
import { epochMs } from "../lib/clock.ts";
import { encodeSubmitMessage, SUBMIT_OVERHEAD } from "../lib/frame-messages.ts";
import { encodeMessage, prefixLength } from "../lib/message.ts";
import { encodePubFrame, NATS_CONNECT, pubFrameLength, pubHeader } from "../lib/nats.ts";
import { RateSchedule } from "../lib/rate-schedule.ts";
import type {
  MainToWorker,
  PublisherReport,
  PublisherSetup,
  Timeline,
  WorkerToMain,
} from "./protocol.ts";

/** How long one event-loop turn may keep sending before yielding to I/O. */
const SLICE_MS = 2;
/** Default messages per write at saturation (--msgs-per-write): about 64 KiB of them. */
const SATURATION_BATCH_BYTES = 64 * 1024;
/**
 * Frame mode, rate mode: the longest the thread sleeps in `Atomics.wait` before returning to
 * the event loop, where acks are read and stamped. Acks that arrive while it sleeps are read
 * late by up to this much, so it bounds the error of the submit-to-ack latency (a longer
 * sleep, the line mode's whole slice, put ~1 ms of the client's own sleep into every ack).
 */
const ACK_POLL_MS = 0.05;
/** Stop building messages for a connection whose unsent bytes exceed this (rate mode). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

const setup = workerData as PublisherSetup;
const port = parentPort;
if (port === null) throw new Error("publisher-worker must run as a worker thread");
const progress = new Float64Array(setup.progress);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** NATS: every message goes out as `PUB bench N\r\n<message>\r\n`. */
const natsHeader = setup.protocol === "nats" ? pubHeader(setup.msgSize) : undefined;
const frames = setup.framing === "frame";
/** Messages per write at saturation. */
const saturationBatch =
  setup.msgsPerWrite ?? Math.max(1, Math.floor(SATURATION_BATCH_BYTES / setup.msgSize));

function send(message: WorkerToMain): void {
  port?.postMessage(message);
}

class Publisher {
  socket: Socket<undefined> | undefined;
  /** Last seq built (sent or queued). */
  seq = 0;
  sentInWindow = 0;
  sentTotal = 0;
  /** Bytes the kernel did not take yet, oldest first; each entry is our own copy. */
  readonly pending: Uint8Array[] = [];
  pendingBytes = 0;
  closed = false;
  private scratch = new Uint8Array(0);
  private readonly maxMessageBytes: number;
  /** Frame mode: the next Submit's ID, and the acks coming back. */
  private readonly ids: FrameIdCounter | undefined;
  readonly acks: AckTracker | undefined;
  readonly ackReader: AckReader | undefined;

  constructor(
    readonly id: number,
    readonly msgSize: number,
  ) {
    // Room for the longest prefix any seq this run can reach, plus the newline.
    const line = Math.max(msgSize, prefixLength(id, 1e15, Date.now()) + 1);
    this.maxMessageBytes =
      natsHeader !== undefined
        ? pubFrameLength(natsHeader, msgSize)
        : frames
          ? line + SUBMIT_OVERHEAD
          : line;
    if (frames) {
      this.ids = new FrameIdCounter(1);
      this.acks = new AckTracker(isMeasured);
      this.ackReader = new AckReader(this.acks);
    }
  }

  /** Builds seqs (this.seq, upTo] stamped `stampMs` and writes them as one buffer. */
  sendThrough(upTo: number, stampMs: number, timeline: Timeline): void {
    const count = upTo - this.seq;
    if (count <= 0) return;
    const needed = count * this.maxMessageBytes;
    if (this.scratch.length < needed) this.scratch = new Uint8Array(needed);
    let end = 0;
    if (this.ids !== undefined) {
      for (let seq = this.seq + 1; seq <= upTo; seq++) {
        end = encodeSubmitMessage(this.scratch, end, this.ids, this.id, seq, stampMs, this.msgSize);
      }
      this.acks?.sent(upTo, stampMs);
    } else if (natsHeader === undefined) {
      for (let seq = this.seq + 1; seq <= upTo; seq++) {
        end = encodeMessage(this.scratch, end, this.id, seq, stampMs, this.msgSize);
      }
    } else {
      for (let seq = this.seq + 1; seq <= upTo; seq++) {
        end = encodePubFrame(this.scratch, end, natsHeader, this.id, seq, stampMs, this.msgSize);
      }
    }
    this.sentTotal += count;
    if (measuredSeqs !== undefined) {
      // Rate mode: the window holds the seqs scheduled inside it.
      const overlap =
        Math.min(upTo, measuredSeqs.last) - Math.max(this.seq + 1, measuredSeqs.first) + 1;
      if (overlap > 0) this.sentInWindow += overlap;
    } else if (stampMs >= timeline.measureStartMs && stampMs < timeline.measureEndMs) {
      this.sentInWindow += count;
    }
    this.seq = upTo;
    this.offer(this.scratch, end);
  }

  /** Writes bytes [0, length) of a reusable buffer, keeping a copy of what the kernel refused. */
  private offer(bytes: Uint8Array, length: number): void {
    if (this.closed) return;
    if (this.pending.length > 0) {
      this.pending.push(bytes.slice(0, length));
      this.pendingBytes += length;
      return;
    }
    const written = this.socket?.write(bytes, 0, length) ?? -1;
    if (written < 0) {
      this.closed = true;
      return;
    }
    if (written < length) {
      this.pending.push(bytes.slice(written, length));
      this.pendingBytes += length - written;
    }
  }

  /** Called from `drain`: resends queued bytes; true once nothing is left. */
  flush(): boolean {
    while (this.pending.length > 0 && !this.closed) {
      const head = this.pending[0] as Uint8Array;
      const written = this.socket?.write(head, 0, head.length) ?? -1;
      if (written < 0) {
        this.closed = true;
        break;
      }
      this.pendingBytes -= written;
      if (written < head.length) {
        this.pending[0] = head.subarray(written);
        return false;
      }
      this.pending.shift();
    }
    return this.pending.length === 0;
  }

  canBuild(): boolean {
    return !this.closed && this.pendingBytes < MAX_PENDING_BYTES;
  }

  report(): PublisherReport {
    return {
      id: this.id,
      lastSeq: this.seq,
      sentInWindow: this.sentInWindow,
      sentTotal: this.sentTotal,
      unflushedBytes: this.closed ? 0 : this.pendingBytes,
    };
  }
}

/**
 * Reads one publisher's SubmitAcks with the relay's decoder (acks accepted, with the relay's
 * codes) into its AckTracker; anything else the relay sends counts as an error.
 */
class AckReader implements FrameSink {
  private readonly decoder = new FrameDecoder({
    codes: setup.frameCodes,
    maxFrame: 1 << 20,
    acceptAcks: true,
  });
  private nowMs = 0;

  constructor(private readonly tracker: AckTracker) {}

  push(chunk: Uint8Array): void {
    this.nowMs = epochMs();
    this.decoder.push(chunk, this);
  }

  submitAck(bytes: Uint8Array, idStart: number, result: number): void {
    this.tracker.ack(bytes, idStart, result, this.nowMs);
  }
  submit(): void {
    this.tracker.errors++;
  }
  conn(): void {
    this.tracker.errors++;
  }
  connAck(): void {
    this.tracker.errors++;
  }
  error(_error: FrameError): void {
    this.tracker.errors++;
  }
}

/** Whether a Submit counts in the window: as sentInWindow counts it (rate mode: by seq). */
function isMeasured(seq: number, stampMs: number): boolean {
  if (measuredSeqs !== undefined) return seq >= measuredSeqs.first && seq <= measuredSeqs.last;
  const line = timeline;
  return line !== undefined && stampMs >= line.measureStartMs && stampMs < line.measureEndMs;
}

const publishers = setup.publisherIds.map((id) => new Publisher(id, setup.msgSize));
let timeline: Timeline | undefined;
let schedule: RateSchedule | undefined;
/** Rate mode: the seqs the measured window holds. */
let measuredSeqs: { first: number; last: number } | undefined;
let pumpQueued = false;
let publishing = false;

function publishProgress(): void {
  let total = 0;
  for (const p of publishers) total += p.sentTotal;
  progress[setup.progressSlot] = total;
}

function queuePump(delayMs: number): void {
  if (pumpQueued || !publishing) return;
  pumpQueued = true;
  const run = () => {
    pumpQueued = false;
    if (!publishing) return;
    if (schedule === undefined) pumpSaturated();
    else pumpScheduled(schedule);
  };
  if (delayMs <= 0) setImmediate(run);
  else setTimeout(run, delayMs);
}

/** Rate mode: send what is due, sleep until the next message is due, repeat for one slice. */
function pumpScheduled(plan: RateSchedule): void {
  const line = timeline as Timeline;
  const lastSeq = plan.countBefore(line.measureEndMs);
  const sliceEnd = epochMs() + SLICE_MS;
  for (;;) {
    const now = epochMs();
    let behind = lastSeq;
    let building = false;
    for (const p of publishers) {
      if (!p.canBuild()) continue;
      p.sendThrough(plan.batchUpTo(p.seq, now, line.measureEndMs), now, line);
      behind = Math.min(behind, p.seq);
      building = true;
    }
    publishProgress();
    if (now >= line.measureEndMs || publishers.every((p) => p.closed || p.seq >= lastSeq)) {
      stopPublishing();
      return;
    }
    // Every connection is over its unsent-bytes cap: the drain handler restarts the pump.
    if (!building) return;
    const wait = plan.scheduledMs(behind + 1) - epochMs();
    if (wait > SLICE_MS) {
      queuePump(wait - 1); // timers overshoot by ~1 ms; the slice catches up
      return;
    }
    if (frames) {
      // Acks are read between pumps only: sleep a little, then let the event loop read them.
      if (wait > 0) Atomics.wait(sleeper, 0, 0, Math.min(wait, ACK_POLL_MS));
      queuePump(0);
      return;
    }
    if (epochMs() + Math.max(wait, 0) > sliceEnd) {
      queuePump(0);
      return;
    }
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
  }
}

/** Saturation: keep every writable connection's socket full until the window closes. */
function pumpSaturated(): void {
  const line = timeline as Timeline;
  const sliceEnd = epochMs() + SLICE_MS;
  for (;;) {
    const now = epochMs();
    if (now >= line.measureEndMs) {
      stopPublishing();
      return;
    }
    let anyWritable = false;
    for (const p of publishers) {
      if (p.pending.length > 0 || p.closed) continue;
      p.sendThrough(p.seq + saturationBatch, now, line);
      if (p.pending.length === 0 && !p.closed) anyWritable = true;
    }
    publishProgress();
    // When every socket is full, the drain handler restarts the pump.
    if (!anyWritable) return;
    if (now >= sliceEnd) {
      queuePump(0);
      return;
    }
  }
}

function stopPublishing(): void {
  if (!publishing) return;
  publishing = false;
  publishProgress();
  waitForFlush();
}

/**
 * Lets queued bytes reach the relay (bounded by drainUntilMs) before reporting; in frame mode
 * also waits for every ack (same bound).
 */
function waitForFlush(): void {
  const line = timeline as Timeline;
  const unflushed = publishers.some(
    (p) => !p.closed && (p.pending.length > 0 || (p.acks?.unacked ?? 0) > 0),
  );
  if (unflushed && epochMs() < line.drainUntilMs) {
    setTimeout(waitForFlush, 5);
    return;
  }
  send({
    kind: "published",
    publishers: publishers.map((p) => p.report()),
    acks: frames ? AckTracker.report(publishers.flatMap((p) => (p.acks ? [p.acks] : []))) : null,
  });
}

async function connectAll(): Promise<void> {
  await Promise.all(
    publishers.map(async (p) => {
      p.socket = await Bun.connect({
        hostname: setup.endpoint.host,
        port: setup.endpoint.port,
        socket: {
          data(_socket, chunk) {
            // Frame mode: SubmitAcks. In line mode the relay says nothing to publishers.
            p.ackReader?.push(chunk);
          },
          drain() {
            // Spurious drains happen (see bun-sockets.md): flush() is a no-op then.
            if (p.flush()) queuePump(0);
          },
          close() {
            p.closed = true;
          },
          error() {
            p.closed = true;
          },
        },
      });
      if (natsHeader !== undefined) p.socket.write(NATS_CONNECT, 0, NATS_CONNECT.length);
    }),
  );
}

port.on("message", (message: MainToWorker) => {
  if (message.kind !== "start") return;
  timeline = message.timeline;
  schedule = setup.rate > 0 ? new RateSchedule(timeline.startMs, setup.rate) : undefined;
  measuredSeqs = schedule?.seqsWithin(timeline.measureStartMs, timeline.measureEndMs);
  publishing = true;
  queuePump(Math.max(0, timeline.startMs - epochMs() - 1));
  // Whatever the pump is doing (blocked on drain at saturation), the window closes on time.
  setTimeout(stopPublishing, Math.max(0, timeline.measureEndMs - epochMs()) + 1);
});

connectAll().then(
  () => send({ kind: "ready" }),
  (err: Error) =>
    send({
      kind: "failed",
      message: `publisher cannot connect to ${setup.endpoint.host}:${setup.endpoint.port}: ${err.message}`,
    }),
);
