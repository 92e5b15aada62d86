/**
 * Option rows and value helpers that the forwarding-style modes (forward, proxy, tunnel
 * client/server) share, so a flag these modes have in common is parsed, defaulted and
 * described in one place. Each mode adds the rows to its own table (src/cli/option-table.ts)
 * with its own environment variable names.
 */
import { nonNegative, type OptionSpec, positive } from "./option-table.ts";
import { parsePort, parseSeconds } from "./units.ts";

/** A duration of 0 or more seconds (0 usually means "off"). */
export const nonNegativeSeconds = nonNegative(parseSeconds);
/** A duration of more than 0 seconds. */
export const positiveSeconds = positive(parseSeconds);
/** How a duration default reads in --help (`60s`). */
export const showSeconds = (value: number): string => `${value}s`;

/** The config fields the shared rows set. */
export interface CommonModeOptions {
  idleTimeout: number;
  halfCloseTimeout: number;
  statsInterval: number;
  quiet: boolean;
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

/** --stats-interval, --quiet, --metrics-port and --metrics-host, in that order. */
export function reportingRows<C extends CommonModeOptions>(): CommonRow<C>[] {
  const rows: CommonRow<CommonModeOptions>[] = [
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
      showDefault: (c) => String(c.quiet),
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
      showDefault: (c) => c.metricsHost,
    },
  ];
  // As above: only CommonModeOptions fields.
  return rows as unknown as CommonRow<C>[];
}
