/**
 * Per-publisher sequence checking on one subscriber. Publishers number their
 * messages 1, 2, 3, ...; over TCP through a correct relay each subscriber must
 * see exactly that order. Anything else is counted:
 *
 * - a jump forward records the skipped seqs as missing (a gap);
 * - a seq from an open gap fills it: it was reordered, not lost;
 * - a seq already seen (behind the front and in no gap) is a duplicate;
 * - at the end, gaps still open plus the seqs never reached are lost.
 *
 * Gaps are kept as [start, end) ranges; a relay that loses everything
 * produces one range, not millions of entries. Past MAX_GAPS the oldest ranges
 * are forgotten (they stay counted as lost; a late copy would count as a dup).
 */

const MAX_GAPS = 4096;

export interface SequenceCounts {
  /** Messages received from this publisher (duplicates included). */
  received: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

export class SequenceTracker {
  /** The next seq expected in order; everything below it was seen or is in a gap. */
  private nextExpected = 1;
  /** Missing seqs still in open gaps. */
  private missing = 0;
  /** Open gaps as flat [start0, end0, start1, end1, ...], ascending. */
  private readonly gaps: number[] = [];
  private received = 0;
  private duplicated = 0;
  private reordered = 0;

  observe(seq: number): void {
    this.received++;
    if (seq === this.nextExpected) {
      this.nextExpected = seq + 1;
      return;
    }
    if (seq > this.nextExpected) {
      this.gaps.push(this.nextExpected, seq);
      this.missing += seq - this.nextExpected;
      this.nextExpected = seq + 1;
      if (this.gaps.length > MAX_GAPS * 2) this.gaps.splice(0, 2);
      return;
    }
    if (this.fillGap(seq)) {
      this.missing--;
      this.reordered++;
    } else {
      this.duplicated++;
    }
  }

  /** Counts for a publisher whose last message was `lastSentSeq`. */
  counts(lastSentSeq: number): SequenceCounts {
    const neverReached = Math.max(0, lastSentSeq - (this.nextExpected - 1));
    return {
      received: this.received,
      lost: this.missing + neverReached,
      duplicated: this.duplicated,
      reordered: this.reordered,
    };
  }

  /** Whether every seq up to `lastSentSeq` has arrived (used to end the drain early). */
  hasAllUpTo(lastSentSeq: number): boolean {
    return this.missing === 0 && this.nextExpected > lastSentSeq;
  }

  /** Removes `seq` from the gap holding it; false when no gap holds it. */
  private fillGap(seq: number): boolean {
    const gaps = this.gaps;
    // Late messages are usually recent: search from the newest gap backwards.
    for (let i = gaps.length - 2; i >= 0; i -= 2) {
      const start = gaps[i] as number;
      const end = gaps[i + 1] as number;
      if (seq >= end) return false;
      if (seq < start) continue;
      if (start === end - 1) gaps.splice(i, 2);
      else if (seq === start) gaps[i] = start + 1;
      else if (seq === end - 1) gaps[i + 1] = end - 1;
      else gaps.splice(i, 2, start, seq, seq + 1, end);
      return true;
    }
    return false;
  }
}

/** Sums per-publisher counts into one total. */
export function sumCounts(all: Iterable<SequenceCounts>): SequenceCounts {
  const total: SequenceCounts = { received: 0, lost: 0, duplicated: 0, reordered: 0 };
  for (const c of all) {
    total.received += c.received;
    total.lost += c.lost;
    total.duplicated += c.duplicated;
    total.reordered += c.reordered;
  }
  return total;
}
