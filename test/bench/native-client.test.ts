import { describe, expect, test } from "bun:test";
import { runsOnNativeClient, SCENARIOS } from "../../bench/compare/scenarios.ts";
import { parseBenchArgs } from "../../bench/lib/args.ts";
import { ensureNativeClient } from "../../bench/native/build.ts";
import {
  type NativeOutput,
  nativeArgs,
  nativeCanRun,
  nativeToBenchResult,
  needsBuild,
  parseNativeOutput,
  unsupported,
} from "../../bench/native/native-result.ts";
import { relayTarget } from "../nats/relay-target.ts";
import { NatsServer, natsMissing } from "../support/nats-server.ts";

const sample: NativeOutput = {
  client: "native",
  threads: 2,
  protocol: "line",
  pubs: 4,
  subs: 16,
  msgSize: 80,
  msgsPerWrite: 819,
  windowSec: 5,
  sent: 1_000_000,
  received: 16_000_000,
  sentRate: 200_000,
  receivedRate: 3_200_000,
  expectedReceived: 16_000_000,
  sentTotal: 1_300_000,
  receivedTotal: 20_799_990,
  expectedTotal: 20_800_000,
  lost: 10,
  duplicated: 0,
  sequenceGaps: 0,
  reordered: 0,
  malformed: 0,
  sampled: 1234,
  disconnected: 0,
  drainSec: 3,
  runSec: 9.3,
  complete: false,
};

describe("native saturation client: interface", () => {
  test("only saturation runs without stalled or idle subscribers go native", () => {
    const byTarget = (t: number) => SCENARIOS.filter((s) => s.target === t);
    for (const t of [1, 2, 3]) for (const s of byTarget(t)) expect(nativeCanRun(s.args)).toBe(true);
    for (const t of [4, 5, 6, 7])
      for (const s of byTarget(t)) expect(nativeCanRun(s.args)).toBe(false);
    expect(nativeCanRun(["--rate", "0", "--stalled", "1"])).toBe(false);
    expect(nativeCanRun(["--pub", "1"])).toBe(false);
    expect(nativeCanRun(["--rate", "0", "--rate", "1000000"])).toBe(false);
  });

  test("a scenario goes native only when all its contenders can (target 8 stays on one client)", () => {
    const byTarget = (t: number) => SCENARIOS.filter((s) => s.target === t);
    for (const t of [1, 2, 3])
      for (const s of byTarget(t)) expect(runsOnNativeClient(s)).toBe(true);
    expect(byTarget(8).length).toBeGreaterThan(0);
    for (const s of byTarget(8)) expect(runsOnNativeClient(s)).toBe(false);
  });

  test("bench flags become sat_client flags", () => {
    const options = parseBenchArgs([
      "--rate",
      "0",
      "--pub",
      "4",
      "--sub",
      "16",
      "--msg-size",
      "80",
      "--msgs-per-write",
      "1",
      "--pub-port",
      "9001",
      "--sub-port",
      "9002",
      "--duration",
      "5",
    ]);
    expect(unsupported(options)).toBeUndefined();
    const args = nativeArgs(options, 2);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag("--pub")).toBe("4");
    expect(flag("--sub")).toBe("16");
    expect(flag("--pub-port")).toBe("9001");
    expect(flag("--sub-port")).toBe("9002");
    expect(flag("--msgs-per-write")).toBe("1");
    expect(flag("--threads")).toBe("2");
    expect(args).not.toContain("--protocol");
    const nats = nativeArgs(parseBenchArgs(["--rate", "0", "--protocol", "nats"]), 1);
    expect(nats[nats.indexOf("--protocol") + 1]).toBe("nats");
    expect(nats).not.toContain("--subjects");
    const subjects = nativeArgs(
      parseBenchArgs(["--rate", "0", "--protocol", "nats", "--subjects", "1000"]),
      2,
    );
    expect(
      subjects.slice(subjects.indexOf("--subjects"), subjects.indexOf("--subjects") + 2),
    ).toEqual(["--subjects", "1000"]);
    expect(subjects[subjects.indexOf("--sub") + 1]).toBe("1000");
    expect(args).not.toContain("--framing");
    const frames = nativeArgs(
      parseBenchArgs(["--rate", "0", "--framing", "frame", "--frame-codes", "article"]),
      2,
    );
    expect(frames.slice(frames.indexOf("--framing"))).toEqual([
      "--framing",
      "frame",
      "--ack-cmd",
      "0x81",
    ]);
    const spec = nativeArgs(parseBenchArgs(["--rate", "0", "--framing", "frame"]), 2);
    expect(spec[spec.indexOf("--ack-cmd") + 1]).toBe("0x82");
  });

  test("runs it cannot do are refused with a reason", () => {
    expect(unsupported(parseBenchArgs(["--rate", "1000"]))).toContain("--rate 0");
    expect(unsupported(parseBenchArgs(["--rate", "0", "--idle", "5"]))).toContain("--idle");
    expect(unsupported(parseBenchArgs(["--rate", "0", "--msg-size", "20"]))).toContain("40");
  });

  test("its JSON line becomes a BenchResult: loss exact from the drain, no latency", () => {
    const out = parseNativeOutput(`noise\n${JSON.stringify(sample)}\n`);
    const options = parseBenchArgs(["--rate", "0", "--duration", "5", "--warmup", "1"]);
    const samples = { cpuPct: 150, rssBytes: 2 * 2 ** 20, rssBaselineBytes: null };
    const r = nativeToBenchResult(options, "relay x", out, samples);
    expect(r.receivedRate).toBe(3_200_000);
    expect(r.params.pubs).toBe(4);
    expect(r.params.rate).toBe(0);
    expect(r.lost).toBe(10);
    expect(r.latencyMs.p99Ms).toBeNaN();
    expect(r.relayCpuPct).toBe(150);
    expect(r.relayRssMb).toBe(2);
    expect(r.relayRssBaselineMb).toBeNull();
    expect(r.relay).toContain("native");
    // A gap seen by the sampled sequence check counts even if a duplicate hid it in the totals.
    expect(
      nativeToBenchResult(options, "x", { ...out, lost: 0, sequenceGaps: 3 }, samples).lost,
    ).toBe(3);
  });

  test("in frame mode its acks become the result's acks (no latency measured)", () => {
    const options = parseBenchArgs(["--rate", "0", "--framing", "frame", "--duration", "5"]);
    const samples = { cpuPct: null, rssBytes: null, rssBaselineBytes: null };
    const framed = { ...sample, framing: "frame" as const, acks: 1_000_000, acksTotal: 1_300_000 };
    const r = nativeToBenchResult(options, "x", { ...framed, badAcks: 2, unacked: 1 }, samples);
    expect(r.params.framing).toBe("frame");
    expect(r.acks).toMatchObject({ inWindow: 1_000_000, rate: 200_000, outOfOrder: 2, unacked: 1 });
    expect(r.acks?.latencyMs.count).toBe(0);
    expect(nativeToBenchResult(options, "x", sample, samples).acks).toBeNull();
  });

  test("output without a result line is an error", () => {
    expect(() => parseNativeOutput("")).toThrow();
    expect(() => parseNativeOutput('{"client":"other"}')).toThrow();
  });

  test("the binary is rebuilt when missing or older than the source", () => {
    expect(needsBuild(100, undefined)).toBe(true);
    expect(needsBuild(100, 50)).toBe(true);
    expect(needsBuild(100, 100)).toBe(false);
    expect(needsBuild(100, 200)).toBe(false);
  });
});

