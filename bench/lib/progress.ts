/**
 * The live progress line: once a second, the send and receive rates over the
 * last second, rewritten in place. Only for a person watching a terminal; the
 * caller does not start it when stdout is piped or with --json.
 */
import type { LiveCounters } from "./run-bench.ts";

export class ProgressLine {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSent = 0;
  private lastReceived = 0;
  private lastAt = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly out: { write(text: string): unknown }) {}

  follow(live: LiveCounters): void {
    this.lastAt = performance.now();
    this.timer = setInterval(() => this.tick(live), 1000);
  }

  private tick(live: LiveCounters): void {
    const now = performance.now();
    const seconds = (now - this.lastAt) / 1000;
    const sent = live.sent();
    const received = live.received();
    const sendRate = (sent - this.lastSent) / seconds;
    const recvRate = (received - this.lastReceived) / seconds;
    this.lastSent = sent;
    this.lastReceived = received;
    this.lastAt = now;
    const elapsed = Math.round((now - this.startedAt) / 1000);
    this.out.write(
      `\r\x1b[K[${elapsed}s] sent ${Math.round(sendRate)} msg/s, recv ${Math.round(recvRate)} msg/s ` +
        `(totals ${sent} / ${received})`,
    );
  }

  /** Stops and erases the line so the report starts on a clean one. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.write("\r\x1b[K");
  }
}
