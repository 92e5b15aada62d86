/**
 * The scenario matrix of `bun run bench:compare` and the figures it compares.
 * Pure data and arithmetic (medians, ratios), tested without running anything.
 */
import type { BenchResult } from "../report/bench-result.ts";

export interface Scenario {
  name: string;
  /** Flags for bench/main.ts (ports, duration and relay are added per run). */
  args: string[];
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "article 1x3 @10000/s 80B",
    args: ["--pub", "1", "--sub", "3", "--rate", "10000", "--msg-size", "80"],
  },
  {
    name: "fan-out 4x16 @10000/s 80B",
    args: ["--pub", "4", "--sub", "16", "--rate", "10000", "--msg-size", "80"],
  },
  {
    name: "saturation 1x3 80B",
    args: ["--pub", "1", "--sub", "3", "--rate", "0", "--msg-size", "80"],
  },
];

export interface Figure {
  label: string;
  pick: (r: BenchResult) => number;
  /** Whether a bigger value is better (rates) or worse (latency, loss). */
  higherIsBetter: boolean;
}

export const FIGURES: readonly Figure[] = [
  { label: "sent msg/s", pick: (r) => r.sentRate, higherIsBetter: true },
  { label: "recv msg/s", pick: (r) => r.receivedRate, higherIsBetter: true },
  { label: "avg ms", pick: (r) => r.latencyMs.avgMs, higherIsBetter: false },
  { label: "p50 ms", pick: (r) => r.latencyMs.p50Ms, higherIsBetter: false },
  { label: "p90 ms", pick: (r) => r.latencyMs.p90Ms, higherIsBetter: false },
  { label: "p99 ms", pick: (r) => r.latencyMs.p99Ms, higherIsBetter: false },
  { label: "p99.9 ms", pick: (r) => r.latencyMs.p999Ms, higherIsBetter: false },
  {
    label: "corrected p99 ms",
    pick: (r) => r.correctedLatencyMs?.p99Ms ?? Number.NaN,
    higherIsBetter: false,
  },
  { label: "lost", pick: (r) => r.lost, higherIsBetter: false },
];

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The order relays run in for round `round`: A B, B A, B A, A B, ... (ABBA).
 * Odd rounds reverse the even round before them, and the starting relay
 * rotates every two rounds, so no relay always runs first, or always right
 * after the same other one, on a warming or cooling machine.
 */
export function roundOrder<T>(relays: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2);
  const rotated = relays.map((_, i) => relays[(i + shift) % relays.length] as T);
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

/** ours / peer, or NaN when undefined. */
export function ratio(ours: number, peer: number): number {
  if (!Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0) return Number.NaN;
  return ours / peer;
}

export function formatFigure(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(3);
}
