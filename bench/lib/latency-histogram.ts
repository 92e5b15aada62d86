/**
 * Latency histograms: HdrHistogram in integer nanoseconds, 3 significant
 * digits, auto-resizing, over every sample of the measured window (the Go
 * client keeps only its first 200,000 samples). Each subscriber worker fills
 * its own pair and ships them to the main thread in HdrHistogram's compressed
 * base64 form, where they are added together.
 *
 * The mean printed as `avg=` is the exact sum / count, not the histogram's
 * bucketed mean, so it matches what the Go client computes.
 */
import * as hdr from "hdr-histogram-js";
import { NS_PER_MS } from "./clock.ts";

export type Histogram = hdr.Histogram;

export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60 * 1000 * NS_PER_MS,
    autoResize: true,
  });
}

/** A histogram plus the exact sum of its samples, as shipped between threads. */
export interface EncodedLatency {
  histogram: string;
  sumNs: number;
}

export function encodeLatency(histogram: Histogram, sumNs: number): EncodedLatency {
  return { histogram: hdr.encodeIntoCompressedBase64(histogram), sumNs };
}

/** Adds encoded worker histograms into one histogram and one exact sum. */
export function mergeLatency(parts: EncodedLatency[]): { histogram: Histogram; sumNs: number } {
  const histogram = createHistogram();
  let sumNs = 0;
  for (const part of parts) {
    const decoded = hdr.decodeFromCompressedBase64(part.histogram, 64);
    histogram.add(decoded);
    sumNs += part.sumNs;
  }
  return { histogram, sumNs };
}

/** The figures we report, in milliseconds. */
export interface LatencySummary {
  count: number;
  avgMs: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  p9999Ms: number;
  maxMs: number;
}

export function summarize(histogram: Histogram, sumNs: number): LatencySummary {
  const count = histogram.totalCount;
  const at = (p: number) => (count === 0 ? 0 : histogram.getValueAtPercentile(p) / NS_PER_MS);
  return {
    count,
    avgMs: count === 0 ? 0 : sumNs / count / NS_PER_MS,
    minMs: count === 0 ? 0 : histogram.minNonZeroValue / NS_PER_MS,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    p9999Ms: at(99.99),
    maxMs: count === 0 ? 0 : histogram.maxValue / NS_PER_MS,
  };
}

/** HdrHistogram's classic percentile distribution (.hgrm), values in milliseconds. */
export function percentileDistribution(histogram: Histogram): string {
  return histogram.outputPercentileDistribution(5, NS_PER_MS);
}
