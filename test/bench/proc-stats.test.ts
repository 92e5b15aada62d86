import { describe, expect, test } from "bun:test";
import { cpuPercent, parseStatCpuTicks, parseStatusRssBytes } from "../../bench/lib/proc-stats.ts";

describe("/proc parsing", () => {
  test("utime + stime, even when the command name holds spaces and parentheses", () => {
    const stat =
      "4242 (bun (relay) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 4 0 100 1000 500";
    expect(parseStatCpuTicks(stat)).toBe(300);
  });

  test("a line that is not a stat line is an error", () => {
    expect(() => parseStatCpuTicks("nonsense")).toThrow();
  });

  test("VmRSS in bytes", () => {
    const status = "Name:\tbun\nVmPeak:\t  900000 kB\nVmRSS:\t   51200 kB\nThreads:\t4\n";
    expect(parseStatusRssBytes(status)).toBe(51200 * 1024);
    expect(() => parseStatusRssBytes("Name:\tx\n")).toThrow();
  });

  test("CPU% of one core between two samples", () => {
    const from = { cpuTicks: 1000, rssBytes: 0, atMs: 0 };
    expect(cpuPercent(from, { cpuTicks: 1150, rssBytes: 0, atMs: 2000 })).toBe(75);
    expect(cpuPercent(from, { cpuTicks: 1000, rssBytes: 0, atMs: 0 })).toBeNaN();
  });
});
