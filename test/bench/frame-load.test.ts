/**
 * The framed load clients (issue 12): frame_load.c and its wrapper (bench/native/frame-load.ts),
 * sat_client.c's --framing frame, and `bun run bench --framing frame`, the last three run
 * briefly against a real relay (in this process, on free ports).
 */
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { ensureFrameLoad, ensureNativeClient } from "../../bench/native/build.ts";
import {
  badAcks,
  type FrameLoadOutput,
  frameCodesFor,
  frameLoadArgs,
  frameLoadLines,
  frameLoadToBenchResult,
  parseFrameLoadArgs,
  parseFrameLoadOutput,
  runFrameLoad,
} from "../../bench/native/frame-load.ts";
import { parseNativeOutput } from "../../bench/native/native-result.ts";
import type { BenchResult } from "../../bench/report/bench-result.ts";
import { relayPerTest } from "../support/harness.ts";

const REPO = path.resolve(import.meta.dir, "../..");

const sample: FrameLoadOutput = {
  client: "frame-load",
  conns: 16,
  window: 64,
  payload: 64,
  ackCmd: 0x81,
  threads: 1,
  windowSec: 5,
  acks: 10_000_000,
  acksPerSec: 2_000_000,
  submitsTotal: 12_000_000,
  acksTotal: 12_000_000,
  unacked: 0,
  badId: 0,
  badResult: 0,
  badCmd: 0,
  badLength: 0,
  disconnected: 0,
  latencyUs: { count: 10_000_000, mean: 500, p50: 450, p90: 700, p99: 1200, p999: 3000, max: 9000 },
  drainSec: 0.001,
  runSec: 6,
};

describe("frame-load wrapper: flags and output", () => {
  test("defaults: 16 x 64, 64 B, the seed table's SubmitAck, our relay's port", () => {
    const o = parseFrameLoadArgs([]);
    expect(o).toMatchObject({ host: "127.0.0.1", port: 7001, subPort: 7002, conns: 16 });
    expect(o).toMatchObject({ window: 64, payload: 64, ackCmd: 0x82, threads: 1 });
  });

  test("--connect HOST:PORT, --ack-cmd in hex, and the flags bench:compare adds", () => {
    const o = parseFrameLoadArgs(
      "--connect 10.0.0.1:8888 --conns 100 --window 1 --ack-cmd 0x81 --duration 5 --warmup 1 --drain 3 --allow-loss --json".split(
        " ",
      ),
    );
    expect(o).toMatchObject({ host: "10.0.0.1", port: 8888, conns: 100, window: 1, ackCmd: 0x81 });
    expect(o).toMatchObject({ allowLoss: true, json: true, duration: 5 });
    const args = frameLoadArgs(o);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag("--connect")).toBe("10.0.0.1:8888");
    expect(flag("--ack-cmd")).toBe("0x81");
    expect(flag("--window")).toBe("1");
  });

  test("bad values are usage errors", () => {
    expect(() => parseFrameLoadArgs(["--ack-cmd", "0x100"])).toThrow(/byte/);
    expect(() => parseFrameLoadArgs(["--conns", "0"])).toThrow(/--conns/);
    expect(() => parseFrameLoadArgs(["--connect", "nowhere"])).toThrow(/HOST:PORT/);
    expect(() => parseFrameLoadArgs(["--relay-cmd", "x", "--no-spawn"])).toThrow();
  });

  test("the ack code says which --frame-codes our relay needs", () => {
    expect(frameCodesFor(0x82)).toBe("spec");
    expect(frameCodesFor(0x81)).toBe("article");
    expect(frameCodesFor(0x80)).toBeUndefined();
  });

  test("its JSON line becomes a BenchResult with acks/s and ack latency", () => {
    const out = parseFrameLoadOutput(`noise\n${JSON.stringify(sample)}\n`);
    const r = frameLoadToBenchResult(parseFrameLoadArgs([]), "go", out, {
      cpuPct: 90,
      rssBytes: null,
      rssBaselineBytes: null,
    });
    expect(r.receivedRate).toBe(2_000_000);
    expect(r.acks?.rate).toBe(2_000_000);
    expect(r.acks?.latencyMs.p99Ms).toBe(1.2);
    expect(r.latencyMs.p50Ms).toBe(0.45);
    expect(r.params).toMatchObject({ pubs: 16, subs: 0, framing: "frame" });
    expect(frameLoadLines(r, out)[2]).toBe("Checked: every ack in Submit order, result 0");
    const bad = { ...sample, badId: 2, badCmd: 1, unacked: 5 };
    expect(badAcks(bad)).toBe(3);
    const rb = frameLoadToBenchResult(parseFrameLoadArgs([]), "go", bad, {
      cpuPct: null,
      rssBytes: null,
      rssBaselineBytes: null,
    });
    expect(rb.lost).toBe(5);
    expect(rb.acks).toMatchObject({ outOfOrder: 2, errors: 1, unacked: 5 });
    expect(() => parseFrameLoadOutput('{"client":"native"}')).toThrow();
  });
});

