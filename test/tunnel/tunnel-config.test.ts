/**
 * `tunnel client|server` options: the table's parser, environment variables, --help, and the
 * smux settings checked with Go's VerifyConfig rules at parse time (a bad argument, exit 2).
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_MUX_CONFIG } from "../../src/mux/index.ts";
import {
  defaultTunnelConfig,
  parseTunnelCommandLine,
  tunnelHelpText,
} from "../../src/tunnel/tunnel-config.ts";
import { TUNNEL_OPTIONS, tunnelEnvName } from "../../src/tunnel/tunnel-options.ts";

function run(argv: string[], env: Record<string, string> = {}) {
  const command = parseTunnelCommandLine(["tunnel", ...argv], env);
  if (command.kind !== "run") throw new Error("expected a run command");
  return command;
}

function error(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseTunnelCommandLine(["tunnel", ...argv], env);
  } catch (caught) {
    return (caught as { code: string; reason: string }).reason;
  }
  throw new Error("expected a bad argument");
}

describe("tunnel options", () => {
  test("the issue's two command lines parse", () => {
    const server = run([
      "server",
      "--listen",
      "0.0.0.0:9000",
      "--to",
      "127.0.0.1:7000",
      "--smux-version",
      "2",
    ]);
    expect(server.config).toMatchObject({
      role: "server",
      listen: { host: "0.0.0.0", port: 9000 },
      to: { host: "127.0.0.1", port: 7000 },
      smuxVersion: 2,
    });
    expect(server.mux.version).toBe(2);
    const client = run([
      "client",
      "--listen",
      "127.0.0.1:8000",
      "--server",
      "host:9000",
      "--conns",
      "4",
    ]);
    expect(client.config).toMatchObject({
      role: "client",
      server: { host: "host", port: 9000 },
      conns: 4,
    });
  });

  test("smux defaults are Go's DefaultConfig", () => {
    const { mux, config } = run(["server", "--to", "127.0.0.1:7000"]);
    expect(mux).toMatchObject({
      version: 1,
      keepAliveDisabled: false,
      keepAliveIntervalMs: 10_000,
      keepAliveTimeoutMs: 30_000,
      maxFrameSize: 32_768,
      maxReceiveBuffer: 4 * 1024 * 1024,
      maxStreamBuffer: 65_536,
    });
    expect(mux).toEqual(DEFAULT_MUX_CONFIG);
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 9000 });
  });

  test("the smux flags map onto the session config, sizes with units", () => {
    const { mux } = run([
      "client",
      "--server",
      "127.0.0.1:9000",
      "--keepalive",
      "2s",
      "--keepalive-timeout",
      "6",
      "--max-frame",
      "16k",
      "--max-receive-buffer",
      "8MiB",
      "--max-stream-buffer",
      "1MiB",
    ]);
    expect(mux).toMatchObject({
      keepAliveIntervalMs: 2000,
      keepAliveTimeoutMs: 6000,
      maxFrameSize: 16_384,
      maxReceiveBuffer: 8 * 1024 * 1024,
      maxStreamBuffer: 1024 * 1024,
    });
    expect(run(["client", "--server", "h:1", "--keepalive", "0"]).mux.keepAliveDisabled).toBe(true);
  });

  test("environment variables are TUNNEL_<FLAG>, below flags", () => {
    const env = { TUNNEL_SERVER: "10.0.0.1:9000", TUNNEL_CONNS: "8", TUNNEL_SMUX_VERSION: "2" };
    expect(run(["client"], env).config).toMatchObject({
      server: { host: "10.0.0.1", port: 9000 },
      conns: 8,
      smuxVersion: 2,
    });
    expect(run(["client", "--conns", "3"], env).config.conns).toBe(3);
    expect(tunnelEnvName({ flag: "max-receive-buffer" })).toBe("TUNNEL_MAX_RECEIVE_BUFFER");
  });

  test("bad arguments are one-line reasons naming the role", () => {
    expect(error(["sideways"])).toBe(
      "tunnel: unknown role 'sideways' (use 'tunnel client' or 'tunnel server')",
    );
    expect(error(["client"])).toBe("tunnel client: --server HOST:PORT is required");
    expect(error(["server"])).toBe("tunnel server: --to HOST:PORT is required");
    expect(error(["server", "--to", "h:1", "--smux-version", "3"])).toBe(
      "tunnel server: --smux-version: '3' is not one of: 1, 2",
    );
    expect(error(["client", "--server", "h:1", "--conns", "0"])).toBe(
      "tunnel client: --conns: '0' must be between 1 and 1024",
    );
    expect(error(["server", "--to", "h:1", "--max-frame", "70000"])).toBe(
      "tunnel server: smux settings: max frame size must not be larger than 65535",
    );
    expect(error(["server", "--to", "h:1", "--keepalive", "40"])).toBe(
      "tunnel server: smux settings: keep-alive timeout must be larger than keep-alive interval",
    );
    expect(error(["server", "--to", "h:1", "--max-stream-buffer", "8MiB"])).toBe(
      "tunnel server: smux settings: max stream buffer must not be larger than max receive buffer",
    );
    expect(error(["server", "--to", "h:1", "--server", "h:2"])).toContain("--server");
    expect(error(["client", "--server", "h:1"], { TUNNEL_CONNS: "many" })).toBe(
      "tunnel client: TUNNEL_CONNS: 'many' is not a whole number",
    );
    for (const reason of [error(["client", "--bogus"]), error(["server", "--to", "nope"])]) {
      expect(reason).not.toContain("\n");
    }
  });

  test("--help per role lists every option of that role with default and env var", () => {
    for (const role of ["client", "server"] as const) {
      const command = parseTunnelCommandLine(["tunnel", role, "--help"]);
      expect(command).toEqual({ kind: "help", role });
      const help = tunnelHelpText(role);
      const defaults = defaultTunnelConfig(role);
      for (const option of TUNNEL_OPTIONS.filter((o) => o.roles.includes(role))) {
        expect(help).toContain(`--${option.flag}`);
        expect(help).toContain(
          `(default ${option.showDefault(defaults)}; env ${tunnelEnvName(option)})`,
        );
      }
    }
    expect(tunnelHelpText("client")).not.toContain("--to HOST:PORT");
    expect(tunnelHelpText("server")).not.toContain("--conns");
    expect(parseTunnelCommandLine(["tunnel"])).toEqual({ kind: "help", role: undefined });
    expect(tunnelHelpText(undefined)).toContain(
      "tunnel client --listen HOST:PORT --server HOST:PORT",
    );
  });
});
