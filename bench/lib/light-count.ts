/**
 * The light saturation mode of the bench subscriber (`--sample N`): count
 * messages with nothing but `indexOf(10)`, decode the leading fields of one
 * message in N, and still catch loss, duplicates and reordering:
 *
 * - `LineCounter` counts newline-terminated messages across chunks and hands
 *   every Nth one (whose bytes lie in one chunk) to a sample callback;
 * - `SampledSequenceCheck` checks the samples against the count: per
 *   publisher the sampled seqs must rise, and by the time seq s of publisher p
 *   arrives the subscriber must have counted at least the sum over publishers
 *   of their latest sampled seq (exactly that with one publisher). At the end
 *   the count must equal what the publishers sent.
 *
 * Pure: bytes in, counts out. No socket, no clock.
 */
import type { SequenceCounts } from "./sequence-tracker.ts";

export const NEWLINE = 10;

/** Called with `bytes[start, end)`: one sampled message, its newline excluded. */
export type SampleSink = (bytes: Uint8Array, start: number, end: number) => void;

export class LineCounter {
  /** Complete messages seen so far. */
  count = 0;
  /** Whether the last chunk ended inside a message (its start is not in the next chunk). */
  private midLine = false;
  /** The count at or after which the next whole message is sampled. */
  private nextSampleAt: number;

  /** @param every sample one message in `every` (1 = every message) */
  constructor(
    readonly every: number,
    private readonly onSample: SampleSink,
  ) {
    if (!(every >= 1)) throw new RangeError(`sample interval must be >= 1, got ${every}`);
    this.nextSampleAt = 1;
  }

  /** Counts the messages completed by `chunk`; returns how many. */
  push(chunk: Uint8Array): number {
    const before = this.count;
    let lineStart = this.midLine ? -1 : 0;
    let newline = chunk.indexOf(NEWLINE);
    while (newline >= 0) {
      this.count++;
      // A message that began in an earlier chunk is not sampled; the next whole one is.
      if (this.count >= this.nextSampleAt && lineStart >= 0) {
        this.nextSampleAt = this.count + this.every;
        this.onSample(chunk, lineStart, newline);
      }
      lineStart = newline + 1;
      newline = chunk.indexOf(NEWLINE, lineStart);
    }
    if (lineStart >= 0) this.midLine = lineStart < chunk.length;
    return this.count - before;
  }
}

export class SampledSequenceCheck {
  /** Latest sampled seq per publisher (0 = none yet). */
  private readonly lastSeq: number[];
  /** Sum of lastSeq: a lower bound on what must have been counted by now. */
  private seqSum = 0;
  /** Largest shortfall seen: sampled seqs imply at least this many messages never counted. */
  private maxDeficit = 0;
  /** Samples whose seq did not rise above the publisher's previous sample. */
  private disorder = 0;
  samples = 0;

  constructor(pubs: number) {
    this.lastSeq = new Array(pubs).fill(0);
  }

  /** A sampled message `seq` of publisher `pubId`, when `countedSoFar` messages (this one included) were counted. */
  observe(pubId: number, seq: number, countedSoFar: number): void {
    this.samples++;
    const last = this.lastSeq[pubId] ?? 0;
    if (seq <= last) {
      this.disorder++;
      return;
    }
    this.lastSeq[pubId] = seq;
    this.seqSum += seq - last;
    const deficit = this.seqSum - countedSoFar;
    if (deficit > this.maxDeficit) this.maxDeficit = deficit;
  }

  /** Whether `counted` messages are all a lossless relay delivers of `lastSeqs`. */
  static complete(counted: number, lastSeqs: readonly number[]): boolean {
    return counted >= lastSeqs.reduce((n, s) => n + s, 0);
  }

  /**
   * Totals for a subscriber that counted `counted` messages from publishers
   * whose last seqs were `lastSeqs`. Loss is the larger of the final shortfall
   * and the largest shortfall the samples proved on the way (a loss made up
   * by duplicates still shows). Reordered counts samples out of order.
   */
  counts(counted: number, lastSeqs: readonly number[]): SequenceCounts {
    const expected = lastSeqs.reduce((n, s) => n + s, 0);
    return {
      received: counted,
      lost: Math.max(0, expected - counted, this.maxDeficit),
      duplicated: Math.max(0, counted - expected),
      reordered: this.disorder,
    };
  }
}
