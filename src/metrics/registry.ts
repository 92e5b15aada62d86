/**
 * The relay's Prometheus metrics, as a prom-client Registry.
 *
 * Nothing here runs per message. The relay already keeps plain running totals
 * (`hub.counters`) for its STATS line; every metric below reads them, or walks the subscriber
 * list, in its `collect()` callback, which prom-client calls only when /metrics is scraped.
 * So the hot path pays nothing for metrics, and a relay nobody scrapes does no metric work.
 *
 * Counters are restated at each scrape from the relay's own totals (scraped-metrics.ts); the
 * backplane's bun_relay_cluster_* metrics are in cluster-metrics.ts.
 */
import { Counter, Gauge, Registry } from "prom-client";
import pkg from "../../package.json" with { type: "json" };
import type { ClusterStats } from "../cluster/events.ts";
import { FrameErrorCode } from "../protocol/frame-codec.ts";
import type { SlowConsumerPolicy } from "../relay/options.ts";
import type { Counters } from "../relay/relay-stats.ts";
import { clusterMetrics } from "./cluster-metrics.ts";
import {
  METRIC_PREFIX,
  registerProcessMetrics,
  scrapedCounter,
  scrapedGauge,
} from "./scraped-metrics.ts";

/** What the metrics read from the relay. `Relay` (src/relay/server.ts) satisfies it. */
export interface MetricsSource {
  readonly hub: {
    readonly counters: Readonly<Counters>;
    readonly pendingBytes: number;
    readonly holdingPublishers: boolean;
    readonly frameErrors: ReadonlyMap<string, number>;
    readonly subscribers: readonly { readonly backlog: { readonly length: number } }[];
  };
  readonly publisherCount: number;
  readonly subscriberCount: number;
  /** Clients of the NATS and WebSocket ports, and their subscriptions (0 without either). */
  readonly natsClientCount: number;
  /** The WebSocket port's share of natsClientCount, and the upgrades it accepted. */
  readonly natsWsClientCount: number;
  readonly wsClientsAccepted: number;
  readonly natsSubscriptionCount: number;
  readonly config: { readonly maxPending: number; readonly slowConsumer: SlowConsumerPolicy };
  /** With --cluster: the backplane (its bun_relay_cluster_* metrics exist only then). */
  readonly backplane?: { stats(): ClusterStats } | undefined;
}

export interface MetricsRegistryOptions {
  /**
   * prom-client's process_* and nodejs_* metrics (CPU, memory, fds, start time, event loop
   * lag, heap), less the ones Bun cannot fill (scraped-metrics.ts, DROPPED_DEFAULT_METRICS).
   */
  defaultMetrics?: boolean;
}

/** The largest backlog of one subscriber. Walks every subscriber: scrape time only. */
function largestBacklog(source: MetricsSource): number {
  let largest = 0;
  for (const subscriber of source.hub.subscribers) {
    if (subscriber.backlog.length > largest) largest = subscriber.backlog.length;
  }
  return largest;
}

/**
 * Builds a registry holding every bun_relay_* metric and, by default, the process ones, all of
 * which pass `promtool check metrics` without a lint problem.
 */
