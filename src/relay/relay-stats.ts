/**
 * The relay's STATS figures: totals since start, and per interval for the message and byte
 * counts (as the Go relay's stats line). Reads the hub's plain counters, so the hot path pays
 * nothing; with --cluster it adds the backplane's figures.
 */
import type { Backplane } from "../cluster/backplane.ts";
import type { ClusterCounters } from "../cluster/events.ts";
import type { StatsSnapshot } from "./events.ts";
import type { Counters, Hub } from "./hub.ts";

/** What the figures are read from (the Relay). */
export interface StatsSource {
  readonly hub: Hub;
  readonly backplane: Backplane | undefined;
  readonly publisherCount: number;
  /** Line and frame subscribers (NATS clients are not counted as such). */
  readonly subscriberCount: number;
}

export class RelayStats {
  private readonly startedAt = performance.now();
  private last = {
    at: this.startedAt,
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    clusterOut: 0,
    clusterIn: 0,
  };

  constructor(private readonly source: StatsSource) {}

  /** Totals since start. */
  totals(): StatsSnapshot {
    return this.snapshot((performance.now() - this.startedAt) / 1000, this.source.hub.counters);
  }

  /**
   * The figures since the last call (or start): message and byte counts for the interval,
   * every other counter as a total, as the STATS line shows them.
   */
  interval(): StatsSnapshot {
    const now = performance.now();
    const counters = this.source.hub.counters;
    const last = this.last;
    const delta = {
      ...counters,
      messagesReceived: counters.messagesReceived - last.messagesReceived,
      messagesSent: counters.messagesSent - last.messagesSent,
      bytesReceived: counters.bytesReceived - last.bytesReceived,
      bytesSent: counters.bytesSent - last.bytesSent,
    };
    const cluster = this.source.backplane?.counters;
    this.last = {
      at: now,
      ...counters,
      clusterOut: cluster?.messagesOut ?? 0,
      clusterIn: cluster?.messagesIn ?? 0,
    };
    const clusterInterval = cluster && {
      messagesOut: cluster.messagesOut - last.clusterOut,
      messagesIn: cluster.messagesIn - last.clusterIn,
    };
    return this.snapshot((now - last.at) / 1000, delta, clusterInterval);
  }

  private snapshot(
    seconds: number,
    counters: Counters,
    clusterInterval?: Pick<ClusterCounters, "messagesOut" | "messagesIn">,
  ): StatsSnapshot {
    const { hub, backplane } = this.source;
    const snapshot: StatsSnapshot = {
      ...counters,
      seconds,
      publishers: this.source.publisherCount,
      subscribers: this.source.subscriberCount,
      pendingBytes: hub.pendingBytes,
    };
    if (backplane) snapshot.cluster = { ...backplane.stats(), ...clusterInterval };
    return snapshot;
  }
}
