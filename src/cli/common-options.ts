/**
 * Option rows and value helpers that the stream modes (forward, proxy, tunnel client/server)
 * share, so a flag these modes have in common is parsed, defaulted and described in one
 * place. Each mode adds the rows to its own table (src/cli/option-table.ts) with its own
 * environment variable names. The relay's table has the same flags with the same parsers
 * (COMMON_FLAGS; test/cli/common-flags.test.ts holds every mode to it).
 */
import { parseHostName } from "../net/host-name.ts";
import { LOG_FORMATS, type LogFormat } from "./mode-log.ts";
import { nonNegative, type OptionSpec, oneOf, parseBoolean, positive } from "./option-table.ts";
import { parsePort, parseSeconds } from "./units.ts";

/** A duration of 0 or more seconds (0 usually means "off"). */
export const nonNegativeSeconds = nonNegative(parseSeconds);
/** A duration of more than 0 seconds. */
export const positiveSeconds = positive(parseSeconds);
/** How a duration default reads in --help (`60s`). */
export const showSeconds = (value: number): string => `${value}s`;

/** Flags every mode has, the relay included, with the same meaning and units. */
export const COMMON_FLAGS = [
  "quiet",
  "log-format",
  "shutdown-timeout",
  "reuse-port",
  "stats-interval",
  "metrics-port",
  "metrics-host",
  "max-conns",
  "tls-cert",
  "tls-key",
  "tls-client-ca",
  "allow-from",
  "allow-from-file",
] as const;

/** The config fields the shared rows set. */
export interface CommonModeOptions {
  idleTimeout: number;
  halfCloseTimeout: number;
  statsInterval: number;
  quiet: boolean;
  /** --log-format: text lines, or one JSON object per line. */
  logFormat: LogFormat;
  /** Seconds open connections may finish after SIGINT/SIGTERM; 0: close at once. */
  shutdownTimeout: number;
  /** SO_REUSEPORT on the listening port and the metrics port. */
  reusePort: boolean;
  /** Port of the /metrics and /healthz endpoint; undefined: no endpoint. */
  metricsPort: number | undefined;
  metricsHost: string;
}

/** A shared row: the mode supplies the environment variable. */
export type CommonRow<C> = Omit<OptionSpec<C>, "env">;

/** --idle-timeout and --half-close-timeout, in that order. */
export function connectionTimeoutRows<C extends CommonModeOptions>(): CommonRow<C>[] {
  const rows: CommonRow<CommonModeOptions>[] = [
    {
      key: "idleTimeout",
      flag: "idle-timeout",
      kind: "string",
      valueName: "SECS",
      help: "close a connection with no byte either way for this long (0: never)",
      parse: nonNegativeSeconds,
      showDefault: (c) => showSeconds(c.idleTimeout),
    },
    {
      key: "halfCloseTimeout",
      flag: "half-close-timeout",
      kind: "string",
      valueName: "SECS",
      help: "close once one side has finished and the other stays silent this long (0: never)",
      parse: nonNegativeSeconds,
      showDefault: (c) => showSeconds(c.halfCloseTimeout),
    },
  ];
  // The rows read and set only CommonModeOptions fields, which every C has.
  return rows as unknown as CommonRow<C>[];
}

/** The defaults of the rows below that every stream mode shares. */
export const COMMON_DEFAULTS = {
  statsInterval: 60,
  quiet: false,
  logFormat: "text",
  shutdownTimeout: 0,
  reusePort: false,
  metricsPort: undefined,
  metricsHost: "127.0.0.1",
} as const satisfies Partial<CommonModeOptions>;

/**
 * --shutdown-timeout, --stats-interval, --quiet, --log-format, --reuse-port, --metrics-port
 * and --metrics-host, in that order.
 */
export function reportingRows<C extends CommonModeOptions>(): CommonRow<C>[] {
  const rows: CommonRow<CommonModeOptions>[] = [
    {
      key: "shutdownTimeout",
      flag: "shutdown-timeout",
      kind: "string",
      valueName: "SECS",
      help: "on SIGINT/SIGTERM, let open connections finish for this long (0: close at once)",
      parse: nonNegativeSeconds,
      showDefault: (c) => showSeconds(c.shutdownTimeout),
    },
    {
      key: "statsInterval",
      flag: "stats-interval",
      kind: "string",
      valueName: "SECS",
      help: "seconds between stats lines (0: none)",
      parse: nonNegativeSeconds,
      showDefault: (c) => String(c.statsInterval),
    },
    {
      key: "quiet",
      flag: "quiet",
      kind: "boolean",
      help: "no OPEN/CLOSE line for ordinary connections",
      parse: parseBoolean,
      showDefault: (c) => String(c.quiet),
    },
    {
      key: "logFormat",
      flag: "log-format",
      kind: "string",
      valueName: "FORMAT",
      help: "text (lines for people) | json (one object per line: ts, event, level, fields)",
      parse: oneOf(LOG_FORMATS),
      showDefault: (c) => c.logFormat,
    },
    {
      key: "reusePort",
      flag: "reuse-port",
      kind: "boolean",
      help: "SO_REUSEPORT on --listen and --metrics-port: several processes share them and the kernel spreads connections",
      parse: parseBoolean,
      showDefault: (c) => String(c.reusePort),
    },
    {
      key: "metricsPort",
      flag: "metrics-port",
      kind: "string",
      valueName: "PORT",
      help: "serve Prometheus /metrics and /healthz on this port (0: any free port)",
      parse: parsePort,
      showDefault: () => "off",
    },
    {
      key: "metricsHost",
      flag: "metrics-host",
      kind: "string",
      valueName: "ADDR",
      help: "address the metrics endpoint listens on",
      parse: parseHostName,
      showDefault: (c) => c.metricsHost,
    },
  ];
  // As above: only CommonModeOptions fields.
  return rows as unknown as CommonRow<C>[];
}
