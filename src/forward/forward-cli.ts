/**
 * Runs `bun-relay forward …` until SIGINT/SIGTERM through the stream modes' shared runner
 * (src/cli/mode-runner.ts). src/main.ts loads this module only for `forward` and exits with
 * the status returned here.
 */
import { readFileSync } from "node:fs";
import type { EventLine } from "../cli/mode-log.ts";
import { type ModeCommand, runStreamMode, type StreamMode } from "../cli/mode-runner.ts";
import { NET_LIVE_FLAGS } from "../cli/reload.ts";
import { ErrorCode, RelayError } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import type { TableSettings } from "../pipe/connection-table.ts";
import type { DialTls } from "../pipe/dialer.ts";
import { forwardLogger } from "../pipe/pipe-log.ts";
import {
  type ForwardingConfig,
  forwardingHelpText,
  parseForwardingCommandLine,
  specsFor,
} from "./forward-config.ts";
import { createForwardMetricsRegistry } from "./forward-metrics.ts";
import { Forwarder } from "./forwarder.ts";

/**
 * Starts forwarding as a config describes. Throws a RelayError when it cannot start.
 * `access`: TLS and --allow-from of the --listen port (NetAccess.load); none: plaintext.
 */
export function startForward(
  config: ForwardingConfig,
  line: EventLine,
  access?: NetAccess,
): Forwarder {
  return new Forwarder(
    {
      ...(access === undefined ? {} : { access }),
      ...tableSettings(config),
      listenHost: config.listen.host,
      listenPort: config.listen.port,
      connectTimeout: config.connectTimeout,
      targets: config.to,
      balance: config.balance,
      pool: config.pool,
      poolIdleTtl: config.poolIdleTtl,
      ...(config.toTls ? { toTls: loadDialTls(config) } : {}),
    },
    // A getter: --quiet changes on reload.
    forwardLogger({
      get quiet() {
        return config.quiet;
      },
      line,
    }),
  );
}

/**
 * The connection table's settings (the stream modes share them); max-conns is read at each
 * accept, so a reload that copies it here applies to the next connection.
 */
export function tableSettings(config: ForwardingConfig | TableSettings): TableSettings {
  return {
    maxConns: config.maxConns,
    idleTimeout: config.idleTimeout,
    halfCloseTimeout: config.halfCloseTimeout,
    statsInterval: config.statsInterval,
    reusePort: config.reusePort,
  };
}

/** What `forward` and `proxy` read again on SIGHUP with --config; the rest needs a restart. */
export const FORWARDING_LIVE_FLAGS = new Set<string>([
  ...NET_LIVE_FLAGS,
  "quiet",
  "max-conns",
  "connect-timeout",
]);

/** `forward …` or `proxy …` as the shared runner takes it. */
export function forwardingCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ModeCommand<ForwardingConfig> {
  const command = parseForwardingCommandLine(argv, env);
  return command.kind === "help"
    ? { kind: "help", text: forwardingHelpText(command.mode) }
    : { kind: "run", config: command.config, ...command.options };
}

/** `forward` for the shared runner. */
export const FORWARD_MODE: StreamMode<ForwardingConfig, Forwarder> = {
  command: "forward",
  specs: specsFor("forward"),
  live: FORWARDING_LIVE_FLAGS,
  parse: forwardingCommand,
  preflight(config) {
    if (config.toTls) loadDialTls(config);
  },
  start: startForward,
  registry: (running) => createForwardMetricsRegistry(running.table),
  drain: (running, config) => running.shutdown(config.shutdownTimeout),
  applyLive(running, config) {
    Object.assign(running.table.settings, tableSettings(config));
    running.settings.connectTimeout = config.connectTimeout;
  },
};

/** Parses, starts, and resolves with the exit status once a signal has stopped the mode. */
export function runForwardMode(argv: readonly string[]): Promise<number> {
  return runStreamMode(FORWARD_MODE, argv);
}

/** forward --to-tls: --to-ca read now, so a bad file is a one-line error at start. */
function loadDialTls(config: ForwardingConfig): DialTls {
  if (config.toCa === undefined) return { serverName: config.toServername };
  let ca: string;
  try {
    ca = readFileSync(config.toCa, "utf8");
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw new RelayError(
      ErrorCode.BadArgument,
      `--to-ca ${config.toCa}: cannot read the file (${why})`,
    );
  }
  if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new RelayError(
      ErrorCode.BadArgument,
      `--to-ca ${config.toCa}: no PEM certificate in the file`,
    );
  }
  return { ca, serverName: config.toServername };
}