describe.skipIf(Bun.which("cc") === null)("native saturation client: the C program", () => {
  test("a raw loopback stream arrives whole: nothing lost, duplicated or mangled", () => {
    const binary = ensureNativeClient();
    const run = Bun.spawnSync(
      [binary, "--loopback", "--duration", "0.5", "--warmup", "0.2", "--drain", "2"],
      { timeout: 20_000 },
    );
    expect(run.exitCode).toBe(0);
    const out = parseNativeOutput(run.stdout.toString());
    expect(out.complete).toBe(true);
    expect(out.sentTotal).toBeGreaterThan(0);
    expect(out.receivedTotal).toBe(out.sentTotal);
    expect(out.lost + out.duplicated + out.reordered + out.malformed + out.sequenceGaps).toBe(0);
    expect(out.sampled).toBeGreaterThan(0);
  }, 30_000);

  /** A short --protocol nats run of 2 publishers -> 3 subscribers against a NATS server on `port`. */
  async function natsRun(port: number): Promise<NativeOutput> {
    const child = Bun.spawn(
      [
        ensureNativeClient(),
        ...["--protocol", "nats", "--pub-port", String(port), "--pub", "2", "--sub", "3"],
        // 7 messages per write: the server's reads end anywhere inside a MSG.
        ...["--msgs-per-write", "7", "--duration", "0.3", "--warmup", "0.1", "--drain", "5"],
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    expect({ code, stderr: stderr.replace(/window-(start|end)\n/g, "") }).toEqual({
      code: 0,
      stderr: "",
    });
    return parseNativeOutput(stdout);
  }

  function expectEveryMsgWhole(out: NativeOutput): void {
    expect(out.protocol).toBe("nats");
    expect(out.complete).toBe(true);
    expect(out.sentTotal).toBeGreaterThan(0);
    expect(out.receivedTotal).toBe(out.sentTotal * 3);
    expect(out.lost + out.duplicated + out.reordered + out.malformed + out.disconnected).toBe(0);
    expect(out.sampled).toBeGreaterThan(0);
  }

  test("NATS: our relay's NATS port delivers every PUB as one whole MSG to each subscriber", async () => {
    const relay = await relayTarget.start({});
    try {
      expectEveryMsgWhole(await natsRun(relay.port));
    } finally {
      await relay.stop();
    }
  }, 30_000);

  test.skipIf(natsMissing !== undefined)(
    "NATS: nats-server delivers every PUB as one whole MSG to each subscriber",
    async () => {
      const server = await NatsServer.start();
      try {
        expectEveryMsgWhole(await natsRun(server.port));
      } finally {
        await server.stop();
      }
    },
    30_000,
  );

  test("bad flags exit 2", () => {
    const run = Bun.spawnSync([ensureNativeClient(), "--threads", "3"], { timeout: 10_000 });
    expect(run.exitCode).toBe(2);
  });
});
