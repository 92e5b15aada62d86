/**
 * Turns tunnel events into log lines. OPEN, CLOSE, STATS and SHUTDOWN are forward's lines
 * (src/pipe/pipe-log.ts) with the tunnel's mode name and stream labels, so one grep
 * works for every mode; the sessions add SESSION_UP, SESSION_DOWN, DIAL_FAILED and DRAINING,
 * which --quiet never hides.
 *
 *   OPEN tunnel-client #7 127.0.0.1:50312 -> 127.0.0.1:9000 session 2 stream 13
 *   CLOSE tunnel-server #4 127.0.0.1:41000 session 1 stream 5 -> 127.0.0.1:7000 reason=peer_closed ...
 *   SESSION_DOWN tunnel-client session 2 (127.0.0.1:9000, slot 2) after 61.2s, 340 streams:
 *     MUX_ERR_KEEPALIVE_TIMEOUT no frame from the peer for 30000 ms; redial in 0s
 */
import type { EventLine } from "../cli/mode-log.ts";
import type { ForwardEvent } from "../pipe/pipe-events.ts";
import { formatForwardEvent } from "../pipe/pipe-log.ts";
import type { SessionStats, TunnelEvent } from "./tunnel-events.ts";

/** `Sessions: up=3/4 streams=12 opened=5 closed=2 dial_failures=1` */
export function formatSessionStats(stats: SessionStats): string {
  const up = stats.slots > 0 ? `${stats.up}/${stats.slots}` : String(stats.up);
  const dials = stats.slots > 0 ? ` dial_failures=${stats.dialFailures}` : "";
  return `Sessions: up=${up} streams=${stats.streams} opened=${stats.opened} closed=${stats.closed}${dials}`;
}

/**
 * The text of one event, or undefined when it is not logged with these options.
 * `sessions` supplies the session figures appended to each STATS line.
 */
export function formatTunnelEvent(
  event: TunnelEvent,
  quiet: boolean,
  sessions?: () => SessionStats,
): string | undefined {
  switch (event.type) {
    case "listening":
      return `LISTEN ${event.mode} on ${event.host}:${event.port} ${event.detail}`;
    case "session_up": {
      const slot = event.slot !== undefined ? `, slot ${event.slot}` : "";
      return `SESSION_UP ${event.mode} session ${event.session} (${event.peer}${slot})`;
    }
    case "session_down": {
      const slot = event.slot !== undefined ? `, slot ${event.slot}` : "";
      const retry =
        event.retryInSeconds !== undefined ? `; redial in ${event.retryInSeconds}s` : "";
      return (
        `SESSION_DOWN ${event.mode} session ${event.session} (${event.peer}${slot}) after ` +
        `${event.seconds.toFixed(1)}s, ${event.streams} streams: ${event.code} ${event.reason}${retry}`
      );
    }
    case "dial_failed":
      return `DIAL_FAILED tunnel-client slot ${event.slot} ${event.peer}: ${event.reason}; redial in ${event.retryInSeconds}s`;
    case "draining":
      return `DRAINING ${event.mode} stopped accepting; waiting up to ${event.graceSeconds}s for ${event.open} connection(s)`;
    default: {
      // The table's events differ from ForwardEvent only in the mode's name, which the
      // forward formatter prints as it is.
      const text = formatForwardEvent(event as unknown as ForwardEvent, quiet);
      if (event.type !== "stats" || text === undefined || sessions === undefined) return text;
      return `${text} | ${formatSessionStats(sessions())}`;
    }
  }
}

/**
 * An event listener that writes each logged event through `line` (src/cli/mode-log.ts: one
 * timestamped text line, or one JSON object with --log-format json).
 */
export function tunnelLogger(options: {
  quiet: boolean;
  line: EventLine;
  sessions?: () => SessionStats;
}): (event: TunnelEvent) => void {
  return (event) => options.line(event, formatTunnelEvent(event, options.quiet, options.sessions));
}
