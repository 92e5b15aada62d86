/**
 * Reconnect delays: exponential backoff with jitter. Pure (no timer): the connection asks for
 * the next delay and sets its own timer, so the schedule is testable without sockets.
 *
 * Attempt n (from 1) waits `base = min(maxDelayMs, initialDelayMs * factor^(n-1))` less a
 * random part of up to `jitter * base`: with the defaults (100 ms, x2, max 5 s, jitter 0.5)
 * the waits are 50-100, 100-200, 200-400 ms, ... up to 2.5-5 s. The jitter spreads clients
 * that lost the relay at the same moment, so they do not all come back in the same instant.
 */
import type { ReconnectOptions } from "./options.ts";

export class Backoff {
  private attempts = 0;

  /** @param random a source of numbers in [0, 1), Math.random unless a test fixes it. */
  constructor(
    private readonly options: ReconnectOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts counted since the last reset (the one `next` returned the delay of). */
  get attempt(): number {
    return this.attempts;
  }

  /** True while another attempt is allowed (fewer than `maxAttempts` made since the reset). */
  get canRetry(): boolean {
    return this.attempts < this.options.maxAttempts;
  }

  /** Counts one more attempt and returns how long to wait before it, in milliseconds. */
  next(): number {
    const { initialDelayMs, maxDelayMs, factor, jitter } = this.options;
    const base = Math.min(maxDelayMs, initialDelayMs * factor ** this.attempts);
    this.attempts++;
    return Math.round(base * (1 - jitter * this.random()));
  }

  /** A connection came up: the next outage starts again from `initialDelayMs`. */
  reset(): void {
    this.attempts = 0;
  }
}
