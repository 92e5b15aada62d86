/**
 * Runs `bun run src/main.ts forward …` or `… proxy …` until SIGINT/SIGTERM. src/main.ts loads
 * this module only for these two modes and exits with the status returned here.
 */
import { readFileSync } from "node:fs";
import type { Registry } from "prom-client";
import { reportModeFailure, serveUntilSignal } from "../cli/mode-runner.ts";
import { ErrorCode, RelayError } from "../errors.ts";
import { NetAccess } from "../net/access.ts";
import { formatNetEvent } from "../net/net-events.ts";
import { registerNetMetrics } from "../net/net-metrics.ts";
import type { ConnectionTable } from "../pipe/connection-table.ts";
import type { DialTls } from "../pipe/dialer.ts";
import { forwardTextLogger } from "../pipe/pipe-log.ts";
import { isLoopback } from "../proxy/proxy-policy.ts";
import { ProxyServer } from "../proxy/proxy-server.ts";
import {
  type ForwardingConfig,
  forwardingHelpText,
  parseForwardingCommandLine,
} from "./forward-config.ts";
import { createForwardMetricsRegistry } from "./forward-metrics.ts";
import { Forwarder } from "./forwarder.ts";

/** What a running mode exposes to the runner. */
interface Running {
  readonly table: ConnectionTable;
  stop(): void;
}

/**
 * Refuses an open proxy: listening beyond loopback needs --allow patterns or --allow-any.
 * Throws RELAY_ERR_OPEN_PROXY.
 */
export function checkNotOpenProxy(config: ForwardingConfig): void {
  if (config.mode !== "proxy" || config.allowAny || config.allow.length > 0) return;
  if (isLoopback(config.listen.host)) return;
  throw new RelayError(
    ErrorCode.OpenProxy,
    `proxy: refusing to listen on ${config.listen.host} without --allow (anyone who can reach it could tunnel anywhere); add --allow HOST:PORT patterns or --allow-any`,
  );
}

/**
 * Starts the mode a config describes. Throws a RelayError when it cannot start. `access`:
 * TLS and --allow-from of the --listen port (NetAccess.load); none: plaintext, open to all.
 */
export function startForwarding(
  config: ForwardingConfig,
  log: Parameters<typeof forwardTextLogger>[0]["write"],
  access?: NetAccess,
): Running {
  checkNotOpenProxy(config);
  const emit = forwardTextLogger({ quiet: config.quiet, write: log });
  const common = {
    ...(access === undefined ? {} : { access }),
    listenHost: config.listen.host,
    listenPort: config.listen.port,
    connectTimeout: config.connectTimeout,
    idleTimeout: config.idleTimeout,
    halfCloseTimeout: config.halfCloseTimeout,
    maxConns: config.maxConns,
    statsInterval: config.statsInterval,
  };
  if (config.mode === "forward") {
    return new Forwarder(
      {
        ...common,
        targets: config.to,
        balance: config.balance,
        pool: config.pool,
        poolIdleTtl: config.poolIdleTtl,
        ...(config.toTls ? { toTls: loadDialTls(config) } : {}),
      },
      emit,
    );
  }
  // With neither --allow nor --allow-any on loopback, only local users can reach the proxy,
  // and they may go anywhere.
  const allowAny = config.allowAny || config.allow.length === 0;
  return new ProxyServer(
    {
      ...common,
      allow: config.allow,
      allowAny,
      auth: config.auth,
      maxHead: config.maxHead,
      headTimeout: config.headTimeout,
    },
    emit,
  );
}

/** Parses, starts, and resolves with the exit status once a signal has stopped the mode. */
export async function runForwardingMode(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseForwardingCommandLine>;
  try {
    command = parseForwardingCommandLine(argv, process.env);
  } catch (error) {
    return reportModeFailure(error, 2, argv[0] ?? "forward");
  }
  if (command.kind === "help") {
    process.stdout.write(`${forwardingHelpText(command.mode)}\n`);
    return 0;
  }
  const config = command.config;
  const write = (line: string) => console.log(line);
  // TLS files and --allow-from ranges of the --listen port, checked before it opens (src/net).
  let access: NetAccess;
  try {
    access = NetAccess.load(config, (event) =>
      write(`${new Date().toISOString()} ${formatNetEvent(event)}`),
    );
    if (config.toTls) loadDialTls(config);
  } catch (error) {
    return reportModeFailure(error, 2, config.mode);
  }
  let running: Running;
  try {
    running = startForwarding(config, write, access);
  } catch (error) {
    return reportModeFailure(error, 1, config.mode);
  }
  access.announce();
  // SIGHUP: read the TLS files and --allow-from-file again; connections stay.
  process.on("SIGHUP", () => access.reload());
  return serveUntilSignal({
    write,
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    registry: () => withNetMetrics(createForwardMetricsRegistry(running.table), access),
    stop: () => running.stop(),
    fail: (error, status) => reportModeFailure(error, status, config.mode),
  });
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

function withNetMetrics(registry: Registry, access: NetAccess): Registry {
  registerNetMetrics(registry, access);
  return registry;
}
