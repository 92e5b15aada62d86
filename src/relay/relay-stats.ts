/**
 * The relay's counters (Counters: plain numbers the hub and the connections add to on the
 * hot path) and its STATS figures made of them: totals since start, and per interval for the
 * message and byte counts (as the Go relay's stats line). Reading plain counters costs the
 * hot path nothing; with --cluster the figures add the backplane's.
 */
import type { Backplane } from "../cluster/backplane.ts";
import type { ClusterCounters } from "../cluster/events.ts";
import type { StatsSnapshot } from "./events.ts";
import type { Hub } from "./hub.ts";

/** Running totals since the relay started. */
export interface Counters {
  messagesReceived: number;
  /** Message deliveries: one message to three subscribers counts three. */
  messagesSent: number;
  bytesReceived: number;
  /** Bytes handed to subscribers (written, or queued in their backlog). */
  bytesSent: number;
  slowConsumerDisconnects: number;
  writeTimeouts: number;
  /** Policy `drop`: message deliveries dropped. */
  messagesDropped: number;
  /** Policies `block` and `stall`: times publishers were held. */
  publisherPauses: number;
  /** Policies `block` and `stall`: milliseconds publishers spent held, in total. */
  publishersHeldMs: number;
  /** Policy `stall`: subscribers that held publishers for --stall-timeout and were left behind. */
  stallTimeouts: number;
  linesTooLong: number;
  /** Frame publishers: Submit frames received (each is also a message received). */
  submitsReceived: number;
  /** Frame clients: SubmitAck/ConnAck frames sent with result 0, and with result 1. */
  acksOk: number;
  acksFailed: number;
  /** Frame connections closed for a malformed frame (by code: Hub.frameErrors). */
  frameErrors: number;
  /** Frame connections refused for a missing or wrong --token. */
  authFailures: number;
  /** Messages from frame publishers not given to line subscribers: the payload holds `\n`. */
  messagesNotLines: number;
  /** Line/frame messages not given to NATS subscribers: larger than --max-payload. */
  messagesTooLargeForNats: number;
  /** Connections closed at accept because of --max-conns. */
  refusedConnections: number;
  /** Connections accepted by each listener, refused ones included (read by /metrics). */
  publishersAccepted: number;
  subscribersAccepted: number;
  /** Clients accepted by the NATS port, refused ones included. */
  natsClientsAccepted: number;
}

/** Counters at zero (the hub's, at start). */
export function newCounters(): Counters {
  return {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    slowConsumerDisconnects: 0,
    writeTimeouts: 0,
    messagesDropped: 0,
    publisherPauses: 0,
    publishersHeldMs: 0,
    stallTimeouts: 0,
    linesTooLong: 0,
    submitsReceived: 0,
    acksOk: 0,
    acksFailed: 0,
    frameErrors: 0,
    authFailures: 0,
    messagesNotLines: 0,
    messagesTooLargeForNats: 0,
    refusedConnections: 0,
    publishersAccepted: 0,
    subscribersAccepted: 0,
    natsClientsAccepted: 0,
  };
}

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
