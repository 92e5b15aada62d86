/**
 * Runs `bun-relay proxy …` (an HTTP CONNECT proxy) until SIGINT/SIGTERM through the stream
 * modes' shared runner (src/cli/mode-runner.ts). src/main.ts loads this module only for
 * `proxy` and exits with the status returned here.
 */
import { runStreamMode, type StreamMode } from "../cli/mode-runner.ts";
import { ErrorCode, RelayError } from "../errors.ts";
import {
  type ForwardingConfig,
  forwardingHelpText,
  parseForwardingCommandLine,
} from "../forward/forward-config.ts";
import { createForwardMetricsRegistry } from "../forward/forward-metrics.ts";
import type { NetAccess } from "../net/access.ts";
import { forwardTextLogger } from "../pipe/pipe-log.ts";
import { isLoopback } from "./proxy-policy.ts";
import { ProxyServer } from "./proxy-server.ts";

/**
 * Refuses an open proxy: listening beyond loopback needs --allow patterns or --allow-any.
 * Throws RELAY_ERR_OPEN_PROXY.
 */
export function checkNotOpenProxy(config: ForwardingConfig): void {
  if (config.allowAny || config.allow.length > 0) return;
  if (isLoopback(config.listen.host)) return;
  throw new RelayError(
    ErrorCode.OpenProxy,
    `proxy: refusing to listen on ${config.listen.host} without --allow (anyone who can reach it could tunnel anywhere); add --allow HOST:PORT patterns or --allow-any`,
  );
}

/**
 * Starts the proxy a config describes. Throws a RelayError when it cannot start. `access`:
 * TLS and --allow-from of the --listen port (NetAccess.load); none: plaintext, open to all.
 */
export function startProxy(
  config: ForwardingConfig,
  log: (line: string) => void,
  access?: NetAccess,
): ProxyServer {
  checkNotOpenProxy(config);
  // With neither --allow nor --allow-any on loopback, only local users can reach the proxy,
  // and they may go anywhere.
  const allowAny = config.allowAny || config.allow.length === 0;
  return new ProxyServer(
    {
      ...(access === undefined ? {} : { access }),
      listenHost: config.listen.host,
      listenPort: config.listen.port,
      connectTimeout: config.connectTimeout,
      idleTimeout: config.idleTimeout,
      halfCloseTimeout: config.halfCloseTimeout,
      maxConns: config.maxConns,
      statsInterval: config.statsInterval,
      allow: config.allow,
      allowAny,
      auth: config.auth,
      maxHead: config.maxHead,
      headTimeout: config.headTimeout,
    },
    forwardTextLogger({ quiet: config.quiet, write: log }),
  );
}

/** `proxy` for the shared runner. */
export const PROXY_MODE: StreamMode<ForwardingConfig, ProxyServer> = {
  command: "proxy",
  parse(argv, env) {
    const command = parseForwardingCommandLine(argv, env);
    return command.kind === "help"
      ? { kind: "help", text: forwardingHelpText(command.mode) }
      : command;
  },
  start: startProxy,
  registry: (running) => createForwardMetricsRegistry(running.table),
};

/** Parses, starts, and resolves with the exit status once a signal has stopped the proxy. */
export function runProxyMode(argv: readonly string[]): Promise<number> {
  return runStreamMode(PROXY_MODE, argv);
}
