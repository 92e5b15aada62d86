/**
 * Configuration of the `forward` and `proxy` modes: their rows of the option table. The
 * parser, the environment variables and the --help text are derived from them by the one
 * mechanism every mode uses (src/cli/option-table.ts).
 *
 * Precedence: command-line flag > environment variable > default. Environment variables are
 * named after the mode and the flag (`FORWARD_IDLE_TIMEOUT`, `PROXY_ALLOW`); repeatable flags
 * take a comma-separated list there.
 */

import {
  COMMON_DEFAULTS,
  type CommonModeOptions,
  connectionTimeoutRows,
  nonNegativeSeconds,
  positiveSeconds,
  reportingRows,
  showSeconds,
} from "../cli/common-options.ts";
import {
  badArgument,
  builtInRows,
  type OptionSpec,
  oneOf,
  optionRows,
  parseOptionTable,
  type RunOptions,
  runOptionsOf,
} from "../cli/option-table.ts";
import { programName } from "../cli/program.ts";
import { parseCount, parsePort } from "../cli/units.ts";
import { checkNetOptions, DEFAULT_NET_OPTIONS, type NetOptions } from "../net/access.ts";
import { hostNameProblem } from "../net/host-name.ts";
import { dialTlsOptionRows, netOptionRows } from "../net/net-options.ts";
import {
  DEFAULT_PROXY_OPTIONS,
  PROXY_OPTION_ROWS,
  type ProxyOptions,
} from "../proxy/proxy-options.ts";
import { BALANCE_POLICIES, type BalancePolicy, parseHostPort } from "./targets.ts";

export type Mode = "forward" | "proxy";

/**
 * NetOptions: --tls-cert, --tls-key, --tls-client-ca, --allow-from… on the --listen port.
 * CommonModeOptions: the idle/half-close timeouts, stats and metrics flags shared with tunnel.
 */
export interface ForwardingConfig extends NetOptions, CommonModeOptions, ProxyOptions {
  mode: Mode;
  listen: { host: string; port: number };
  to: { host: string; port: number }[];
  balance: BalancePolicy;
  pool: number;
  poolIdleTtl: number;
  connectTimeout: number;
  maxConns: number;
  /** forward --to-tls: TLS to the targets. */
  toTls: boolean;
  /** --to-ca: PEM CAs to verify the targets against (default: the system store). */
  toCa: string | undefined;
  /** --to-servername: SNI and the name checked (default: the target's host). */
  toServername: string | undefined;
}

export function defaultConfig(mode: Mode): ForwardingConfig {
  return {
    mode,
    listen:
      mode === "forward" ? { host: "0.0.0.0", port: 8888 } : { host: "127.0.0.1", port: 8080 },
    to: [],
    balance: "round-robin",
    pool: 0,
    poolIdleTtl: 60,
    connectTimeout: 5,
    idleTimeout: 3600,
    halfCloseTimeout: 60,
    maxConns: 0,
    ...COMMON_DEFAULTS,
    ...DEFAULT_PROXY_OPTIONS,
    ...DEFAULT_NET_OPTIONS,
    toTls: false,
    toCa: undefined,
    toServername: undefined,
  };
}

/** A row of the table: an option without its environment variable, and the modes it is in. */
type ForwardingOption = Omit<OptionSpec<ForwardingConfig>, "env"> & { modes: readonly Mode[] };

const BOTH: readonly Mode[] = ["forward", "proxy"];
const count = parseCount;

/** `host:port`, `:port` or `port` (all interfaces); port 0 asks for an ephemeral port. */
export function parseListen(text: string): { host: string; port: number } {
  const match =
    /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!match) throw new Error(`'${text}' is not host:port (examples: 0.0.0.0:8888, 127.0.0.1:0)`);
  const host = match[1] || match[2] || "0.0.0.0";
  const problem = hostNameProblem(host);
  if (problem !== undefined) throw new Error(`'${text}': the host ${problem}`);
  return { host, port: parsePort(match[3] as string) };
}

const listenText = (c: ForwardingConfig) => `${c.listen.host}:${c.listen.port}`;

