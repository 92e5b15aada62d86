import { describe, expect, test } from "bun:test";
import { parseBenchArgs, UsageError } from "../../bench/lib/args.ts";

describe("parseBenchArgs", () => {
  test("defaults are the Go client's, plus ours", () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({
      pubHost: "127.0.0.1",
      pubPort: 7001,
      subHost: "127.0.0.1",
      subPort: 7002,
      pubs: 1,
      subs: 1,
      rate: 1000,
      msgSize: 64,
      duration: 10,
      warmup: 1,
      json: false,
      noSpawn: false,
      allowLoss: false,
      threads: undefined,
      relayCmd: undefined,
    });
  });

  test("reads the article's command line", () => {
    const o = parseBenchArgs(
      "--pub-host 0.0.0.0 --pub 1 --sub 3 --rate 10000 --msg-size 80 --duration 15".split(" "),
    );
    expect(o).toMatchObject({
      pubHost: "0.0.0.0",
      pubs: 1,
      subs: 3,
      rate: 10000,
      msgSize: 80,
      duration: 15,
    });
  });

  test("accepts --flag=value and our own flags", () => {
    const o = parseBenchArgs([
      "--rate=0",
      "--threads=4",
      "--json",
      "--hgrm",
      "out.hgrm",
      "--plot",
      "out.svg",
      "--relay-cmd",
      "./tcp_forward {pub} {sub}",
      "--allow-loss",
      "--warmup",
      "0.5",
    ]);
    expect(o).toMatchObject({
      rate: 0,
      threads: 4,
      json: true,
      hgrm: "out.hgrm",
      plot: "out.svg",
      relayCmd: "./tcp_forward {pub} {sub}",
      allowLoss: true,
      warmup: 0.5,
    });
  });

  test("raises msg-size below 16 to 16 with a note, as the Go client clamps it", () => {
    const o = parseBenchArgs(["--msg-size", "8"]);
    expect(o.msgSize).toBe(16);
    expect(o.notes.length).toBe(1);
  });

  test.each([
    [["--rate", "-5"]],
    [["--rate", "fast"]],
    [["--pub", "0"]],
    [["--pub-port", "70000"]],
    [["--duration", "0"]],
    [["--duration", "abc"]],
    [["--bogus"]],
    [["positional"]],
    [["--relay-cmd", "x", "--no-spawn"]],
  ])("rejects %p with a UsageError", (argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
  });

  test("light mode, publisher batching and extra subscribers are off by default", () => {
    expect(parseBenchArgs([])).toMatchObject({
      sample: undefined,
      msgsPerWrite: undefined,
      protocol: "line",
      stalled: 0,
      idle: 0,
      slowReader: undefined,
      pausing: 0,
    });
  });

  test("reads --slow-reader as bytes per second, with the relay's size units", () => {
    const rate = (raw: string) => parseBenchArgs(["--slow-reader", raw]).slowReader;
    expect(rate("1000000")).toBe(1_000_000);
    expect(rate("1mb")).toBe(1_000_000);
    expect(rate("1MB")).toBe(1_000_000);
    expect(rate("1m")).toBe(1024 * 1024);
    expect(rate("1mib")).toBe(1024 * 1024);
    expect(rate("64k")).toBe(65_536);
    expect(rate("64kb")).toBe(64_000);
    expect(rate("1.5mb")).toBe(1_500_000);
    expect(rate("500kb/s")).toBe(500_000);
  });

  test("reads --pausing as a count of extra subscribers", () => {
    expect(parseBenchArgs(["--pausing", "2"]).pausing).toBe(2);
  });

  test("--help lists the new extra subscribers", async () => {
    const { USAGE } = await import("../../bench/lib/args.ts");
    expect(USAGE).toContain("--slow-reader RATE");
    expect(USAGE).toContain("--pausing N");
  });

  test("reads --sample, --msgs-per-write, --stalled and --idle", () => {
    const o = parseBenchArgs(
      "--sample 1000 --msgs-per-write 1 --stalled 1 --idle 10000".split(" "),
    );
    expect(o).toMatchObject({ sample: 1000, msgsPerWrite: 1, stalled: 1, idle: 10000 });
  });

  test("NATS uses one port for both sides and decodes every message unless told", () => {
    const o = parseBenchArgs(["--protocol", "nats", "--pub-port", "4222"]);
    expect(o).toMatchObject({ protocol: "nats", pubPort: 4222, subPort: 4222, sample: 1 });
    expect(parseBenchArgs(["--protocol", "nats", "--sample", "50"]).sample).toBe(50);
  });

  test("--subjects N (NATS): one subscriber per subject, so --sub is N", () => {
    expect(parseBenchArgs(["--protocol", "nats", "--subjects", "1000"])).toMatchObject({
      subjects: 1000,
      subs: 1000,
    });
    expect(parseBenchArgs(["--protocol", "nats", "--subjects", "5", "--sub", "5"]).subs).toBe(5);
    expect(parseBenchArgs(["--protocol", "nats", "--sub", "3"])).toMatchObject({
      subjects: 0,
      subs: 3,
    });
  });

  test.each([
    [["--subjects", "10"]],
    [["--protocol", "nats", "--subjects", "10", "--sub", "3"]],
    [["--protocol", "nats", "--subjects", "-1"]],
    [["--sample", "0"]],
    [["--msgs-per-write", "0"]],
    [["--protocol", "mqtt"]],
    [["--stalled", "-1"]],
    [["--slow-reader", "0"]],
    [["--slow-reader", "fast"]],
    [["--slow-reader", "1tb"]],
    [["--slow-reader", "-1m"]],
    [["--pausing", "x"]],
  ])("rejects %p", (argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
  });
});
