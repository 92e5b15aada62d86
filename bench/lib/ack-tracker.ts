/**
 * The publisher side of `bun run bench --framing frame` (issue 12): every Submit a publisher
 * sends must come back as SubmitAck(ID, 0), in Submit order. AckTracker checks that and times
 * each ack from its Submit's send stamp (submit-to-ack latency, into an HdrHistogram).
 *
 * The bench's Submit IDs are the publisher's sequence numbers as 8 ASCII digits (`%08d`,
 * wrapping at 10^8 like seed 003's serial numbers), so the n-th ack must carry the ID of seq
 * n. Submits go out in batches stamped with one time; the tracker keeps one entry per batch
 * (its last seq and its stamp), not one per Submit.
 *
 * Pure: acks and clock readings in, counts and a histogram out. No socket, no clock.
 */
import { FrameIdCounter, ID_BYTES } from "../../src/protocol/frame-codec.ts";
import { NS_PER_MS } from "./clock.ts";
import { createHistogram, type EncodedLatency, encodeLatency } from "./latency-histogram.ts";

/** Whether the Submit `seq`, stamped `stampMs`, lies in the measured window. */
export type MeasuredPredicate = (seq: number, stampMs: number) => boolean;

/** What one publisher worker's acks came to (summed over its publishers). */
export interface AckReport {
  /** Acks received, whatever their result. */
  received: number;
  /** Acks of Submits inside the measured window (their latency is in `latency`). */
  inWindow: number;
  /** Acks whose result was not 0. */
  failed: number;
  /** Acks whose ID was not the next Submit's (a lost, extra or reordered ack). */
  outOfOrder: number;
  /** Submits sent but not acked when the publisher reported (after the drain). */
  unacked: number;
  /** Frame errors in the ack stream (FRAME_ERR_* codes), and frames that are not acks. */
  errors: number;
  latency: EncodedLatency;
}

export class AckTracker {
  /** Acks received so far = the seq whose ack came last. */
  private acked = 0;
  /** The last seq sent. */
  private sentUpTo = 0;
  /** Batches not fully acked: last seq of each and its stamp, oldest first from `head`. */
  private readonly batchEnds: number[] = [];
  private readonly batchStamps: number[] = [];
  private head = 0;
  /** The ID the next ack must carry. */
  private readonly expectedIds = new FrameIdCounter(1);
  private readonly expected = new Uint8Array(ID_BYTES);
  failed = 0;
  outOfOrder = 0;
  inWindow = 0;
  errors = 0;

  private readonly histogram = createHistogram();
  private sumNs = 0;

  constructor(private readonly measured: MeasuredPredicate) {}

  /** Seqs (previous, `upTo`] were written, all stamped `stampMs`. */
  sent(upTo: number, stampMs: number): void {
    if (upTo <= this.sentUpTo) return;
    this.sentUpTo = upTo;
    this.batchEnds.push(upTo);
    this.batchStamps.push(stampMs);
  }

  /** One SubmitAck: the ID at `id[idStart..+8)`, its result, read at `nowMs`. */
  ack(id: Uint8Array, idStart: number, result: number, nowMs: number): void {
    const seq = ++this.acked;
    this.expectedIds.write(this.expected, 0);
    for (let i = 0; i < ID_BYTES; i++) {
      if (id[idStart + i] !== this.expected[i]) {
        this.outOfOrder++;
        break;
      }
    }
    if (result !== 0) this.failed++;
    // The batch holding `seq`; batches before it are fully acked and forgotten.
    const last = this.batchEnds.length - 1;
    while (this.head < last && (this.batchEnds[this.head] as number) < seq) this.head++;
    if (this.head > 1024 && this.head * 2 > this.batchEnds.length) {
      this.batchEnds.splice(0, this.head);
      this.batchStamps.splice(0, this.head);
      this.head = 0;
    }
    if (seq > this.sentUpTo) {
      // An ack for a Submit never sent: the ID check above has counted it.
      return;
    }
    const stampMs = this.batchStamps[this.head] as number;
    if (!this.measured(seq, stampMs)) return;
    this.inWindow++;
    const ns = Math.max(0, Math.round((nowMs - stampMs) * NS_PER_MS));
    this.histogram.recordValue(ns);
    this.sumNs += ns;
  }

  /** Acks received so far. */
  get received(): number {
    return this.acked;
  }

  /** Submits sent and not acked yet. */
  get unacked(): number {
    return Math.max(0, this.sentUpTo - this.acked);
  }

  /** The counts and latency of several trackers (the publishers of one worker) as one report. */
  static report(trackers: readonly AckTracker[]): AckReport {
    const histogram = createHistogram();
    let sumNs = 0;
    const out = { received: 0, inWindow: 0, failed: 0, outOfOrder: 0, unacked: 0, errors: 0 };
    for (const t of trackers) {
      out.received += t.received;
      out.inWindow += t.inWindow;
      out.failed += t.failed;
      out.outOfOrder += t.outOfOrder;
      out.unacked += t.unacked;
      out.errors += t.errors;
      histogram.add(t.histogram);
      sumNs += t.sumNs;
    }
    return { ...out, latency: encodeLatency(histogram, sumNs) };
  }
}