const noCc = Bun.which("cc") === null;

describe.skipIf(noCc)("frame_load.c against the relay", () => {
  const startRelay = relayPerTest();

  test("every ack in order with result 0, acks/s and latency reported", async () => {
    const relay = startRelay({ pubFraming: "frame", subFraming: "frame", frameCodes: "article" });
    const o = parseFrameLoadArgs(
      `--pub-port ${relay.relay.pubPort} --conns 4 --window 8 --payload 32 --ack-cmd 0x81 --duration 0.5 --warmup 0.2 --drain 2`.split(
        " ",
      ),
    );
    const edges: string[] = [];
    const run = await runFrameLoad(ensureFrameLoad(), o, (edge) => edges.push(edge));
    const out = run.output;
    expect(edges).toEqual(["start", "end"]);
    expect(out.acks).toBeGreaterThan(0);
    expect(out.acksTotal).toBe(out.submitsTotal);
    expect(out.unacked + badAcks(out) + out.disconnected).toBe(0);
    expect(out.latencyUs.count).toBe(out.acks);
    expect(out.latencyUs.p50).toBeGreaterThan(0);
    expect(out.latencyUs.p99).toBeGreaterThanOrEqual(out.latencyUs.p50);
    expect(out.latencyUs.max).toBeGreaterThanOrEqual(out.latencyUs.p999);
  }, 30_000);

  test("acks with the other code set are all counted as bad", async () => {
    const relay = startRelay({ pubFraming: "frame", subFraming: "frame", frameCodes: "spec" });
    const o = parseFrameLoadArgs(
      `--pub-port ${relay.relay.pubPort} --conns 2 --window 4 --ack-cmd 0x81 --duration 0.3 --warmup 0.1`.split(
        " ",
      ),
    );
    const out = (await runFrameLoad(ensureFrameLoad(), o)).output;
    expect(out.acksTotal).toBeGreaterThan(0);
    expect(out.badCmd).toBe(out.acksTotal);
    expect(out.badId + out.badResult + out.badLength).toBe(0);
  }, 30_000);

  test("bad flags exit 2", async () => {
    const child = Bun.spawn([ensureFrameLoad(), "--window", "0"], { stderr: "pipe" });
    expect(await child.exited).toBe(2);
  });
});

describe.skipIf(noCc)("sat_client.c --framing frame against the relay", () => {
  const startRelay = relayPerTest();

  test("1 -> 2 in frames: all delivered, every ack good", async () => {
    const relay = startRelay({ pubFraming: "frame", subFraming: "frame", frameCodes: "article" });
    const child = Bun.spawn(
      [
        ensureNativeClient(),
        ...`--pub-port ${relay.relay.pubPort} --sub-port ${relay.relay.subPort} --sub 2 --msg-size 80 --duration 0.4 --warmup 0.2 --drain 3 --framing frame --ack-cmd 0x81`.split(
          " ",
        ),
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(0);
    const out = parseNativeOutput(stdout);
    expect(out.framing).toBe("frame");
    expect(out.complete).toBe(true);
    expect(out.receivedTotal).toBe(out.sentTotal * 2);
    expect(out.lost + out.duplicated + out.malformed + out.sequenceGaps).toBe(0);
    expect(out.sampled).toBeGreaterThan(0);
    expect(out.acksTotal).toBe(out.sentTotal);
    expect(out.badAcks).toBe(0);
    expect(out.unacked).toBe(0);
  }, 30_000);
});

describe("bun run bench --framing frame against the relay", () => {
  const startRelay = relayPerTest();

  test("1 -> 2 at a rate: every message delivered, every Submit acked and timed", async () => {
    const relay = startRelay({ pubFraming: "frame", subFraming: "frame", frameCodes: "article" });
    const child = Bun.spawn(
      [
        process.execPath,
        "run",
        "bench/main.ts",
        ...`--pub-port ${relay.relay.pubPort} --sub-port ${relay.relay.subPort} --sub 2 --rate 2000 --msg-size 80 --duration 0.5 --warmup 0.2 --drain 2 --framing frame --frame-codes article --no-spawn --json`.split(
          " ",
        ),
      ],
      { cwd: REPO, stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    expect(stderr).not.toContain("run failed");
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as BenchResult;
    expect(r.params.framing).toBe("frame");
    expect(r.sent).toBe(1000);
    expect(r.received).toBe(2000);
    expect(r.lost + r.duplicated + r.malformedLines).toBe(0);
    expect(r.acks).toMatchObject({ inWindow: 1000, failed: 0, outOfOrder: 0, unacked: 0 });
    expect(r.acks?.latencyMs.count).toBe(1000);
    expect(r.acks?.latencyMs.p50Ms).toBeGreaterThan(0);
  }, 30_000);
});
