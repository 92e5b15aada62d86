/**
 * Configuration of `tunnel client` and `tunnel server`: their rows of the option table. The
 * parser, the environment variables (`TUNNEL_SERVER`, `TUNNEL_SMUX_VERSION`, ...) and the
 * --help text come from the one mechanism every mode uses (src/cli/option-table.ts).
 *
 * Precedence: command-line flag > environment variable > default. The smux flags map onto
 * MuxConfig (src/mux/config.ts) and are checked with Go's VerifyConfig rules at parse time,
 * so a bad combination is a bad argument (exit 2), not a failure after start.
 */
import { COMMON_DEFAULTS, type CommonModeOptions } from "../cli/common-options.ts";
import {
  badArgument,
  builtInRows,
  type OptionSpec,
  optionRows,
  parseOptionTable,
  type RunOptions,
  runOptionsOf,
} from "../cli/option-table.ts";
import { didYouMean, programName } from "../cli/program.ts";
import { DEFAULT_MUX_CONFIG, type MuxConfig, MuxError, resolveConfig } from "../mux/index.ts";
import { checkNetOptions, DEFAULT_NET_OPTIONS, type NetOptions } from "../net/access.ts";
import { TUNNEL_OPTIONS, tunnelEnvName } from "./tunnel-options.ts";

export type TunnelRole = "client" | "server";
export type HostPort = { host: string; port: number };

/**
 * NetOptions: --tls-cert, --tls-key, --tls-client-ca, --allow-from… on the --listen port of
 * either role (client: the TCP clients; server: the tunnel sessions).
 */
export interface TunnelConfig extends NetOptions, CommonModeOptions {
  role: TunnelRole;
  listen: HostPort;
  /** Client: the tunnel server to dial. */
  server: HostPort | undefined;
  /** Server: where every stream goes. */
  to: HostPort | undefined;
  /** Client: sessions in the pool. */
  conns: number;
  smuxVersion: 1 | 2;
  /** Seconds between NOP frames; 0 turns keepalive (and its timeout) off. */
  keepalive: number;
  /** Seconds without a frame before the session is closed. */
  keepaliveTimeout: number;
  maxFrame: number;
  maxReceiveBuffer: number;
  maxStreamBuffer: number;
  connectTimeout: number;
  maxConns: number;
  /** Client --server-tls: the sessions to the tunnel server speak TLS. */
  serverTls: boolean;
  /** Client --server-ca: PEM CAs the tunnel server's certificate must chain to. */
  serverCa: string | undefined;
  /** Client --server-servername: SNI and the name checked (default: the --server host). */
  serverServername: string | undefined;
  /** Client --server-cert/--server-key: the client certificate for a mutual-TLS server. */
  serverCert: string | undefined;
  serverKey: string | undefined;
}

export function defaultTunnelConfig(role: TunnelRole): TunnelConfig {
  return {
    role,
    listen: role === "client" ? { host: "127.0.0.1", port: 8000 } : { host: "0.0.0.0", port: 9000 },
    server: undefined,
    to: undefined,
    conns: 4,
    smuxVersion: DEFAULT_MUX_CONFIG.version,
    keepalive: DEFAULT_MUX_CONFIG.keepAliveIntervalMs / 1000,
    keepaliveTimeout: DEFAULT_MUX_CONFIG.keepAliveTimeoutMs / 1000,
    maxFrame: DEFAULT_MUX_CONFIG.maxFrameSize,
    maxReceiveBuffer: DEFAULT_MUX_CONFIG.maxReceiveBuffer,
    maxStreamBuffer: DEFAULT_MUX_CONFIG.maxStreamBuffer,
    connectTimeout: 5,
    idleTimeout: 3600,
    halfCloseTimeout: 60,
    maxConns: 0,
    ...COMMON_DEFAULTS,
    shutdownTimeout: 10,
    ...DEFAULT_NET_OPTIONS,
    serverTls: false,
    serverCa: undefined,
    serverServername: undefined,
    serverCert: undefined,
    serverKey: undefined,
  };
}

export function specsFor(role: TunnelRole): OptionSpec<TunnelConfig>[] {
  return TUNNEL_OPTIONS.filter((spec) => spec.roles.includes(role)).map((spec) => ({
    ...spec,
    env: tunnelEnvName(spec),
  }));
}

/**
 * The session config the flags describe, checked with Go's VerifyConfig rules.
 * @throws MuxError MUX_ERR_BAD_CONFIG naming the broken rule.
 */
