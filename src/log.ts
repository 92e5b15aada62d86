/**
 * Turns relay events into log lines, in the spirit of the Go relay's output: OPEN/CLOSE per
 * connection with the peer address, a stats line per interval, and a line for every
 * disconnect or loss the relay causes, which --quiet never hides.
 *
 * Two formats carry the same events: `text` for people (textLogger) and `json`, one object
 * per line, for log pipelines (jsonLogger).
 */
import { type ClusterStats, LOST_CAUSES } from "./cluster/events.ts";
import { CloseReason, formatPeer } from "./errors.ts";
import { formatNetEvent, netEventLevel } from "./net/net-events.ts";
import type { RelayEvent, StatsSnapshot } from "./relay/events.ts";

export interface LogOptions {
  /** Hide ordinary OPEN/CLOSE lines (not the ones for closes the relay forced). */
  quiet: boolean;
  write: (line: string) => void;
}

const ORDINARY_CLOSES: ReadonlySet<string> = new Set([
  CloseReason.PeerClosed,
  CloseReason.PeerReset,
  CloseReason.Shutdown,
]);

type CloseEvent = Extract<RelayEvent, { type: "close" }>;

/** A close the relay caused (slow consumer, line too long, …) or one that lost data. */
function isForcedClose(event: CloseEvent): boolean {
  return !ORDINARY_CLOSES.has(event.reason) || event.droppedBytes > 0;
}

function rate(count: number, seconds: number): string {
  return (seconds > 0 ? count / seconds : 0).toFixed(2);
}

/** `Interval 60s | Recv: …` — the Go relay's stats line, plus what ours adds. */
export function formatStats(stats: StatsSnapshot): string {
  const s = stats.seconds;
  return (
    `Interval ${s.toFixed(0)}s | Recv: ${stats.messagesReceived} (${rate(stats.messagesReceived, s)}/s), ` +
    `Sent: ${stats.messagesSent} (${rate(stats.messagesSent, s)}/s) | ` +
    `SendConn=${stats.subscribers} RecvConn=${stats.publishers} | ` +
    `SlowConsumers=${stats.slowConsumerDisconnects} WriteTimeouts=${stats.writeTimeouts} ` +
    `Dropped=${stats.messagesDropped} Pauses=${stats.publisherPauses} ` +
    `Held=${(stats.publishersHeldMs / 1000).toFixed(3)}s Stalls=${stats.stallTimeouts} ` +
    `LinesTooLong=${stats.linesTooLong} Refused=${stats.refusedConnections} ` +
    `Submits=${stats.submitsReceived} AcksOk=${stats.acksOk} AcksFailed=${stats.acksFailed} ` +
    `FrameErrors=${stats.frameErrors} AuthFailures=${stats.authFailures} ` +
    `NotLines=${stats.messagesNotLines} ` +
    `Pending=${stats.pendingBytes}B` +
    (stats.cluster ? ` | ${formatClusterStats(stats.cluster)}` : "")
  );
}

/**
 * `Cluster: connected Out=N In=N Lost=N (gap=N not_connected=N) Reconnects=N`: the
 * backplane's state, messages to and from NATS (over the interval, like Recv and Sent in a
 * STATS line), and totals of what was lost and of reconnects.
 */
export function formatClusterStats(cluster: ClusterStats): string {
  const lost = LOST_CAUSES.reduce((sum, cause) => sum + cluster.lost[cause], 0);
  const causes = LOST_CAUSES.filter((cause) => cluster.lost[cause] > 0)
    .map((cause) => `${cause}=${cluster.lost[cause]}`)
    .join(" ");
  return (
    `Cluster: ${cluster.state} Out=${cluster.messagesOut} In=${cluster.messagesIn} ` +
    `Lost=${lost}${causes ? ` (${causes})` : ""} Reconnects=${cluster.reconnects} Nodes=${cluster.sources + 1}`
  );
}

