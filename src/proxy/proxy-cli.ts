/**
 * Runs `bun-relay proxy …` (an HTTP CONNECT proxy) until SIGINT/SIGTERM through the stream
 * modes' shared runner (src/cli/mode-runner.ts). src/main.ts loads this module only for
 * `proxy` and exits with the status returned here.
 */
import type { EventLine } from "../cli/mode-log.ts";
import { runStreamMode, type StreamMode } from "../cli/mode-runner.ts";
import { ErrorCode, RelayError } from "../errors.ts";
import { FORWARDING_LIVE_FLAGS, forwardingCommand, tableSettings } from "../forward/forward-cli.ts";
import { type ForwardingConfig, specsFor } from "../forward/forward-config.ts";
import { createForwardMetricsRegistry } from "../forward/forward-metrics.ts";
import type { NetAccess } from "../net/access.ts";
import { forwardLogger } from "../pipe/pipe-log.ts";
import { isLoopback } from "./proxy-policy.ts";
import { ProxyServer, type ProxySettings } from "./proxy-server.ts";

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

/** The proxy's policy and limits from a config: built at start and again on reload. */
function proxySettings(config: ForwardingConfig): Omit<ProxySettings, "listenHost" | "listenPort"> {
  // With neither --allow nor --allow-any on loopback, only local users can reach the proxy,
  // and they may go anywhere.
  const allowAny = config.allowAny || config.allow.length === 0;
  return {
    ...tableSettings(config),
    connectTimeout: config.connectTimeout,
    allow: config.allow,
    allowAny,
    auth: config.auth,
    maxHead: config.maxHead,
    headTimeout: config.headTimeout,
  };
}

/**
 * Starts the proxy a config describes. Throws a RelayError when it cannot start. `access`:
 * TLS and --allow-from of the --listen port (NetAccess.load); none: plaintext, open to all.
 */
export function startProxy(
  config: ForwardingConfig,
  line: EventLine,
  access?: NetAccess,
): ProxyServer {
  checkNotOpenProxy(config);
  return new ProxyServer(
    {
      ...(access === undefined ? {} : { access }),
      ...proxySettings(config),
      listenHost: config.listen.host,
      listenPort: config.listen.port,
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

/** What the proxy reads again on SIGHUP with --config: its policy too. */
const PROXY_LIVE_FLAGS = new Set<string>([
  ...FORWARDING_LIVE_FLAGS,
  "allow",
  "allow-any",
  "auth",
  "max-head",
  "head-timeout",
]);

/** `proxy` for the shared runner. */
export const PROXY_MODE: StreamMode<ForwardingConfig, ProxyServer> = {
  command: "proxy",
  specs: specsFor("proxy"),
  live: PROXY_LIVE_FLAGS,
  parse: forwardingCommand,
  // An open proxy is a configuration error, found by --check too.
  preflight: checkNotOpenProxy,
  start: startProxy,
  registry: (running) => createForwardMetricsRegistry(running.table),
  drain: (running, config) => running.shutdown(config.shutdownTimeout),
  applyLive(running, config) {
    // A reload that would open the proxy to everyone is refused by preflight before this.
    Object.assign(running.settings, proxySettings(config));
  },
};

/** Parses, starts, and resolves with the exit status once a signal has stopped the proxy. */
export function runProxyMode(argv: readonly string[]): Promise<number> {
  return runStreamMode(PROXY_MODE, argv);
}
