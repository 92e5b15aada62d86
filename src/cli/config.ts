/**
 * The relay's configuration: one table of options from which the parser, the environment
 * variables and the --help text are all derived, so they cannot drift apart.
 *
 * Precedence: command-line flag > positional port > environment variable > default.
 */

import { parseNatsUrl, sharedSettings } from "../cluster/servers.ts";
import { checkNetOptions, DEFAULT_NET_OPTIONS, type NetOptions } from "../net/access.ts";
import { parseHostName } from "../net/host-name.ts";
import { netOptionRows } from "../net/net-options.ts";
import { DEFAULT_RELAY_OPTIONS, type Framing, type RelayOptions } from "../relay/options.ts";
import { CLUSTER_OPTION_ROWS } from "./cluster-options.ts";
import { FRAME_OPTION_ROWS, resolveFrameOptions } from "./frame-options.ts";
import { LIMIT_OPTION_ROWS } from "./limit-options.ts";
import { LOG_FORMATS, type LogFormat } from "./mode-log.ts";
import { checkNatsOptions } from "./nats-config.ts";
import { NATS_OPTION_ROWS } from "./nats-options.ts";
import {
  apply,
  badArgument,
  nonNegative,
  type OptionSpec,
  oneOf,
  parseBoolean,
  parseOptionTable,
  type RunOptions,
  runOptionsOf,
} from "./option-table.ts";
import { didYouMean } from "./program.ts";
import { parsePort, parsePortOrOff, parseSeconds } from "./units.ts";
import { WS_OPTION_ROWS } from "./ws-options.ts";

export { LOG_FORMATS, type LogFormat };

/** The relay core's options plus what only the command line uses (logging, metrics). */
export interface RelayConfig extends RelayOptions, NetOptions {
  /** --framing: both ports' wire format, unless --pub-framing / --sub-framing say otherwise. */
  framing: Framing;
  /** --token-file: where --token was read from (never printed). */
  tokenFile: string | undefined;
  /** No OPEN/CLOSE lines. */
  quiet: boolean;
  /** `text` lines for people, or one JSON object per line for log pipelines. */
  logFormat: LogFormat;
  /** Port of the HTTP endpoint serving /metrics and /healthz; undefined: no endpoint. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** Serve the metrics endpoint over HTTPS with --tls-cert / --tls-key (and --tls-client-ca). */
  metricsTls: boolean;
  /** The status page may tail a subject (shows payloads to whoever reaches the metrics port). */
  statusTail: boolean;
}

export const DEFAULT_CONFIG: Readonly<RelayConfig> = {
  ...DEFAULT_RELAY_OPTIONS,
  framing: "line",
  tokenFile: undefined,
  quiet: false,
  logFormat: "text",
  metricsPort: undefined,
  metricsHost: "127.0.0.1",
  ...DEFAULT_NET_OPTIONS,
  metricsTls: false,
  statusTail: false,
};

export const OPTIONS: readonly OptionSpec<RelayConfig>[] = [
  {
    key: "host",
    flag: "host",
    env: "RELAY_HOST",
    kind: "string",
    valueName: "ADDR",
    help: "address every port listens on (publisher, subscriber, NATS)",
    parse: parseHostName,
    showDefault: (c) => c.host,
  },
  {
    key: "pubPort",
    flag: "pub-port",
    env: "RELAY_PUB_PORT",
    kind: "string",
    valueName: "PORT",
    help: "port publishers connect to (also the 1st positional argument) | off",
    parse: parsePortOrOff,
    showDefault: (c) => String(c.pubPort ?? "off"),
  },
  {
    key: "subPort",
    flag: "sub-port",
    env: "RELAY_SUB_PORT",
    kind: "string",
    valueName: "PORT",
    help: "port subscribers connect to (also the 2nd positional argument) | off",
    parse: parsePortOrOff,
    showDefault: (c) => String(c.subPort ?? "off"),
  },
  ...FRAME_OPTION_ROWS,
  ...NATS_OPTION_ROWS,
  ...WS_OPTION_ROWS,
  ...LIMIT_OPTION_ROWS,
  {
    key: "statsInterval",
    flag: "stats-interval",
    env: "RELAY_STATS_INTERVAL",
    kind: "string",
    valueName: "SECS",
    help: "seconds between stats lines (0: none)",
    parse: nonNegative(parseSeconds),
    showDefault: (c) => String(c.statsInterval),
  },
  {
    key: "shutdownTimeout",
    flag: "shutdown-timeout",
    env: "RELAY_SHUTDOWN_TIMEOUT",
    kind: "string",
    valueName: "SECS",
    help: "on SIGINT/SIGTERM, how long to flush queued data before closing (then up to 2 s more for clients to read it and close; 0: no wait)",
    parse: nonNegative(parseSeconds),
    showDefault: (c) => String(c.shutdownTimeout),
  },
  ...CLUSTER_OPTION_ROWS,
  {
    key: "reusePort",
    flag: "reuse-port",
    env: "RELAY_REUSE_PORT",
    kind: "boolean",
    help:
      "SO_REUSEPORT on every port and --metrics-port: several relay processes on one host share " +
      "them and the kernel spreads connections; with --cluster they act as one relay",
    parse: parseBoolean,
    showDefault: (c) => String(c.reusePort),
  },
  {
    key: "quiet",
    flag: "quiet",
    env: "RELAY_QUIET",
    kind: "boolean",
    help: "no OPEN/CLOSE line per connection",
    parse: parseBoolean,
    showDefault: (c) => String(c.quiet),
  },
  {
    key: "logFormat",
    flag: "log-format",
    env: "RELAY_LOG_FORMAT",
    kind: "string",
    valueName: "FORMAT",
    help: "text (lines for people) | json (one object per line: ts, event, level, fields)",
    parse: oneOf(LOG_FORMATS),
    showDefault: (c) => c.logFormat,
  },
  ...netOptionRows<RelayConfig>("RELAY_", "every port"),
  {
    key: "metricsPort",
    flag: "metrics-port",
    env: "RELAY_METRICS_PORT",
    kind: "string",
    valueName: "PORT",
    help: "serve GET /metrics (Prometheus), /healthz, /varz, /connz, /subsz (nats-server's JSON) and the live status page GET / over HTTP on this port (0: any free port)",
    parse: parsePort,
    showDefault: (c) => (c.metricsPort === undefined ? "off" : String(c.metricsPort)),
  },
  {
    key: "metricsHost",
    flag: "metrics-host",
    env: "RELAY_METRICS_HOST",
    kind: "string",
    valueName: "ADDR",
    help: "address the metrics endpoint listens on (0.0.0.0 to let a remote Prometheus scrape)",
    parse: parseHostName,
    showDefault: (c) => c.metricsHost,
  },
  {
    key: "metricsTls",
    flag: "metrics-tls",
    env: "RELAY_METRICS_TLS",
    kind: "boolean",
    help: "serve the metrics endpoint (and the status page) over HTTPS with --tls-cert and --tls-key (and --tls-client-ca)",
    parse: parseBoolean,
    showDefault: (c) => String(c.metricsTls),
  },
  {
    key: "statusTail",
    flag: "status-tail",
    env: "RELAY_STATUS_TAIL",
    kind: "boolean",
    help: "let the status page (GET / on --metrics-port) tail a subject it picks: shows payloads to whoever reaches that port",
    parse: parseBoolean,
    showDefault: (c) => String(c.statusTail),
  },
];