export const OPTIONS: readonly ForwardingOption[] = [
  {
    key: "listen",
    flag: "listen",
    modes: BOTH,
    kind: "string",
    valueName: "HOST:PORT",
    help: "address to accept clients on",
    parse: parseListen,
    showDefault: listenText,
  },
  {
    key: "to",
    flag: "to",
    modes: ["forward"],
    kind: "string",
    multiple: true,
    valueName: "HOST:PORT",
    help: "upstream target; repeat for several (required)",
    parse: parseHostPort,
    showDefault: () => "none",
  },
  {
    key: "balance",
    flag: "balance",
    modes: ["forward"],
    kind: "string",
    valueName: "POLICY",
    help: `how a target is chosen: ${BALANCE_POLICIES.join(" | ")}`,
    parse: oneOf(BALANCE_POLICIES),
    showDefault: (c) => c.balance,
  },
  {
    key: "pool",
    flag: "pool",
    modes: ["forward"],
    kind: "string",
    valueName: "N",
    help: "pre-dialed idle upstream sockets per target, each used once (0: none)",
    parse: count,
    showDefault: (c) => String(c.pool),
  },
  {
    key: "poolIdleTtl",
    flag: "pool-idle-ttl",
    modes: ["forward"],
    kind: "string",
    valueName: "SECS",
    help: "replace a pooled socket idle this long (0: never)",
    parse: nonNegativeSeconds,
    showDefault: (c) => showSeconds(c.poolIdleTtl),
  },
  {
    key: "connectTimeout",
    flag: "connect-timeout",
    modes: BOTH,
    kind: "string",
    valueName: "SECS",
    help: "give up on an upstream that has not accepted by then",
    parse: positiveSeconds,
    showDefault: (c) => showSeconds(c.connectTimeout),
  },
  ...connectionTimeoutRows<ForwardingConfig>().map(
    (spec): ForwardingOption => ({ ...spec, modes: BOTH }),
  ),
  {
    key: "maxConns",
    flag: "max-conns",
    modes: BOTH,
    kind: "string",
    valueName: "N",
    help: "refuse clients beyond this many open connections (0: no limit)",
    parse: count,
    showDefault: (c) => String(c.maxConns),
  },
  ...PROXY_OPTION_ROWS.map((spec): ForwardingOption => ({ ...spec, modes: ["proxy"] })),
  ...netOptionRows<ForwardingConfig>("", "the --listen port").map(
    ({ env: _env, ...spec }): ForwardingOption => ({ ...spec, modes: BOTH }),
  ),
  ...dialTlsOptionRows<ForwardingConfig>({
    prefix: "to",
    peers: "the targets",
    certificates: "the targets' certificates",
    certificate: "the target's certificate",
    defaultName: "the target's host",
  }).map((spec): ForwardingOption => ({ ...spec, modes: ["forward"] })),
  ...reportingRows<ForwardingConfig>().map((spec): ForwardingOption => ({ ...spec, modes: BOTH })),
];

/** `FORWARD_IDLE_TIMEOUT`, `PROXY_ALLOW`: the mode and the flag. */
export function envName(mode: Mode, spec: { flag: string }): string {
  return `${mode.toUpperCase()}_${spec.flag.toUpperCase().replaceAll("-", "_")}`;
}

/** The options of one mode, each with its environment variable. */
export function specsFor(mode: Mode): OptionSpec<ForwardingConfig>[] {
  return OPTIONS.filter((spec) => spec.modes.includes(mode)).map((spec) => ({
    ...spec,
    env: envName(mode, spec),
  }));
}

export type ForwardingCommand =
  | { kind: "run"; config: ForwardingConfig; options: RunOptions }
  | { kind: "help"; mode: Mode };

/**
 * Parses `forward …` or `proxy …` (argv[0] is the mode). Throws a RelayError with code
 * RELAY_ERR_BAD_ARGUMENT and a one-line reason on bad input.
 */
export function parseForwardingCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): ForwardingCommand {
  const mode = argv[0] as Mode;
  if (mode !== "forward" && mode !== "proxy") throw badArgument(`unknown mode '${argv[0]}'`);
  const parsed = parseOptionTable(specsFor(mode), argv.slice(1), env, defaultConfig(mode), {
    context: `${mode}: `,
    envPrefix: `${mode.toUpperCase()}_`,
    fileTable: mode,
  });
  if (parsed.help) return { kind: "help", mode };
  const config = parsed.config;
  if (mode === "forward" && config.to.length === 0) {
    throw badArgument("forward: at least one --to HOST:PORT is required");
  }
  const netProblem = checkNetOptions(config);
  if (netProblem !== undefined) throw badArgument(`${mode}: ${netProblem}`);
  if (!config.toTls && (config.toCa !== undefined || config.toServername !== undefined)) {
    throw badArgument(`${mode}: --to-ca and --to-servername need --to-tls`);
  }
  return { kind: "run", config, options: runOptionsOf(parsed) };
}

/** The --help text of one mode, built from the option table. */
export function forwardingHelpText(mode: Mode, program: string = programName()): string {
  const rows = optionRows(specsFor(mode), defaultConfig(mode), 30);
  const intro =
    mode === "forward"
      ? [
          "bun-relay forward: accept TCP connections and pipe each one, both ways, to a target.",
          "",
          `Usage: ${program} forward --listen HOST:PORT --to HOST:PORT [--to HOST:PORT ...] [options]`,
        ]
      : [
          "bun-relay proxy: an HTTP CONNECT proxy (tunnels only; other methods get 405).",
          "",
          `Usage: ${program} proxy --listen HOST:PORT [--allow HOST:PORT ...] [options]`,
          "Listening beyond loopback needs --allow patterns or --allow-any (no accidental open proxy).",
        ];
  return [
    ...intro,
    "",
    "Options:",
    ...rows,
    ...builtInRows(30, `${mode.toUpperCase()}_CONFIG`),
    "",
    "Durations take ms, s, m, h (5s, 250ms, 1h); sizes take k/KiB, m/MiB. See docs/forwarding.md.",
    "SIGHUP reads the TLS files, --allow-from-file and the --config file again (docs/configuration.md).",
    "Exit status: 0 after SIGINT/SIGTERM, 1 when it cannot start, 2 on a bad argument.",
  ].join("\n");
}
