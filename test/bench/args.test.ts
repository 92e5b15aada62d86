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
});
