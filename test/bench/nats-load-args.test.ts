import { describe, expect, test } from "bun:test";
import { UsageError } from "../../bench/lib/args.ts";
import {
  type HoldOutput,
  holdArgs,
  natsLoadToBenchResult,
  parseNatsLoadArgs,
  type ReqrepOutput,
  reqrepArgs,
} from "../../bench/native/nats-load-args.ts";

const SAMPLES = { cpuPct: 99, rssBytes: 64 * 2 ** 20, rssBaselineBytes: 40 * 2 ** 20 };

describe("parseNatsLoadArgs", () => {
  test("defaults: 50 requesters, 80 B, 10,000 connections x 10 in waves of 256", () => {
    expect(parseNatsLoadArgs(["--load", "reqrep"])).toMatchObject({
      load: "reqrep",
      host: "127.0.0.1",
      port: 7001,
      requesters: 50,
      msgSize: 80,
      conns: 10_000,
      subsPerConn: 10,
      wave: 256,
      duration: 5,
      warmup: 1,
      drain: 3,
      relayCmd: undefined,
      json: false,
      allowLoss: false,
    });
  });

  test("accepts what bench:compare passes every runner, and ignores what it does not use", () => {
    const o = parseNatsLoadArgs([
      ...["--load", "hold", "--conns", "100", "--protocol", "nats", "--pub-port", "27001"],
      ...["--sub-port", "27001", "--duration", "2", "--warmup", "0", "--drain", "1"],
      ...["--relay-cmd", "nats-server -a 127.0.0.1 -p {port}", "--allow-loss", "--json"],
    ]);
    expect(o).toMatchObject({
      load: "hold",
      conns: 100,
      port: 27001,
      duration: 2,
      relayCmd: "nats-server -a 127.0.0.1 -p {port}",
      allowLoss: true,
      json: true,
    });
  });

  test.each([
    [[]],
    [["--load", "fanout"]],
    [["--load", "hold", "--wave", "257"]],
    [["--load", "reqrep", "--requesters", "0"]],
    [["--load", "reqrep", "--protocol", "line"]],
    [["--load", "reqrep", "--bogus"]],
  ])("rejects %p", (argv) => {
    expect(() => parseNatsLoadArgs(argv)).toThrow(UsageError);
  });
});

describe("the native clients' flags and results", () => {
  test("reqrep and hold flags", () => {
    const o = parseNatsLoadArgs(["--load", "reqrep", "--pub-port", "4222", "--requesters", "7"]);
    expect(reqrepArgs(o)).toEqual(
      "--host 127.0.0.1 --port 4222 --requesters 7 --msg-size 80 --duration 5 --warmup 1 --drain 3".split(
        " ",
      ),
    );
    const h = parseNatsLoadArgs(["--load", "hold", "--pub-port", "4222", "--wave", "64"]);
    expect(holdArgs(h)).toEqual(
      "--host 127.0.0.1 --port 4222 --conns 10000 --subs-per-conn 10 --wave 64 --duration 5".split(
        " ",
      ),
    );
  });

  test("a reqrep line: requests/s as both rates, round trips as latency, unanswered as lost", () => {
    const out: ReqrepOutput = {
      client: "nats-reqrep",
      requesters: 50,
      msgSize: 80,
      windowSec: 5,
      requests: 150_000,
      requestRate: 30_000,
      avgMs: 1.5,
      p50Ms: 1.4,
      p90Ms: 2,
      p99Ms: 3.5,
      p999Ms: 5,
      maxMs: 9,
      unanswered: 2,
      malformed: 1,
    };
    const r = natsLoadToBenchResult(
      parseNatsLoadArgs(["--load", "reqrep"]),
      "nats",
      out,
      SAMPLES,
      60,
    );
    expect(r).toMatchObject({
      sentRate: 30_000,
      receivedRate: 30_000,
      received: 150_000,
      lost: 2,
      malformedLines: 1,
      relayCpuPct: 99,
      relayRssMb: 64,
      relayRssBaselineMb: 40,
      clientCpuPct: 60,
    });
    expect(r.latencyMs).toMatchObject({ p50Ms: 1.4, p99Ms: 3.5, p999Ms: 5, maxMs: 9 });
  });

  test("a hold line: no rates, unconfirmed connections as lost, the RSS as sampled", () => {
    const out: HoldOutput = {
      client: "nats-hold",
      conns: 10_000,
      subsPerConn: 10,
      subscriptions: 100_000,
      connectSec: 4.2,
      idleSec: 5,
      confirmed: 9_999,
    };
    const r = natsLoadToBenchResult(parseNatsLoadArgs(["--load", "hold"]), "ours", out, SAMPLES, 1);
    expect(r.receivedRate).toBeNaN();
    expect(r.latencyMs.p99Ms).toBeNaN();
    expect(r).toMatchObject({ lost: 1, relayRssMb: 64, params: { pubs: 10_000, subs: 100_000 } });
  });
});
