/**
 * Everything the relay reports, as plain objects. The relay emits them to one listener; the
 * command line turns them into log lines, and tests wait on them instead of sleeping.
 */
import type { ClusterEvent, ClusterStats } from "../cluster/events.ts";
import type { CloseReason } from "../errors.ts";
import type { NetEvent } from "../net/net-events.ts";
import type { Counters } from "./relay-stats.ts";

/** Which port a connection came in on: the publisher, subscriber, NATS or WebSocket port. */
export type Side = "publisher" | "subscriber" | "nats-client" | "ws-client";

/**
 * The relay's counters plus its state now. In a stats event the message and byte counts
 * cover the interval; every other counter is the total since start.
 */
export interface StatsSnapshot extends Counters {
  /** Seconds the figures cover. */
  seconds: number;
  publishers: number;
  subscribers: number;
  /** Bytes queued in the relay for subscribers, right now. */
  pendingBytes: number;
  /**
   * With --cluster: the backplane's state and counters (messages in and out cover the
   * interval in a stats event, like Recv and Sent; the rest are totals since start).
   */
  cluster?: ClusterStats;
}

export type RelayEvent =
  | { type: "listening"; side: Side; host: string; port: number }
  | { type: "open"; side: Side; peer: string }
  | {
      type: "close";
      side: Side;
      peer: string;
      reason: CloseReason;
      /** Why, in words, when the relay closed the connection itself or data was lost. */
      detail?: string;
      /** Queued bytes (subscriber) or unfinished-line bytes (publisher) lost with the close. */
      droppedBytes: number;
    }
  | { type: "subscriber_input"; peer: string; bytes: number; totalBytes: number }
  | {
      /** Policy `drop`: one episode of drops for a subscriber, reported when it ends. */
      type: "drop_episode";
      peer: string;
      messages: number;
      bytes: number;
      /** Messages dropped for this subscriber since it connected. */
      totalMessages: number;
    }
  | {
      /**
       * A frame publisher's episode of messages whose payload holds `\n`: not given to line
       * subscribers (a line cannot carry them). Reported once, when the episode ends.
       */
      type: "not_lines";
      peer: string;
      messages: number;
    }
  | {
      /**
       * Policy `stall`: a subscriber held publishers for `heldMs` (--stall-timeout); they
       * resume without it, and it is cut if its backlog reaches --max-pending.
       */
      type: "stall_expired";
      peer: string;
      heldMs: number;
      /** Its backlog at that moment, in bytes. */
      pendingBytes: number;
    }
  | {
      /**
       * Policies `block` and `stall`: publishers are held (true) or released (false). Not
       * logged (it can flip thousands of times a second): counted in STATS and metrics.
       */
      type: "publishers_held";
      held: boolean;
      pendingBytes: number;
    }
  | { type: "stats"; stats: StatsSnapshot }
  /** main.ts: the HTTP endpoint for /metrics and /healthz is up (--metrics-port). */
  | { type: "metrics_listening"; host: string; port: number; tls?: boolean }
  /** main.ts: SIGINT or SIGTERM arrived; shutdown follows. */
  | { type: "signal"; signal: string }
  | { type: "shutdown_started"; pendingBytes: number; timeoutSeconds: number }
  | {
      type: "shutdown_finished";
      /** Bytes still queued when the timeout ran out (0 when everything was flushed). */
      unflushedBytes: number;
      totals: StatsSnapshot;
    }
  /** With --cluster: the NATS backplane (src/cluster/events.ts). */
  | ClusterEvent
  /** TLS, --allow-from and SIGHUP reloads of both ports (src/net/net-events.ts). */
  | NetEvent;

export type RelayEventListener = (event: RelayEvent) => void;
