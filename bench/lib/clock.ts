/**
 * Wall-clock time shared by every thread and process of a bench run.
 *
 * `Bun.nanoseconds()` and `process.hrtime` count from the start of each process
 * (and each worker), so they cannot be compared between the publisher and the
 * subscriber threads. `performance.timeOrigin + performance.now()` is epoch
 * milliseconds with sub-microsecond resolution in every worker, and it is the
 * same epoch the Go client's `time.Now().UnixNano()` uses, so either client can
 * read the other's timestamps. See ../shared/notes/bun-sockets.md ("Clocks").
 */

/** Epoch time in milliseconds, fractional (resolution ~0.25 µs at today's epoch). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Nanoseconds per millisecond: latencies are kept in integer nanoseconds. */
export const NS_PER_MS = 1_000_000;