/** The text of one event, or undefined when it is not logged with these options. */
export function formatEvent(event: RelayEvent, quiet: boolean): string | undefined {
  switch (event.type) {
    case "listening":
      return `LISTEN ${event.side}s on ${event.host}:${event.port}`;
    case "open":
      return quiet ? undefined : `OPEN ${event.side} ${event.peer}`;
    case "close": {
      if (quiet && !isForcedClose(event)) return undefined;
      const detail = event.detail ? ` (${event.detail})` : "";
      const dropped = event.droppedBytes > 0 ? ` dropped=${event.droppedBytes}B` : "";
      return `CLOSE ${event.side} ${event.peer} reason=${event.reason}${dropped}${detail}`;
    }
    case "subscriber_input":
      return `IGNORED ${event.bytes} B sent by subscriber ${event.peer} (total ${event.totalBytes} B; subscribers are not read)`;
    case "drop_episode":
      return `DROP ${event.messages} messages (${event.bytes} B) for slow subscriber ${event.peer} (total ${event.totalMessages})`;
    case "not_lines":
      return `NOT_LINES ${event.messages} messages from frame publisher ${event.peer} hold \\n in their payload: not delivered to line subscribers`;
    case "stall_expired":
      return `STALL subscriber ${event.peer} held publishers for ${event.heldMs} ms (--stall-timeout); they resume without it (backlog ${event.pendingBytes} B; cut at --max-pending unless it catches up)`;
    case "publishers_held":
      return undefined; // can flip thousands of times a second at saturation: STATS counts it
    case "stats":
      return `STATS ${formatStats(event.stats)}`;
    case "metrics_listening":
      return `LISTEN metrics on ${event.tls ? "https" : "http"}://${formatPeer(event.host, event.port)}/metrics`;
    case "signal":
      return `SIGNAL ${event.signal} received, shutting down`;
    case "shutdown_started":
      return `SHUTDOWN stopped accepting; flushing ${event.pendingBytes} B queued for subscribers (up to ${event.timeoutSeconds}s)`;
    case "cluster_starting":
      return `CLUSTER node ${event.nodeId} joins subject ${event.subject} via ${event.servers.join(", ")}`;
    case "cluster_connected":
      return event.reconnect
        ? `CLUSTER reconnected to ${event.server} after ${event.downMs ?? 0} ms`
        : `CLUSTER connected to ${event.server} (max_payload ${event.maxPayload} B)`;
    case "cluster_max_payload": {
      const effect = event.limiting
        ? `a message longer than ${event.largestMessage} B cannot cross the backplane (dropped by the sender, counted as too_large; --max-line/--max-frame allow more here)`
        : `every message this node accepts can cross (up to ${event.largestMessage} B)`;
      return event.previous === undefined
        ? `CLUSTER NATS max_payload is ${event.maxPayload} B: ${effect}`
        : `CLUSTER NATS max_payload changed from ${event.previous} B to ${event.maxPayload} B (${event.server}): ${effect}`;
    }
    case "cluster_unreachable":
      return `CLUSTER cannot reach ${event.servers.join(", ")} (${event.reason}); serving locally, retrying (attempt ${event.attempt}, next in ${event.retryMs} ms)`;
    case "cluster_disconnected":
      return `CLUSTER disconnected from ${event.server} (${event.reason}); serving locally, reconnecting; batches are dropped and counted meanwhile`;
    case "cluster_dropped":
      return `CLUSTER dropped ${event.messages} messages (${event.batches} batches) of this node: ${event.cause}`;
    case "cluster_gap":
      return `CLUSTER lost ${event.messages} messages of node ${event.source} (gap in its count)`;
    case "cluster_source":
      return event.restarted
        ? `CLUSTER node ${event.source} restarted (its count went back)`
        : `CLUSTER first batch from node ${event.source}`;
    case "cluster_warning":
      return `CLUSTER ${event.message}`;
    case "cluster_node":
      return event.joined
        ? `CLUSTER node ${event.source} shares its NATS subscriptions`
        : `CLUSTER node ${event.source} forgotten (${event.reason}): its NATS subscriptions no longer receive from here`;
    case "cluster_interest":
      return undefined;
    case "cluster_closed":
      return "CLUSTER closed";
    case "tls_handshake_failed":
    case "access_refused":
    case "access_config":
    case "reload":
      return formatNetEvent(event);
    case "shutdown_finished": {
      const flushed =
        event.unflushedBytes === 0
          ? "all queued data flushed"
          : `${event.unflushedBytes} B could not be flushed in time`;
      return `BYE ${flushed} | total ${formatStats(event.totals)}`;
    }
  }
}

/** An event listener that writes each logged event as one timestamped line. */
export function textLogger(options: LogOptions): (event: RelayEvent) => void {
  return (event) => {
    const text = formatEvent(event, options.quiet);
    if (text !== undefined) options.write(`${new Date().toISOString()} ${text}`);
  };
}

/** `warn` for what the relay forced or what lost data, so a pipeline can alert on it. */
function levelOf(event: RelayEvent): "info" | "warn" {
  switch (event.type) {
    case "close":
      return isForcedClose(event) ? "warn" : "info";
    case "drop_episode":
    case "not_lines":
    case "stall_expired":
    case "cluster_unreachable":
    case "cluster_disconnected":
    case "cluster_dropped":
    case "cluster_gap":
    case "cluster_warning":
      return "warn";
    case "cluster_max_payload":
      return event.limiting ? "warn" : "info";
    case "shutdown_finished":
      return event.unflushedBytes > 0 ? "warn" : "info";
    case "tls_handshake_failed":
    case "access_refused":
    case "access_config":
    case "reload":
      return netEventLevel(event);
    default:
      return "info";
  }
}

/**
 * An event listener that writes each logged event as one JSON object per line:
 * `{"ts":"<ISO time>","event":"<type>","level":"info|warn",...the event's own fields}`.
 * Nested figures stay nested (`stats`, `totals`), with the same names as in the code.
 */
export function jsonLogger(options: LogOptions): (event: RelayEvent) => void {
  return (event) => {
    // The text formatter is the one place that decides what --quiet (or noise) hides, so both
    // formats always log the same events.
    if (formatEvent(event, options.quiet) === undefined) return;
    const { type, ...fields } = event;
    const record = { ts: new Date().toISOString(), event: type, level: levelOf(event), ...fields };
    options.write(JSON.stringify(record));
  };
}
