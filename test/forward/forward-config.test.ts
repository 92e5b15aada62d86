import { describe, expect, test } from "bun:test";
import {
  defaultConfig,
  forwardingHelpText,
  OPTIONS,
  parseForwardingCommandLine,
} from "../../src/forward/forward-config.ts";

function run(argv: string[], env: Record<string, string> = {}) {
  const command = parseForwardingCommandLine(argv, env);
  if (command.kind !== "run") throw new Error("expected a run command");
  return command.config;
}

describe("forward/proxy command line", () => {
  test("forward takes repeated --to, balance, pool and durations with units", () => {
    const config = run([
      "forward",
      "--listen",
      "0.0.0.0:8888",
      "--to",
      "10.0.0.5:80",
      "--to",
      "[::1]:81",
      "--balance",
      "least-conn",
      "--pool",
      "4",
      "--pool-idle-ttl",
      "30s",
      "--connect-timeout",
      "250ms",
      "--idle-timeout",
      "1h",
      "--half-close-timeout",
      "1m",
      "--max-conns",
      "100",
    ]);
    expect(config).toMatchObject({
      mode: "forward",
      listen: { host: "0.0.0.0", port: 8888 },
      to: [
        { host: "10.0.0.5", port: 80 },
        { host: "::1", port: 81 },
      ],
      balance: "least-conn",
      pool: 4,
      poolIdleTtl: 30,
      connectTimeout: 0.25,
      idleTimeout: 3600,
      halfCloseTimeout: 60,
      maxConns: 100,
    });
  });

  test("defaults match the issue: 5 s connect, 1 h idle, 60 s half-close", () => {
    expect(defaultConfig("forward")).toMatchObject({
      connectTimeout: 5,
      idleTimeout: 3600,
      halfCloseTimeout: 60,
      listen: { host: "0.0.0.0", port: 8888 },
    });
    expect(defaultConfig("proxy").listen).toEqual({ host: "127.0.0.1", port: 8080 });
  });

  test("environment variables fill in, flags win, lists are comma-separated", () => {
    const config = run(["forward", "--pool", "2"], {
      FORWARD_TO: "127.0.0.1:1,127.0.0.1:2",
      FORWARD_POOL: "9",
      FORWARD_QUIET: "1",
    });
    expect(config.to).toEqual([
      { host: "127.0.0.1", port: 1 },
      { host: "127.0.0.1", port: 2 },
    ]);
    expect(config.pool).toBe(2);
    expect(config.quiet).toBe(true);
  });

  test("proxy takes --allow patterns, --allow-any and --auth", () => {
    const config = run([
      "proxy",
      "--allow",
      "*.example.com:443",
      "--auth",
      "u:p",
      "--max-head",
      "4k",
    ]);
    expect(config.allow.map((pattern) => pattern.text)).toEqual(["*.example.com:443"]);
    expect(config.auth).toBe("u:p");
    expect(config.maxHead).toBe(4096);
    expect(run(["proxy", "--allow-any"]).allowAny).toBe(true);
  });

  test.each([
    [["forward"], "at least one --to HOST:PORT is required"],
    [["forward", "--to", "nohost"], "--to: 'nohost' is not host:port"],
    [["forward", "--to", "a:1", "--balance", "random"], "--balance: 'random' is not one of"],
    [["forward", "--to", "a:1", "--pool", "-1"], "--pool"],
    [["forward", "--to", "a:1", "--connect-timeout", "0"], "must be greater than zero"],
    [["forward", "--to", "a:1", "--allow", "x:1"], "unknown option '--allow'"],
    [["proxy", "--to", "a:1"], "unknown option '--to'"],
    [["proxy", "--allow", "x"], "is not an allow pattern"],
    [["proxy", "extra"], "unexpected argument 'extra'"],
  ])("rejects %p", (argv, message) => {
    expect(() => parseForwardingCommandLine(argv)).toThrow(message);
  });

  test("--help lists every flag of the mode with its env variable", () => {
    for (const mode of ["forward", "proxy"] as const) {
      expect(parseForwardingCommandLine([mode, "--help"])).toEqual({ kind: "help", mode });
      const help = forwardingHelpText(mode);
      for (const spec of OPTIONS.filter((option) => option.modes.includes(mode))) {
        expect(help).toContain(`--${spec.flag}`);
      }
    }
    expect(forwardingHelpText("proxy")).toContain("env PROXY_ALLOW");
    expect(forwardingHelpText("forward")).not.toContain("--allow HOST"); // --allow-from is not --allow
  });
});
