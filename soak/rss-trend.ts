/**
 * Is the relay's memory still growing at the end of the run? Pure arithmetic on RSS samples
 * (one per second), so the rule is tested without a process.
 *
 * The rule, and why it is shaped this way on a shared 2-core machine:
 * - The first quarter is warm-up and is ignored: Bun's JIT, the GC heap and the socket
 *   buffers all grow to their working size in the first tens of seconds.
 * - RSS is noisy: a GC cycle or the allocator returning pages moves it by a few MiB either
 *   way, and a neighbour on the machine can stall the relay for a second. So no single
 *   sample, first or last, decides anything.
 * - Two robust measures of growth must BOTH exceed the threshold:
 *   1. the Theil-Sen slope (the median of the slopes between every pair of samples) over the
 *      second half, times the second half's length: a linear fit that up to ~29% of outlying
 *      samples cannot move;
 *   2. the median of the last quarter minus the median of the second quarter.
 *   A leak moves both. A sawtooth moves neither much. A late spike moves at most one.
 * - The threshold is max(8 MiB, 5% of the second quarter's median): the noise seen on this
 *   machine (see RELIABILITY.md) is well below it, and a leak of one backlog (--max-pending)
 *   per slow subscriber, or a buffer per churned connection, crosses it in a 10-minute run.
 */

export interface RssSample {
  /** Seconds since the relay started. */
  atSec: number;
  rssKiB: number;
}

export interface TrendRule {
  minGrowthMiB: number;
  /** Of the second quarter's median. */
  relativeGrowth: number;
}

export const DEFAULT_TREND_RULE: Readonly<TrendRule> = { minGrowthMiB: 8, relativeGrowth: 0.05 };

export interface TrendVerdict {
  growing: boolean;
  /** Theil-Sen slope over the second half, MiB per minute. */
  slopeMiBPerMin: number;
  /** That slope times the second half's length, MiB. */
  fittedGrowthMiB: number;
  /** Median of the last quarter minus median of the second quarter, MiB. */
  medianGrowthMiB: number;
  thresholdMiB: number;
  /** Medians of the four quarters, MiB. */
  quarterMediansMiB: [number, number, number, number];
  /** One sentence. */
  explanation: string;
}

const KIB_PER_MIB = 1024;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The Theil-Sen estimator: the median slope over all pairs of points with distinct x. */
export function theilSenSlope(points: readonly { x: number; y: number }[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const a = points[i] as { x: number; y: number };
    for (let j = i + 1; j < points.length; j++) {
      const b = points[j] as { x: number; y: number };
      if (b.x !== a.x) slopes.push((b.y - a.y) / (b.x - a.x));
    }
  }
  return slopes.length === 0 ? 0 : median(slopes);
}

/** Splits samples into four quarters of the run's time span (not of the sample count). */
export function quarters(samples: readonly RssSample[]): RssSample[][] {
  const out: RssSample[][] = [[], [], [], []];
  if (samples.length === 0) return out;
  const first = (samples[0] as RssSample).atSec;
  const span = (samples[samples.length - 1] as RssSample).atSec - first || 1;
  for (const sample of samples) {
    const index = Math.min(3, Math.floor(((sample.atSec - first) / span) * 4));
    (out[index] as RssSample[]).push(sample);
  }
  return out;
}

export function rssTrend(
  samples: readonly RssSample[],
  rule: TrendRule = DEFAULT_TREND_RULE,
): TrendVerdict {
  const q = quarters(samples);
  const mib = (list: readonly RssSample[]) => median(list.map((s) => s.rssKiB)) / KIB_PER_MIB;
  const quarterMediansMiB: [number, number, number, number] = [
    mib(q[0] as RssSample[]),
    mib(q[1] as RssSample[]),
    mib(q[2] as RssSample[]),
    mib(q[3] as RssSample[]),
  ];
  const secondHalf = [...(q[2] as RssSample[]), ...(q[3] as RssSample[])];
  const points = secondHalf.map((s) => ({ x: s.atSec, y: s.rssKiB / KIB_PER_MIB }));
  const slopePerSec = theilSenSlope(points);
  const halfSpan =
    secondHalf.length > 1
      ? (secondHalf[secondHalf.length - 1] as RssSample).atSec - (secondHalf[0] as RssSample).atSec
      : 0;
  const fittedGrowthMiB = slopePerSec * halfSpan;
  const medianGrowthMiB = quarterMediansMiB[3] - quarterMediansMiB[1];
  const thresholdMiB = Math.max(rule.minGrowthMiB, rule.relativeGrowth * quarterMediansMiB[1]);

  const enough = (q[1] as RssSample[]).length >= 2 && (q[3] as RssSample[]).length >= 2;
  const growing = enough && fittedGrowthMiB > thresholdMiB && medianGrowthMiB > thresholdMiB;
  const figures =
    `fitted growth over the second half ${fittedGrowthMiB.toFixed(1)} MiB, ` +
    `last-quarter median minus second-quarter median ${medianGrowthMiB.toFixed(1)} MiB, ` +
    `threshold ${thresholdMiB.toFixed(1)} MiB`;
  let explanation: string;
  if (!enough) explanation = `too few samples (${samples.length}) to judge a trend`;
  else if (growing) explanation = `RSS keeps growing: ${figures}`;
  else explanation = `RSS is flat: ${figures}`;
  return {
    growing,
    slopeMiBPerMin: slopePerSec * 60,
    fittedGrowthMiB,
    medianGrowthMiB,
    thresholdMiB,
    quarterMediansMiB,
    explanation,
  };
}

export interface RssRow {
  fromSec: number;
  toSec: number;
  minMiB: number;
  medianMiB: number;
  maxMiB: number;
}

/** The run cut into `rows` equal stretches of time, with min/median/max RSS in each. */
export function rssTable(samples: readonly RssSample[], rows: number): RssRow[] {
  if (samples.length === 0) return [];
  const first = (samples[0] as RssSample).atSec;
  const span = (samples[samples.length - 1] as RssSample).atSec - first || 1;
  const buckets: RssSample[][] = Array.from({ length: rows }, () => []);
  for (const sample of samples) {
    const index = Math.min(rows - 1, Math.floor(((sample.atSec - first) / span) * rows));
    (buckets[index] as RssSample[]).push(sample);
  }
  return buckets
    .filter((bucket) => bucket.length > 0)
    .map((bucket) => {
      const values = bucket.map((s) => s.rssKiB / KIB_PER_MIB);
      return {
        fromSec: (bucket[0] as RssSample).atSec,
        toSec: (bucket[bucket.length - 1] as RssSample).atSec,
        minMiB: Math.min(...values),
        medianMiB: median(values),
        maxMiB: Math.max(...values),
      };
    });
}
