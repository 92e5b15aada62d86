/**
 * KeepAlive: a session's liveness timer (session.go `keepalive`, Debian smux 1.5.16). Every
 * keepAliveIntervalMs it sends a NOP, and it declares the peer dead once keepAliveTimeoutMs
 * have passed without a frame from it.
 *
 * The data path only sets `frameSeen` (one store per frame, no clock read); the timer turns
 * it into a time. Go checks its `dataReady` flag once per timeout period, so it closes between
 * 1x and 2x the timeout after the last frame; checking every interval closes within one
 * interval past the timeout. Like Go, the timeout does not run while the session has stopped
 * reading for its receive budget: the silence is ours then, not the peer's.
 */

import type { MuxConfig } from "./config.ts";

/** What the timer asks of its session. */
export interface KeepAliveHost {
  /** Queue a NOP frame. */
  sendNop(): void;
  /** True while the session does not read because its receive budget is spent. */
  budgetPaused(): boolean;
  /** The peer was silent for `silentMs` (>= the timeout): close the session. */
  timedOut(silentMs: number): void;
}

export class KeepAlive {
  /** Set by the session for every frame received; cleared by each tick. */
  frameSeen = false;
  private lastFrameAt = performance.now();
  private timer: ReturnType<typeof setInterval> | undefined;

  /** Starts ticking unless the config disables keepalive. */
  constructor(
    private readonly config: MuxConfig,
    private readonly host: KeepAliveHost,
  ) {
    if (config.keepAliveDisabled) return;
    this.timer = setInterval(() => this.tick(), config.keepAliveIntervalMs);
    // Sockets keep a process alive; a keepalive timer alone should not.
    this.timer.unref?.();
  }

  /** Stops for good. Idempotent. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    if (this.frameSeen || this.host.budgetPaused()) {
      this.frameSeen = false;
      this.lastFrameAt = now;
    } else if (now - this.lastFrameAt >= this.config.keepAliveTimeoutMs) {
      this.stop();
      this.host.timedOut(Math.round(now - this.lastFrameAt));
      return;
    }
    this.host.sendNop();
  }
}