export function muxConfigOf(config: TunnelConfig): MuxConfig {
  return resolveConfig({
    version: config.smuxVersion,
    keepAliveDisabled: config.keepalive === 0,
    keepAliveIntervalMs: Math.round(config.keepalive * 1000),
    keepAliveTimeoutMs: Math.round(config.keepaliveTimeout * 1000),
    maxFrameSize: config.maxFrame,
    maxReceiveBuffer: config.maxReceiveBuffer,
    maxStreamBuffer: config.maxStreamBuffer,
  });
}

export type TunnelCommand =
  | { kind: "run"; config: TunnelConfig; mux: MuxConfig; options: RunOptions }
  | { kind: "help"; role: TunnelRole | undefined };

/**
 * Parses `tunnel client …` or `tunnel server …` (argv[0] is `tunnel`). `tunnel --help`
 * asks for the overview. Throws a RelayError RELAY_ERR_BAD_ARGUMENT with a one-line reason.
 */
export function parseTunnelCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): TunnelCommand {
  const role = argv[1];
  if (role === undefined || role === "--help" || role === "-h")
    return { kind: "help", role: undefined };
  if (role !== "client" && role !== "server") {
    const near = didYouMean(role, ["client", "server"], "tunnel ");
    throw badArgument(
      `tunnel: unknown role '${role}'${near || " (use 'tunnel client' or 'tunnel server')"}`,
    );
  }
  const context = `tunnel ${role}: `;
  const parsed = parseOptionTable(specsFor(role), argv.slice(2), env, defaultTunnelConfig(role), {
    context,
    envPrefix: "TUNNEL_",
    otherEnv: TUNNEL_OPTIONS.map(tunnelEnvName),
    fileTable: `tunnel.${role}`,
  });
  if (parsed.help) return { kind: "help", role };
  const config = parsed.config;
  if (role === "client" && config.server === undefined) {
    throw badArgument(`${context}--server HOST:PORT is required`);
  }
  if (role === "server" && config.to === undefined) {
    throw badArgument(`${context}--to HOST:PORT is required`);
  }
  const netProblem = checkNetOptions(config);
  if (netProblem !== undefined) throw badArgument(`${context}${netProblem}`);
  const dialTlsFlags = [
    config.serverCa,
    config.serverServername,
    config.serverCert,
    config.serverKey,
  ];
  if (!config.serverTls && dialTlsFlags.some((value) => value !== undefined)) {
    throw badArgument(
      `${context}--server-ca, --server-servername, --server-cert and --server-key need --server-tls`,
    );
  }
  if ((config.serverCert === undefined) !== (config.serverKey === undefined)) {
    throw badArgument(
      `${context}${config.serverCert === undefined ? "--server-key needs --server-cert" : "--server-cert needs --server-key"}`,
    );
  }
  try {
    return { kind: "run", config, mux: muxConfigOf(config), options: runOptionsOf(parsed) };
  } catch (error) {
    if (!(error instanceof MuxError)) throw error;
    throw badArgument(`${context}smux settings: ${error.reason}`);
  }
}

const usage = (program: string) => ({
  client: `Usage: ${program} tunnel client --listen HOST:PORT --server HOST:PORT [--conns N] [options]`,
  server: `Usage: ${program} tunnel server --listen HOST:PORT --to HOST:PORT [options]`,
});

/** The --help text of one role (or, without one, the overview), built from the option table. */
export function tunnelHelpText(
  role: TunnelRole | undefined,
  program: string = programName(),
): string {
  const USAGE = usage(program);
  if (role === undefined) {
    return [
      "bun-relay tunnel: carry TCP connections as smux streams (wire-compatible with Go xtaci/smux v1/v2).",
      "",
      `${USAGE.client}`,
      `${USAGE.server}`,
      "",
      "The client accepts TCP connections and carries each one as a stream over a pool of",
      "sessions to the server, which connects every stream to --to.",
      `'${program} tunnel client --help' and '… tunnel server --help' list the options.`,
    ].join("\n");
  }
  const intro =
    role === "client"
      ? "bun-relay tunnel client: accept TCP connections; carry each as one smux stream to a tunnel server."
      : "bun-relay tunnel server: accept smux sessions; connect every stream to --to and pipe both ways.";
  return [
    intro,
    "",
    USAGE[role],
    "",
    "Options:",
    ...optionRows(specsFor(role), defaultTunnelConfig(role), 30),
    ...builtInRows(30, "TUNNEL_CONFIG"),
    "",
    "Durations take ms, s, m, h (5s, 250ms, 1h); sizes take k/KiB, m/MiB. See docs/tunnel.md.",
    "SIGHUP reads the TLS files, --allow-from-file and the --config file again (docs/configuration.md).",
    "Exit status: 0 after SIGINT/SIGTERM, 1 when it cannot start, 2 on a bad argument.",
  ].join("\n");
}
