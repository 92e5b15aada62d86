/**
 * The relay's CPU time and memory, read from /proc (Linux): CPU% over the
 * measured window from utime + stime in /proc/PID/stat, and VmRSS from
 * /proc/PID/status. The parsers are pure; `readProcSample` does the I/O and
 * returns undefined when the process or /proc is gone.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS_PER_SEC = 100;

export interface ProcSample {
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  rssBytes: number;
  /** When it was read, epoch ms. */
  atMs: number;
}

/**
 * utime + stime (fields 14 and 15) of a /proc/PID/stat line. The command
 * name (field 2) is in parentheses and may hold spaces or parentheses, so
 * fields are counted after the last ')'.
 */
export function parseStatCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error("not a /proc/PID/stat line");
  // After ")": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error("no utime/stime in /proc/PID/stat");
  }
  return utime + stime;
}

/** VmRSS of a /proc/PID/status text, in bytes (the kernel prints kB). */
export function parseStatusRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error("no VmRSS in /proc/PID/status");
  return Number(match[1]) * 1024;
}

/** CPU use between two samples, in percent of one core (200 = two cores busy). */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const seconds = (to.atMs - from.atMs) / 1000;
  if (!(seconds > 0)) return Number.NaN;
  return ((to.cpuTicks - from.cpuTicks) / CLOCK_TICKS_PER_SEC / seconds) * 100;
}

export function readProcSample(pid: number, atMs: number): ProcSample | undefined {
  try {
    return {
      cpuTicks: parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, "utf8")),
      rssBytes: parseStatusRssBytes(readFileSync(`/proc/${pid}/status`, "utf8")),
      atMs,
    };
  } catch (err) {
    if (process.env.BENCH_DEBUG) console.error(err);
    return undefined;
  }
}

/**
 * The relay's figures for a result from its /proc samples: CPU over the measured window (in
 * percent of one core; null without both ends), its RSS at the window's end and before the
 * run (bytes; null when not sampled).
 */
export function relaySamples(
  baseline: ProcSample | undefined,
  windowStart: ProcSample | undefined,
  windowEnd: ProcSample | undefined,
): { cpuPct: number | null; rssBytes: number | null; rssBaselineBytes: number | null } {
  return {
    cpuPct:
      windowStart !== undefined && windowEnd !== undefined
        ? cpuPercent(windowStart, windowEnd)
        : null,
    rssBytes: windowEnd?.rssBytes ?? null,
    rssBaselineBytes: baseline?.rssBytes ?? null,
  };
}
