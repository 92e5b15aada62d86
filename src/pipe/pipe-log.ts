/**
 * Turns forward/proxy events into log lines: OPEN and CLOSE per connection with both
 * addresses, the close reason and the bytes each way; target up/down; a stats line per
 * interval. --quiet hides ordinary OPEN/CLOSE lines, never the ones for closes we caused.
 */

import type { EventLine } from "../cli/mode-log.ts";
import { CloseReason } from "../errors.ts";
import type { ForwardEvent, ForwardStats } from "./pipe-events.ts";

const ORDINARY_CLOSES: ReadonlySet<string> = new Set([
  CloseReason.PeerClosed,
  CloseReason.PeerReset,
  CloseReason.Shutdown,
]);

function megabytesPerSecond(bytes: number, seconds: number): string {
  return (seconds > 0 ? bytes / 1e6 / seconds : 0).toFixed(2);
}

/** `Interval 60s | Conns: …` */
export function formatForwardStats(stats: ForwardStats): string {
  const s = stats.seconds;
  const pool =
    stats.poolHits + stats.poolMisses > 0
      ? ` | Pool: hits=${stats.poolHits} misses=${stats.poolMisses}`
      : "";
  const targets = stats.targets > 0 ? ` | Targets up: ${stats.targetsUp}/${stats.targets}` : "";
  return (
    `Interval ${s.toFixed(0)}s | Conns: open=${stats.open} opened=${stats.opened} ` +
    `closed=${stats.closed} refused=${stats.refused} | ` +
    `Up: ${stats.bytesUp}B (${megabytesPerSecond(stats.bytesUp, s)} MB/s) ` +
    `Down: ${stats.bytesDown}B (${megabytesPerSecond(stats.bytesDown, s)} MB/s)${pool}${targets}`
  );
}

/** The text of one event, or undefined when it is not logged with these options. */
export function formatForwardEvent(event: ForwardEvent, quiet: boolean): string | undefined {
  switch (event.type) {
    case "listening":
      return `LISTEN ${event.mode} on ${event.host}:${event.port}`;
    case "open":
      if (quiet) return undefined;
      return `OPEN ${event.mode} #${event.id} ${event.client} -> ${event.upstream}${event.pooled ? " pooled" : ""}`;
    case "close": {
      if (quiet && ORDINARY_CLOSES.has(event.reason)) return undefined;
      const detail = event.detail ? ` (${event.detail})` : "";
      return (
        `CLOSE ${event.mode} #${event.id} ${event.client} -> ${event.upstream} reason=${event.reason} ` +
        `up=${event.bytesUp}B down=${event.bytesDown}B time=${event.seconds.toFixed(3)}s${detail}`
      );
    }
    case "target_down":
      return `TARGET_DOWN ${event.target} (${event.reason}); backoff ${event.retryInSeconds}s (skipped meanwhile while another target is up)`;
    case "target_up":
      return `TARGET_UP ${event.target}`;
    case "stats":
      return `STATS ${event.mode} ${formatForwardStats(event.stats)}`;
    case "shutdown":
      return `SHUTDOWN ${event.mode} stopped accepting; closing ${event.open} connection(s)`;
    case "draining":
      return `DRAINING ${event.mode} stopped accepting; waiting up to ${event.graceSeconds}s for ${event.open} connection(s)`;
  }
}

/**
 * An event listener that writes each logged event through `line` (src/cli/mode-log.ts: one
 * timestamped text line, or one JSON object with --log-format json).
 */
export function forwardLogger(options: {
  quiet: boolean;
  line: EventLine;
}): (event: ForwardEvent) => void {
  return (event) => options.line(event, formatForwardEvent(event, options.quiet));
}
