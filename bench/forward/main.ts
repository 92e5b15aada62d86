/**
 * `bun run bench:forward`: bulk MB/s (1 and 32 connections), 64-byte round trips with
 * p50/p99, and new connections per second (16-byte echo each) through our forwarder (with and
 * without --pool), haproxy and socat, in the same run, against the same upstream process.
 *
 * Each round starts every contender in turn (the order rotates between rounds), runs the
 * workloads, and stops it; the table shows the median over rounds and the ratio to haproxy.
 *
 * Flags: --rounds N (default 3), --seconds S per timed workload (default 2),
 * --bulk-mib M bytes per single-connection stream (default 512; 32 streams take M/16 each),
 * --concurrency C for new connections (default 8), --pool N for our pooled run (default 64).
 *
 * --tls: TLS termination instead (issue 14). A throwaway EC P-256 certificate is made for the
 * run; ours runs with --tls-cert/--tls-key, haproxy with `bind … ssl crt …` (default thread
 * count and nbthread 1); the same load client speaks TLS to each (the upstream stays
 * plaintext), and the protocol and cipher each contender negotiated are printed.
 */
import { parseArgs } from "node:util";
import {
  attempt,
  type MetricRow,
  medianTable,
  PIPE_BENCH_OPTIONS,
  RoundSamples,
  recordNewConns,
  recordRoundTrips,
  startTargetProcess,
} from "../lib/pipe-bench.ts";
import { type BenchCert, makeBenchCert } from "./bench-cert.ts";
import { availableContenders, type Contender, TLS_REFERENCE, tlsContenders } from "./contenders.ts";
import { bulk, type ClientTls, newConns, roundTrips } from "./load.ts";

const { values } = parseArgs({
  options: {
    ...PIPE_BENCH_OPTIONS,
    pool: { type: "string", default: "64" },
    tls: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const bulkBytes = Number(values["bulk-mib"]) * 1024 * 1024;
const concurrency = Number(values.concurrency);
const poolSize = Number(values.pool);
const cert: BenchCert | undefined = values.tls ? await makeBenchCert() : undefined;
/** Protocol and cipher by contender, from the load client's sockets. */
const negotiated = new Map<string, string>();

async function measure(
  contender: Contender,
  upstream: { echo: number; sink: number },
  onlyConns: boolean,
): Promise<MetricRow> {
  const result: MetricRow = {};
  const tls: ClientTls | undefined =
    cert === undefined ? undefined : { ca: cert.caText, serverName: "localhost" };
  if (!onlyConns) {
    const toSink = await contender.start(upstream.sink);
    try {
      const one = await attempt(contender.name, "bulk x1", () =>
        bulk(toSink.port, 1, bulkBytes, tls),
      );
      if (one !== undefined) result["bulk1 MB/s"] = one;
      const many = await attempt(contender.name, "bulk x32", () =>
        bulk(toSink.port, 32, Math.floor(bulkBytes / 16), tls),
      );
      if (many !== undefined) result["bulk32 MB/s"] = many;
    } finally {
      await toSink.stop();
    }
  }
  const toEcho = await contender.start(upstream.echo);
  try {
    if (!onlyConns) {
      const rtt = await attempt(contender.name, "round trips", () =>
        roundTrips(toEcho.port, seconds, tls),
      );
      recordRoundTrips(result, rtt);
    }
    const conns = await attempt(contender.name, "new connections", () =>
      newConns(toEcho.port, seconds, concurrency, tls),
    );
    recordNewConns(result, contender.name, conns);
  } finally {
    await toEcho.stop();
  }
  if (tls?.negotiated !== undefined) negotiated.set(contender.name, tls.negotiated);
  return result;
}

const upstream = await startTargetProcess("bench/forward/upstream.ts");
const { contenders, missing } =
  cert === undefined ? availableContenders(poolSize) : tlsContenders(cert);
const reference = cert === undefined ? "haproxy" : TLS_REFERENCE;
if (missing.length > 0) console.error(`not installed, left out: ${missing.join(", ")}`);
const samples = new RoundSamples();
console.error(
  `bench:forward${cert ? " --tls" : ""}: ${rounds} rounds, ${seconds}s timed workloads, bulk ${bulkBytes / 2 ** 20} MiB x1 and ${bulkBytes / 2 ** 24} MiB x32, ${concurrency} connect loops; Bun ${Bun.version}`,
);
try {
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map(
      (_, i) => contenders[(i + round) % contenders.length] as Contender,
    );
    for (const contender of order) {
      const onlyConns = contender.name.includes("--pool");
      const result = await measure(contender, upstream, onlyConns);
      samples.add(round, contender.name, result);
    }
  }
} finally {
  upstream.stop();
  cert?.remove();
}

const medians = samples.medians();
const table = medianTable(
  "forwarder",
  medians,
  medians.get(reference),
  (name) => name !== reference && !name.startsWith("direct"),
);
console.log(`Medians of ${rounds} rounds; ratios are to ${reference} in the same run.\n`);
console.log(table);
for (const [name, what] of negotiated) console.log(`negotiated by ${name}: ${what}`);
