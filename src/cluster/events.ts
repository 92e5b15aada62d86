/**
 * What the NATS backplane reports: its counters and its events, which join the relay's own
 * (src/relay/events.ts) so the same log formatters and tests handle them.
 */

/**
 * Why messages did not cross the backplane:
 * - `not_connected`: this node dropped a batch because NATS was not connected (at start, or
 *   during an outage). Its count does not advance, so no receiver sees a gap for them.
 * - `too_large`: one message whose Submit frame plus the 22-byte header exceeds the NATS
 *   server's max_payload; dropped by the sender.
 * - `slow_nats`: NATS took our batches slower than we published them (unconfirmed bytes past
 *   the bound) and the slow-consumer policy does not let the backplane hold publishers longer;
 *   dropped by the sender.
 * - `gap`: counted by a receiver: a sender's count jumped, so messages it published never
 *   arrived (lost in transit: a NATS restart, our or its connection cut, a slow consumer cut).
 * - `no_member`: counted by a receiver of the subject channel (subject-link.ts): another node
 *   chose this one for a queue group's message, and the group's last member here had left.
 */
export const LOST_CAUSES = ["not_connected", "too_large", "slow_nats", "gap", "no_member"] as const;
export type LostCause = (typeof LOST_CAUSES)[number];

/** The backplane connection's state. */
export type ClusterState = "connecting" | "connected" | "disconnected" | "closed";

/** Running totals since start. */
export interface ClusterCounters {
  /** Messages, bytes (NATS payloads, headers included) and NATS messages published. */
  messagesOut: number;
  bytesOut: number;
  batchesOut: number;
  /** Messages, bytes and NATS messages received from other nodes (and delivered locally). */
  messagesIn: number;
  bytesIn: number;
  batchesIn: number;
  /** Messages lost, by cause. */
  lost: Record<LostCause, number>;
  /** NATS messages on the subject that are not a valid batch (dropped whole). */
  malformed: number;
  /** Times the connection came back after a disconnect. */
  reconnects: number;
  disconnects: number;
  /**
   * Disconnects where the NATS server closed our connection with no error and was still the
   * same server when we reconnected: what nats-server does to a slow consumer.
   */
  slowConsumerCuts: number;
  /** Times the backplane held local publishers because NATS had not confirmed our batches. */
  holds: number;
  heldMs: number;
}

/** What a STATS line and /metrics show of the backplane. */
export interface ClusterStats extends ClusterCounters {
  state: ClusterState;
  nodeId: string;
  /** Other nodes heard from since start. */
  sources: number;
}

export function emptyClusterCounters(): ClusterCounters {
  return {
    messagesOut: 0,
    bytesOut: 0,
    batchesOut: 0,
    messagesIn: 0,
    bytesIn: 0,
    batchesIn: 0,
    lost: { not_connected: 0, too_large: 0, slow_nats: 0, gap: 0, no_member: 0 },
    malformed: 0,
    reconnects: 0,
    disconnects: 0,
    slowConsumerCuts: 0,
    holds: 0,
    heldMs: 0,
  };
}

export type ClusterEvent =
  | {
      /** At start: who this node is and where it joins. */
      type: "cluster_starting";
      nodeId: string;
      subject: string;
      /** The servers, without credentials. */
      servers: string[];
    }
  | {
      type: "cluster_connected";
      server: string;
      /** The server's max_payload: the largest NATS message, header included. */
      maxPayload: number;
      /** True after a disconnect (a reconnect), false for the first connection. */
      reconnect: boolean;
      /** A reconnect: milliseconds since the disconnect. */
      downMs?: number;
    }
  | {
      /**
       * The NATS server's max_payload, when it matters: at the first connection if it is
       * below what this node can produce, and at every reconnect that finds another limit.
       */
      type: "cluster_max_payload";
      server: string;
      /** Bytes: the largest NATS message, the 22-byte batch header included. */
      maxPayload: number;
      /** The limit before this reconnect; absent at the first connection. */
      previous?: number;
      /** The longest message (payload bytes) that can cross the backplane now. */
      largestMessage: number;
      /**
       * This node accepts longer messages (--max-line, --max-frame): those are dropped by
       * the sender and counted as `too_large`.
       */
      limiting: boolean;
    }
  | {
      /** The first connection failed; the relay serves locally and retries. */
      type: "cluster_unreachable";
      servers: string[];
      reason: string;
      attempt: number;
      retryMs: number;
    }
  | {
      type: "cluster_disconnected";
      server: string;
      reason: string;
    }
  | {
      /**
       * An episode of batches this node dropped itself (`not_connected`, `slow_nats`,
       * `too_large`), reported when it ends (the connection is back, or shutdown).
       */
      type: "cluster_dropped";
      cause: Exclude<LostCause, "gap" | "no_member">;
      messages: number;
      batches: number;
    }
  | {
      /** A sender's count jumped: `messages` of its messages never arrived. */
      type: "cluster_gap";
      source: string;
      messages: number;
    }
  | {
      /** The first batch from a node, or one whose count went back (it restarted). */
      type: "cluster_source";
      source: string;
      restarted: boolean;
    }
  | {
      /** Something to look at: a NATS -ERR, a slow consumer cut, a malformed batch, … */
      type: "cluster_warning";
      message: string;
    }
  | {
      /**
       * Subject channel: another node's interest became known (`joined`), or it was forgotten
       * (`reason`: it left, or was not heard from).
       */
      type: "cluster_node";
      source: string;
      joined: boolean;
      reason: string;
    }
  | {
      /** Subject channel: another node's interest changed; `pairs` (subject, queue) it holds. Not logged. */
      type: "cluster_interest";
      source: string;
      pairs: number;
    }
  | {
      /** The backplane closed (shutdown). */
      type: "cluster_closed";
    };
