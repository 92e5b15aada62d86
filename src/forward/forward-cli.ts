/**
 * Runs `bun-relay forward …` until SIGINT/SIGTERM through the stream modes' shared runner
 * (src/cli/mode-runner.ts). src/main.ts loads this module only for `forward` and exits with
 * the status returned here.
 */
import { readFileSync } from "node:fs";
import { runStreamMode, type StreamMode } from "../cli/mode-runner.ts";
import { ErrorCode, RelayError } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import type { DialTls } from "../pipe/dialer.ts";
import { forwardTextLogger } from "../pipe/pipe-log.ts";
import {
  type ForwardingConfig,
  forwardingHelpText,
  parseForwardingCommandLine,
} from "./forward-config.ts";
import { createForwardMetricsRegistry } from "./forward-metrics.ts";
import { Forwarder } from "./forwarder.ts";

/**
 * Starts forwarding as a config describes. Throws a RelayError when it cannot start.
 * `access`: TLS and --allow-from of the --listen port (NetAccess.load); none: plaintext.
 */
export function startForward(
  config: ForwardingConfig,
  log: (line: string) => void,
  access?: NetAccess,
): Forwarder {
  return new Forwarder(
    {
      ...(access === undefined ? {} : { access }),
      listenHost: config.listen.host,
      listenPort: config.listen.port,
      connectTimeout: config.connectTimeout,
      idleTimeout: config.idleTimeout,
      halfCloseTimeout: config.halfCloseTimeout,
      maxConns: config.maxConns,
      statsInterval: config.statsInterval,
      targets: config.to,
      balance: config.balance,
      pool: config.pool,
      poolIdleTtl: config.poolIdleTtl,
      ...(config.toTls ? { toTls: loadDialTls(config) } : {}),
    },
    forwardTextLogger({ quiet: config.quiet, write: log }),
  );
}

/** `forward` for the shared runner. */
export const FORWARD_MODE: StreamMode<ForwardingConfig, Forwarder> = {
  command: "forward",
  parse(argv, env) {
    const command = parseForwardingCommandLine(argv, env);
    return command.kind === "help"
      ? { kind: "help", text: forwardingHelpText(command.mode) }
      : command;
  },
  preflight(config) {
    if (config.toTls) loadDialTls(config);
  },
  start: startForward,
  registry: (running) => createForwardMetricsRegistry(running.table),
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
