/**
 * The human-readable report. Its first lines are exactly the article's Go
 * client's (same wording, same number formats), so the two outputs can be
 * diffed or pasted side by side; our additional figures follow the closing
 * `======================` line.
 */
import type { LatencySummary } from "../lib/latency-histogram.ts";
import { formatRelayLog } from "../lib/relay-log.ts";
import { ARTICLE_FIGURES, isArticleScenario, type PublishedFigures } from "./article-figures.ts";
import type { AckResult, BenchResult } from "./bench-result.ts";

const ms = (value: number) => value.toFixed(3);

/** `bench_client start` and the parameter line, printed before the run. */
export function headerLines(
  p: BenchResult["params"] & { frameCodes?: "spec" | "article" },
): string[] {
  const framing = p.framing === "frame" ? ` framing=frame codes=${p.frameCodes ?? "spec"}` : "";
  return [
    "bench_client start",
    `pubs=${p.pubs} subs=${p.subs} rate=${p.rate}/pub msg_size=${p.msgSize} duration=${p.duration}s threads=${p.threads}${framing}`,
  ];
}

/**
 * Frame mode: the publishers' SubmitAcks, `Acks: N in window (R/s) ...`, then what went
 * wrong with them, if anything.
 */
export function ackLine(a: AckResult): string {
  const l = a.latencyMs;
  const latency =
    l.count === 0
      ? "no samples"
      : `avg=${ms(l.avgMs)} p50=${ms(l.p50Ms)} p90=${ms(l.p90Ms)} p99=${ms(l.p99Ms)} p99.9=${ms(l.p999Ms)} max=${ms(l.maxMs)}`;
  const problems = [
    a.failed > 0 ? `failed=${a.failed}` : "",
    a.outOfOrder > 0 ? `out of order=${a.outOfOrder}` : "",
    a.unacked > 0 ? `never acked=${a.unacked}` : "",
    a.errors > 0 ? `not acks=${a.errors}` : "",
  ].filter((s) => s !== "");
  return (
    `Acks: ${a.inWindow} in window (${a.rate.toFixed(2)} acks/s), ${a.received} in all; ` +
    `submit-to-ack latency (ms): ${latency}; ${problems.length === 0 ? "all in order, result 0" : problems.join(", ")}`
  );
}

/** The article's result block. */
export function articleBlock(r: BenchResult): string[] {
  const l = r.latencyMs;
  return [
    "==== bench result ====",
    `Sent: ${r.sent} msgs (${r.sentRate.toFixed(2)} msg/s)`,
    `Recv: ${r.received} msgs (${r.receivedRate.toFixed(2)} msg/s)`,
    l.count === 0
      ? "latency: no samples"
      : `Latency (ms): avg=${ms(l.avgMs)} p50=${ms(l.p50Ms)} p90=${ms(l.p90Ms)} p99=${ms(l.p99Ms)}`,
    "======================",
  ];
}

function fullPercentiles(l: LatencySummary): string {
  return (
    `avg=${ms(l.avgMs)} p50=${ms(l.p50Ms)} p90=${ms(l.p90Ms)} p99=${ms(l.p99Ms)} ` +
    `p99.9=${ms(l.p999Ms)} p99.99=${ms(l.p9999Ms)} max=${ms(l.maxMs)}`
  );
}

/** Our lines after the block: tail latency, corrected latency, delivery, window. */
export function extraLines(r: BenchResult): string[] {
  const l = r.latencyMs;
  const lines = [
    ...(r.acks == null ? [] : [ackLine(r.acks)]),
    `Latency tail (ms): p99.9=${ms(l.p999Ms)} p99.99=${ms(l.p9999Ms)} max=${ms(l.maxMs)} min=${ms(l.minMs)} samples=${l.count}`,
  ];
  if (r.correctedLatencyMs !== null) {
    lines.push(
      `Corrected latency (ms, from scheduled send): ${fullPercentiles(r.correctedLatencyMs)}`,
    );
  } else {
    lines.push("Corrected latency: n/a at --rate 0 (no schedule to be late against)");
  }
  lines.push(
    `Delivery: expected=${r.expectedReceived} received=${r.received} lost=${r.lost} ` +
      `duplicated=${r.duplicated} reordered=${r.reordered}`,
  );
  const oddities = [
    r.malformedLines > 0 ? `malformed lines=${r.malformedLines}` : "",
    r.foreignLines > 0 ? `lines from unknown publishers=${r.foreignLines}` : "",
    r.negativeLatencySamples > 0
      ? `negative latency samples=${r.negativeLatencySamples} (clock)`
      : "",
    r.disconnectedSubscribers > 0
      ? `subscribers disconnected early=${r.disconnectedSubscribers}`
      : "",
    r.unflushedBytes > 0 ? `bytes never accepted by the relay=${r.unflushedBytes}` : "",
  ].filter((s) => s !== "");
  if (oddities.length > 0) lines.push(`Warnings: ${oddities.join(", ")}`);
  if (r.relayLog !== null) lines.push(formatRelayLog(r.relayLog));
  if (r.extraSubscribers.length > 0) lines.push(extraSubscribersLine(r.extraSubscribers));
  lines.push(
    `Window: ${r.windowSec.toFixed(3)} s measured after ${r.params.warmup} s warmup ` +
      `(rates divide by it); relay: ${r.relay}`,
  );
  if (isArticleScenario(r.params)) lines.push("", ...articleTable(r));
  return lines;
}

/**
 * The stalled, slow-reader and pausing extra subscribers: what each read and whether the
 * client saw it closed (the relay's log, when read, is the authority on cuts).
 */
export function extraSubscribersLine(extras: BenchResult["extraSubscribers"]): string {
  const shown = extras.slice(0, 5).map((e) => {
    const closed =
      e.closedAtSec === null ? "not seen closed" : `closed at +${e.closedAtSec.toFixed(2)} s`;
    return `${e.kind} :${e.port} read ${(e.bytes / 1e6).toFixed(1)} MB, ${closed}`;
  });
  if (extras.length > shown.length) shown.push(`${extras.length - shown.length} more`);
  return `Extra subscribers (not counted; as the client saw them): ${shown.join("; ")}`;
}

function grouped(value: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** Our figures beside the article's Go and C++ relays, as a Markdown table. */
export function articleTable(r: BenchResult): string[] {
  const ours: PublishedFigures = {
    label: "this run",
    sentRate: r.sentRate,
    recvRate: r.receivedRate,
    avgMs: r.latencyMs.avgMs,
    p50Ms: r.latencyMs.p50Ms,
    p90Ms: r.latencyMs.p90Ms,
    p99Ms: r.latencyMs.p99Ms,
  };
  const row = (f: PublishedFigures) =>
    `| ${f.label} | ${grouped(f.sentRate)} | ${grouped(f.recvRate)} | ${ms(f.avgMs)} | ${ms(f.p50Ms)} | ${ms(f.p90Ms)} | ${ms(f.p99Ms)} |`;
  return [
    "Article scenario (1 pub, 3 subs, 10000/s, 80 B); the article's rows are from its own 16-thread machine:",
    "| run | sent msg/s | recv msg/s | avg ms | p50 | p90 | p99 |",
    "|---|---|---|---|---|---|---|",
    row(ours),
    ...ARTICLE_FIGURES.map(row),
  ];
}