export function createMetricsRegistry(
  source: MetricsSource,
  options: MetricsRegistryOptions = {},
): Registry {
  const registry = new Registry();
  const counters = source.hub.counters;

  new Gauge({
    name: `${METRIC_PREFIX}connections`,
    help: 'Connections open now, by side (publisher, subscriber, nats-client, ws-client). side="subscriber" is the article\'s clients connected.',
    labelNames: ["side"],
    registers: [registry],
    collect() {
      this.set({ side: "publisher" }, source.publisherCount);
      this.set({ side: "subscriber" }, source.subscriberCount);
      this.set({ side: "nats-client" }, source.natsClientCount - source.natsWsClientCount);
      this.set({ side: "ws-client" }, source.natsWsClientCount);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}connections_accepted_total`,
    help: "Connections accepted by each listener since start, those refused by --max-conns included.",
    labelNames: ["side"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ side: "publisher" }, counters.publishersAccepted);
      this.inc({ side: "subscriber" }, counters.subscribersAccepted);
      this.inc({ side: "nats-client" }, counters.natsClientsAccepted - source.wsClientsAccepted);
      this.inc({ side: "ws-client" }, source.wsClientsAccepted);
    },
  });
  scrapedCounter(
    registry,
    "connections_refused_total",
    "Connections closed right after accept because --max-conns connections were open.",
    () => counters.refusedConnections,
  );

  scrapedCounter(
    registry,
    "received_messages_total",
    "Messages received from publishers (complete lines).",
    () => counters.messagesReceived,
  );
  scrapedCounter(
    registry,
    "sent_messages_total",
    "Message deliveries to subscribers: one message to three subscribers counts three.",
    () => counters.messagesSent,
  );
  scrapedCounter(
    registry,
    "received_bytes_total",
    "Bytes read from publishers, newlines and unfinished lines included.",
    () => counters.bytesReceived,
  );
  scrapedCounter(
    registry,
    "sent_bytes_total",
    "Bytes handed to subscribers (written, or queued in their backlog), newlines included.",
    () => counters.bytesSent,
  );

  scrapedCounter(
    registry,
    "slow_consumer_disconnects_total",
    "Subscribers disconnected because their backlog would pass --max-pending (policy disconnect, or stall after --stall-timeout).",
    () => counters.slowConsumerDisconnects,
  );
  scrapedCounter(
    registry,
    "write_timeouts_total",
    "Subscribers disconnected for taking no bytes for --write-timeout while data waited.",
    () => counters.writeTimeouts,
  );
  scrapedCounter(
    registry,
    "dropped_messages_total",
    "Message deliveries dropped for subscribers over --max-pending (policy drop).",
    () => counters.messagesDropped,
  );
  scrapedCounter(
    registry,
    "publisher_pauses_total",
    "Times every publisher was held because a backlog passed the high-water mark (policies stall, block).",
    () => counters.publisherPauses,
  );
  scrapedCounter(
    registry,
    "publishers_held_seconds_total",
    "Time publishers spent held by subscriber backlogs (policies stall, block).",
    () => counters.publishersHeldMs / 1000,
  );
  scrapedCounter(
    registry,
    "stall_timeouts_total",
    "Subscribers that held publishers for --stall-timeout and were left behind (policy stall).",
    () => counters.stallTimeouts,
  );
  scrapedGauge(
    registry,
    "publishers_held",
    "1 while publishers are held (policies stall, block), else 0.",
    () => (source.hub.holdingPublishers ? 1 : 0),
  );
  scrapedCounter(
    registry,
    "submits_received_total",
    "Submit frames received from frame publishers (seed 003 protocol).",
    () => counters.submitsReceived,
  );
  new Counter({
    name: `${METRIC_PREFIX}acks_sent_total`,
    help: "ConnAck and SubmitAck frames sent to frame clients, by result (ok: 0, failed: 1).",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "ok" }, counters.acksOk);
      this.inc({ result: "failed" }, counters.acksFailed);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}frame_errors_total`,
    help: "Frame connections closed for a malformed frame, by FRAME_ERR_* code.",
    labelNames: ["code"],
    registers: [registry],
    collect() {
      this.reset();
      // Every code from the start, at 0, so a rate() works before the first error.
      for (const code of Object.values(FrameErrorCode)) {
        this.inc({ code }, source.hub.frameErrors.get(code) ?? 0);
      }
    },
  });
  scrapedCounter(
    registry,
    "auth_failures_total",
    "Frame and NATS connections refused for missing or wrong credentials (--token, --user/--pass).",
    () => counters.authFailures,
  );
  scrapedCounter(
    registry,
    "messages_not_lines_total",
    "Messages of frame publishers or NATS clients not given to line subscribers because the payload holds a newline.",
    () => counters.messagesNotLines,
  );
  scrapedCounter(
    registry,
    "messages_too_large_for_nats_total",
    "Line and frame messages not given to NATS subscribers because they are larger than --max-payload.",
    () => counters.messagesTooLargeForNats,
  );
  scrapedGauge(
    registry,
    "nats_subscriptions",
    "Subscriptions of the NATS port's clients now (SUB, queue subscriptions included).",
    () => source.natsSubscriptionCount,
  );
  scrapedCounter(
    registry,
    "lines_too_long_total",
    "Publisher lines longer than --max-line; each closes its publisher.",
    () => counters.linesTooLong,
  );

  scrapedGauge(
    registry,
    "pending_bytes",
    "Bytes queued in the relay for all subscribers that the kernel has not taken yet.",
    () => source.hub.pendingBytes,
  );
  scrapedGauge(
    registry,
    "subscriber_pending_bytes_max",
    "The largest backlog of one subscriber, in bytes (the bound is bun_relay_max_pending_bytes).",
    () => largestBacklog(source),
  );
  scrapedGauge(
    registry,
    "max_pending_bytes",
    "--max-pending: the bytes one subscriber may have queued before the slow-consumer policy acts.",
    () => source.config.maxPending,
  );

  if (source.backplane) clusterMetrics(registry, source.backplane);

  const info = new Gauge({
    name: `${METRIC_PREFIX}info`,
    help: "Always 1; the labels say which relay this is.",
    labelNames: ["version", "bun_version", "slow_consumer_policy"],
    registers: [registry],
  });
  info.set(
    {
      version: pkg.version,
      bun_version: Bun.version,
      slow_consumer_policy: source.config.slowConsumer,
    },
    1,
  );

  if (options.defaultMetrics ?? true) registerProcessMetrics(registry);
  return registry;
}
