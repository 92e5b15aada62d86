import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { DEFAULT_CONFIG, helpText, OPTIONS, parseCommandLine } from "../../src/cli/config.ts";
import { ErrorCode, RelayError } from "../../src/errors.ts";

function config(argv: string[], env: Record<string, string> = {}) {
  const command = parseCommandLine(argv, env);
  if (command.kind !== "run") throw new Error(`expected run, got ${command.kind}`);
  return command.config;
}

function rejection(argv: string[], env: Record<string, string> = {}): RelayError {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).code).toBe(ErrorCode.BadArgument);
    expect((error as RelayError).reason).not.toContain("\n");
    return error as RelayError;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be rejected`);
}

describe("parseCommandLine", () => {
  test("defaults match the Go relay: 0.0.0.0, ports 7001 and 7002", () => {
    expect(config([])).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ host: "0.0.0.0", pubPort: 7001, subPort: 7002 });
    expect(DEFAULT_CONFIG.maxLine).toBe(1024 * 1024);
    expect(DEFAULT_CONFIG.maxPending).toBe(8 * 1024 * 1024);
  });

  test("ports positionally, like the Go binary", () => {
    expect(config(["7101", "7102"])).toMatchObject({ pubPort: 7101, subPort: 7102 });
    expect(config(["7101"])).toMatchObject({ pubPort: 7101, subPort: 7002 });
  });

  test("flags, with sizes and durations in units", () => {
    const parsed = config([
      "--host=127.0.0.1",
      "--pub-port",
      "8001",
      "--sub-port=8002",
      "--max-line",
      "64KiB",
      "--max-pending=2m",
      "--slow-consumer=block",
      "--stall-timeout=1.5s",
      "--write-timeout",
      "2.5",
      "--max-conns=10000",
      "--stats-interval",
      "500ms",
      "--shutdown-timeout=1m",
      "--quiet",
      "--log-format=json",
      "--metrics-port",
      "9464",
      "--metrics-host=0.0.0.0",
    ]);
    expect(parsed).toEqual({
      ...DEFAULT_CONFIG,
      host: "127.0.0.1",
      pubPort: 8001,
      subPort: 8002,
      framing: "line",
      pubFraming: "line",
      subFraming: "line",
      frameCodes: "spec",
      maxFrame: 1024 * 1024,
      token: undefined,
      tokenFile: undefined,
      maxLine: 64 * 1024,
      maxPending: 2 * 1024 * 1024,
      slowConsumer: "block",
      stallTimeout: 1.5,
      writeTimeout: 2.5,
      maxConns: 10000,
      statsInterval: 0.5,
      shutdownTimeout: 60,
      quiet: true,
      logFormat: "json",
      metricsPort: 9464,
      metricsHost: "0.0.0.0",
      cluster: [],
      clusterSubject: undefined,
      nodeId: undefined,
      reusePort: false,
      tlsCert: undefined,
      tlsKey: undefined,
      tlsClientCa: undefined,
      allowFrom: [],
      allowFromFile: undefined,
      handshakeTimeout: 10,
      metricsTls: false,
    });
  });

  test("environment variables, overridden by flags and positionals", () => {
    const env = {
      RELAY_PUB_PORT: "9001",
      RELAY_SUB_PORT: "9002",
      RELAY_QUIET: "1",
      RELAY_MAX_LINE: "100",
    };
    expect(config([], env)).toMatchObject({
      pubPort: 9001,
      subPort: 9002,
      quiet: true,
      maxLine: 100,
    });
    expect(config(["9101"], env)).toMatchObject({ pubPort: 9101, subPort: 9002 });
    expect(config(["--sub-port", "9202"], env)).toMatchObject({ pubPort: 9001, subPort: 9202 });
  });

  test("help and version", () => {
    expect(parseCommandLine(["--help"])).toEqual({ kind: "help" });
    expect(parseCommandLine(["-h", "7101"]).kind).toBe("help");
    expect(parseCommandLine(["--version"])).toEqual({ kind: "version" });
  });

  test.each([
    [["--bogus"], "--bogus"],
    [["--pub-port"], "--pub-port"],
    [["--pub-port", "70000"], "out of range"],
    [["--pub-port", "abc"], "not a port"],
    [["abc"], "unknown mode 'abc'"],
    [["7001", "abc"], "not a port"],
    [["1", "2", "3"], "unexpected argument '3'"],
    [["7101", "--pub-port", "7102"], "given twice"],
    [["--max-line", "0"], "greater than zero"],
    [["--max-pending", "lots"], "not a size"],
    [["--max-conns", "1.5"], "not a whole number"],
    [["--slow-consumer", "explode"], "not one of: stall, disconnect, drop, block"],
    [["--stats-interval", "-1"], "--stats-interval"],
    [["--shutdown-timeout", "soon"], "not a duration"],
    [["7005", "7005"], "both 7005"],
    [["--log-format", "xml"], "not one of: text, json"],
    [["--metrics-port", "99999"], "out of range"],
    [["--framing", "json"], "not one of: line, frame"],
    [["--frame-codes", "go"], "not one of: spec, article"],
    [["--max-frame", "13"], "must be from 14 B"],
    [["--token", "t"], "--token needs --pub-port and --sub-port to be frame or off"],
    [
      ["--framing", "frame", "--sub-framing", "line", "--token", "t"],
      "needs --sub-port to be frame or off",
    ],
    [["--framing", "frame", "--token", ""], "the token is empty"],
    [["--framing", "frame", "--token", "a", "--token-file", "/dev/null"], "both given"],
    [
      ["--framing", "frame", "--token-file", "/nonexistent/token"],
      "cannot read /nonexistent/token (ENOENT)",
    ],
  ])("rejects %j with a one-line reason", (argv, fragment) => {
    expect(rejection(argv).reason).toContain(fragment);
  });

  test("--framing sets both ports; --pub-framing and --sub-framing override one side", () => {
    expect(config([])).toMatchObject({ pubFraming: "line", subFraming: "line" });
    expect(config(["--framing", "frame"])).toMatchObject({
      pubFraming: "frame",
      subFraming: "frame",
    });
    expect(config(["--sub-framing=frame", "--framing=line"])).toMatchObject({
      pubFraming: "line",
      subFraming: "frame",
    });
    expect(config([], { RELAY_FRAMING: "frame", RELAY_PUB_FRAMING: "line" })).toMatchObject({
      pubFraming: "line",
      subFraming: "frame",
    });
  });

  test("--token-file reads the token from the file's first line", async () => {
    const path = `${process.env.TMPDIR ?? "/tmp"}/bun-relay-token-${process.pid}`;
    await Bun.write(path, "from-a-file\r\nignored\n");
    const parsed = config(["--framing", "frame", "--token-file", path]);
    expect(parsed.token).toBe("from-a-file");
    expect(helpText()).not.toContain("from-a-file");
    rmSync(path);
  });

  test("the metrics endpoint is off unless --metrics-port is given", () => {
    expect(config([]).metricsPort).toBeUndefined();
    expect(config([]).metricsHost).toBe("127.0.0.1");
    expect(config([], { RELAY_METRICS_PORT: "0" }).metricsPort).toBe(0);
    expect(helpText()).toContain("(default off; env RELAY_METRICS_PORT)");
  });

  test("--status-tail is off by default, needs --metrics-port, and reads RELAY_STATUS_TAIL", () => {
    expect(config([]).statusTail).toBe(false);
    expect(config(["--metrics-port", "0", "--status-tail"]).statusTail).toBe(true);
    expect(config(["--metrics-port", "0"], { RELAY_STATUS_TAIL: "true" }).statusTail).toBe(true);
    expect(rejection(["--status-tail"]).reason).toBe(
      "--status-tail needs --metrics-port (the status page is served there)",
    );
    expect(helpText()).toContain("(default false; env RELAY_STATUS_TAIL)");
  });

  test("rejects a bad environment value, naming the variable", () => {
    expect(rejection([], { RELAY_MAX_PENDING: "x" }).reason).toContain("RELAY_MAX_PENDING");
  });

  test("--help lists every option with its default and environment variable", () => {
    const help = helpText();
    for (const option of OPTIONS) {
      expect(help).toContain(`--${option.flag}`);
      expect(help).toContain(option.env);
    }
  });
});