/** What the command line asked for: run the relay with a config, or print help / version. */
export type Command =
  | { kind: "run"; config: RelayConfig; options: RunOptions }
  | { kind: "help" }
  | { kind: "version" };

const PORT_KEYS = ["pubPort", "subPort"] as const;

/** Throws a bad argument naming the modes when `word` is neither a flag nor a port number. */
function checkNotAMode(word: string | undefined): void {
  if (word === undefined || word.startsWith("-") || /^\d+$/.test(word)) return;
  const near = didYouMean(word, ["forward", "proxy", "tunnel"]);
  throw badArgument(
    `unknown mode '${word}'${near}: the modes are forward, proxy and tunnel; the relay itself takes [PUB_PORT [SUB_PORT]]`,
  );
}

/**
 * Parses the relay's command line (without the runtime and script names) and environment:
 * the option table, plus up to two positional ports (PUB SUB, like the Go relay).
 * Throws a RelayError with code RELAY_ERR_BAD_ARGUMENT and a one-line reason on bad input.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): Command {
  // A first word that is neither a flag nor a port is most likely a mistyped mode: say so
  // before its flags (forward's, say) are judged as the relay's.
  checkNotAMode(argv[0]);
  const parsed = parseOptionTable(OPTIONS, argv, env, DEFAULT_CONFIG, {
    envPrefix: "RELAY_",
    fileTable: "",
    positionals(config, positionals, flagGiven) {
      if (positionals.length > 2) {
        throw badArgument(`unexpected argument '${positionals[2]}' (at most two ports: PUB SUB)`);
      }
      checkNotAMode(positionals[0]);
      positionals.forEach((text, index) => {
        const key = PORT_KEYS[index] as (typeof PORT_KEYS)[number];
        const spec = OPTIONS.find((o) => o.key === key) as OptionSpec<RelayConfig>;
        if (flagGiven(key)) {
          throw badArgument(
            `the ${key === "pubPort" ? "publisher" : "subscriber"} port is given twice (positional '${text}' and --${spec.flag})`,
          );
        }
        apply(config, spec, [text], `port argument ${index + 1}`);
      });
    },
  });
  if (parsed.help) return { kind: "help" };
  if (parsed.version) return { kind: "version" };
  const config = parsed.config;
  if (
    config.pubPort === undefined &&
    config.subPort === undefined &&
    config.natsPort === undefined &&
    config.wsPort === undefined
  ) {
    throw badArgument("every port is off: open --pub-port, --sub-port, --nats-port or --ws-port");
  }
  if (config.pubPort !== undefined && config.pubPort !== 0 && config.pubPort === config.subPort) {
    throw badArgument(`the publisher and subscriber ports are both ${config.pubPort}`);
  }
  resolveFrameOptions(config, parsed.given);
  checkNatsOptions(config);
  const netProblem = checkNetOptions(config);
  if (netProblem !== undefined) throw badArgument(netProblem);
  if (config.metricsTls && (config.tlsCert === undefined || config.metricsPort === undefined)) {
    throw badArgument("--metrics-tls needs --metrics-port, --tls-cert and --tls-key");
  }
  if (config.statusTail && config.metricsPort === undefined) {
    throw badArgument("--status-tail needs --metrics-port (the status page is served there)");
  }
  if (config.cluster.length > 0) {
    try {
      sharedSettings(config.cluster.map(parseNatsUrl));
    } catch (error) {
      throw badArgument(`--cluster: ${(error as Error).message}`);
    }
  }
  return { kind: "run", config, options: runOptionsOf(parsed) };
}

// The relay's --help (src/cli/help-text.ts), where importers have always found it.
export { helpText } from "./help-text.ts";
