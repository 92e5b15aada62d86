/**
 * The open-loop send schedule of one publisher: message `seq` (1-based) is due
 * at `startMs + (seq - 1) / rate`. The publisher never waits for the relay to
 * catch up; each time it wakes it sends, in one write, every message whose
 * time has come. So the rate holds however coarse the timer is, and a stall
 * shows up as latency measured from the scheduled time (wrk2's correction for
 * coordinated omission) instead of as fewer messages.
 *
 * Pure arithmetic on epoch milliseconds: no clock, no timer, testable as is.
 */
export class RateSchedule {
  /**
   * @param startMs epoch ms at which message 1 is due
   * @param ratePerSec messages per second; must be > 0 (rate 0 is saturation, which has no schedule)
   */
  constructor(
    readonly startMs: number,
    readonly ratePerSec: number,
  ) {
    if (!(ratePerSec > 0)) throw new RangeError(`rate must be > 0, got ${ratePerSec}`);
  }

  /** When message `seq` is due, in epoch ms. */
  scheduledMs(seq: number): number {
    return this.startMs + ((seq - 1) * 1000) / this.ratePerSec;
  }

  /** The highest seq due at or before `nowMs` (0 before the start). */
  dueThrough(nowMs: number): number {
    if (nowMs < this.startMs) return 0;
    return Math.floor(((nowMs - this.startMs) * this.ratePerSec) / 1000) + 1;
  }

  /** How many messages are due strictly before `endMs`: the last seq of a run that ends there. */
  countBefore(endMs: number): number {
    if (endMs <= this.startMs) return 0;
    return Math.ceil(((endMs - this.startMs) * this.ratePerSec) / 1000);
  }

  /**
   * The seqs scheduled inside [fromMs, toMs), as an inclusive range `[first, last]`
   * (empty when last < first). In rate mode these are the messages a run
   * counts and measures: membership by schedule, not by when a message
   * actually went out, so a stall at the window's edge cannot move messages
   * in or out of it (it shows up as corrected latency instead).
   */
  seqsWithin(fromMs: number, toMs: number): { first: number; last: number } {
    return { first: this.countBefore(fromMs) + 1, last: this.countBefore(toMs) };
  }

  /**
   * The seqs to send in one batch at `nowMs`, given the last seq already sent
   * and the end of the run: `(lastSent, upTo]`, possibly empty.
   */
  batchUpTo(lastSent: number, nowMs: number, endMs: number): number {
    return Math.max(lastSent, Math.min(this.dueThrough(nowMs), this.countBefore(endMs)));
  }
}
