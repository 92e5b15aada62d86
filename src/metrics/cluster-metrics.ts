/**
 * bun_relay_cluster_*: the NATS backplane's metrics (docs/cluster.md), registered only with
 * --cluster. Like every relay metric they read the backplane's running totals (its `stats()`)
 * at scrape time, so the cross-node path pays nothing for them. Apart from registry.ts because
 * they describe another subsystem, with labels (direction, cause) of their own.
 */
import { Counter, type Registry } from "prom-client";
import { type ClusterStats, LOST_CAUSES } from "../cluster/events.ts";
import { METRIC_PREFIX, scrapedCounter, scrapedGauge } from "./scraped-metrics.ts";

/** bun_relay_cluster_*: the NATS backplane (docs/cluster.md). Read at scrape time. */
export function clusterMetrics(registry: Registry, backplane: { stats(): ClusterStats }): void {
  const directed = (
    name: string,
    help: string,
    read: (stats: ClusterStats) => [out: number, inbound: number],
  ) =>
    new Counter({
      name: `${METRIC_PREFIX}cluster_${name}`,
      help,
      labelNames: ["direction"],
      registers: [registry],
      collect() {
        const [out, inbound] = read(backplane.stats());
        this.reset();
        this.inc({ direction: "out" }, out);
        this.inc({ direction: "in" }, inbound);
      },
    });
  directed(
    "messages_total",
    "Messages published to the backplane (out: this node's) and received from other nodes (in).",
    (s) => [s.messagesOut, s.messagesIn],
  );
  directed(
    "bytes_total",
    "Bytes of NATS message payloads (22-byte header and Submit frames) published and received.",
    (s) => [s.bytesOut, s.bytesIn],
  );
  directed("batches_total", "NATS messages (batches of messages) published and received.", (s) => [
    s.batchesOut,
    s.batchesIn,
  ]);
  new Counter({
    name: `${METRIC_PREFIX}cluster_lost_messages_total`,
    help:
      "Messages that did not cross the backplane, by cause: not_connected, too_large, slow_nats " +
      "(dropped by this node as sender), gap (another node's messages that never arrived here).",
    labelNames: ["cause"],
    registers: [registry],
    collect() {
      const stats = backplane.stats();
      this.reset();
      for (const cause of LOST_CAUSES) this.inc({ cause }, stats.lost[cause]);
    },
  });
  const scraped = (name: string, help: string, read: (stats: ClusterStats) => number) =>
    scrapedCounter(registry, `cluster_${name}`, help, () => read(backplane.stats()));
  scraped(
    "malformed_total",
    "NATS messages on the subject that are no valid batch (dropped whole).",
    (s) => s.malformed,
  );
  scraped(
    "reconnects_total",
    "Times the NATS connection came back after a disconnect.",
    (s) => s.reconnects,
  );
  scraped("disconnects_total", "Times the NATS connection was lost.", (s) => s.disconnects);
  scraped(
    "slow_consumer_cuts_total",
    "Disconnects where the NATS server closed our connection with no error and stayed up (a slow consumer cut).",
    (s) => s.slowConsumerCuts,
  );
  scraped(
    "holds_total",
    "Times the backplane held local publishers because NATS had not confirmed 4 MiB of our batches.",
    (s) => s.holds,
  );
  scraped(
    "held_seconds_total",
    "Time local publishers spent held by the backplane.",
    (s) => s.heldMs / 1000,
  );
  scrapedGauge(
    registry,
    "cluster_connected",
    "1 while the NATS backplane is connected, else 0.",
    () => (backplane.stats().state === "connected" ? 1 : 0),
  );
  scrapedGauge(
    registry,
    "cluster_nodes",
    "Relay nodes known on the backplane: this one plus every node a batch came from (with --nats-port: every node heard from in the last 6.5 s).",
    () => backplane.stats().sources + 1,
  );
}
