import { describe, expect, test } from "bun:test";
import { DEFAULT_SOAK_OPTIONS, parseSoakArgs, UsageError } from "../../soak/args.ts";

describe("parseSoakArgs", () => {
  test("no flags give the defaults: policy disconnect, a minute", () => {
    expect(parseSoakArgs([])).toEqual({ ...DEFAULT_SOAK_OPTIONS });
    expect(DEFAULT_SOAK_OPTIONS.policy).toBe("stall");
  });

  test("reads the CI and the 10-minute command lines", () => {
    expect(parseSoakArgs(["--duration", "30"]).duration).toBe(30);
    expect(parseSoakArgs(["--duration", "600"]).duration).toBe(600);
    expect(parseSoakArgs(["--duration", "10m"]).duration).toBe(600);
  });

  test("takes every policy, and sizes and durations in the relay's units", () => {
    for (const policy of ["stall", "disconnect", "drop", "block"] as const) {
      expect(parseSoakArgs(["--policy", policy]).policy).toBe(policy);
    }
    const o = parseSoakArgs(
      "--max-pending 1MiB --write-timeout 1500ms --rate 10 --publishers 2 --subscribers 3 --slow-every 0 --msg-size 64 --relay-log x.log".split(
        " ",
      ),
    );
    expect(o).toMatchObject({
      maxPending: 1024 * 1024,
      writeTimeout: 1.5,
      rate: 10,
      publishers: 2,
      subscribers: 3,
      slowEvery: 0,
      msgSize: 64,
      relayLog: "x.log",
    });
  });

  test("-h and --help ask for the usage text", () => {
    expect(parseSoakArgs(["-h"]).help).toBe(true);
    expect(parseSoakArgs(["--help"]).help).toBe(true);
  });

  test.each([
    [["--policy", "wait"], /--policy: 'wait' is not one of: stall, disconnect, drop, block/],
    [["--duration", "5"], /--duration: must be at least 10s/],
    [["--duration", "soon"], /--duration: 'soon' is not a duration/],
    [["--rate", "0"], /--rate: must be at least 1/],
    [["--publishers", "1.5"], /--publishers: '1.5' is not a whole number/],
    [["--msg-size", "8"], /--msg-size: must be at least 16/],
    [["--max-pending", "100"], /--max-pending must be at least 1 KiB/],
    [["--write-timeout", "0"], /--write-timeout: must be at least 1s/],
    [["--bogus"], /bogus/],
    [["extra"], /extra/],
  ])("rejects %p", (argv, message) => {
    expect(() => parseSoakArgs(argv)).toThrow(UsageError);
    expect(() => parseSoakArgs(argv)).toThrow(message);
  });
});
