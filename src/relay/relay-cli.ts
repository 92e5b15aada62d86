/**
 * Runs the relay itself: `bun-relay [PUB_PORT [SUB_PORT]] [options]` until SIGINT/SIGTERM.
 * src/main.ts calls it when the first word is not another mode's.
 *
 * Exit status: 0 after a clean shutdown (or --help), 1 when the relay cannot start,
 * 2 on a bad argument. Errors are one line on stderr, never a stack trace.
 */
import { helpText, OPTIONS, parseCommandLine, type RelayConfig } from "../cli/config.ts";
import { reportCheck, reportFailure } from "../cli/failure.ts";
import { installSignals } from "../cli/mode-runner.ts";
import { probeMetricsPort } from "../cli/port-probe.ts";
import { versionText } from "../cli/program.ts";
import { NET_LIVE_FLAGS, reloadFromFile } from "../cli/reload.ts";
import { ReloadLine } from "../cli/reload-line.ts";
import { jsonLogger, textLogger } from "../log.ts";
import { createMetricsRegistry } from "../metrics/registry.ts";
import { MetricsServer } from "../metrics/server.ts";
import { NetAccess } from "../net/access.ts";
import { registerNetMetrics } from "../net/net-metrics.ts";
import type { RelayEvent } from "./events.ts";
import { Relay } from "./server.ts";

function fail(error: unknown, status: number): never {
  process.exit(reportFailure(error, status));
}

/**
 * What the relay reads again on SIGHUP with --config (the parts read them at use time); the
 * rest needs a restart.
 */
const RELAY_LIVE_FLAGS = new Set<string>([
  ...NET_LIVE_FLAGS,
  "quiet",
  "max-conns",
  "users-file",
  "max-pending",
  "stall-timeout",
  "slow-consumer",
]);

/** Parses, starts, and serves until a signal; exits the process itself (0, 1 or 2). */
export function runRelayMode(argv: string[]): void {
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(argv, process.env);
  } catch (error) {
    fail(error, 2);
  }
  if (command.kind === "help" || command.kind === "version") {
    process.stdout.write(`${command.kind === "help" ? helpText() : versionText()}\n`);
    return;
  }

  for (const warning of command.options.warnings) process.stderr.write(`bun-relay: ${warning}\n`);
  const config = command.config;
  const { configFile } = command.options;
  const logOptions = {
    // A getter: --quiet changes on reload.
    get quiet() {
      return config.quiet;
    },
    write: (line: string) => console.log(line),
  };
  // One RELOAD line per SIGHUP, whatever its parts report (reload-line.ts).
  const reloadLine = new ReloadLine<RelayEvent>(
    config.logFormat === "json" ? jsonLogger(logOptions) : textLogger(logOptions),
  );
  const log = reloadLine.log;
  // TLS files and --allow-from ranges, checked before anything listens (src/net).
  let access: NetAccess;
  try {
    access = NetAccess.load(config, log);
  } catch (error) {
    fail(error, 2);
  }
  if (command.options.check) process.exit(reportCheck("", configFile));
  const signals = installSignals();
  let relay: Relay;
  try {
    probeMetricsPort(config);
    relay = new Relay(config, log, access);
  } catch (error) {
    fail(error, 1);
  }
  access.announce();

  let metrics: MetricsServer | undefined;
  const backplane = relay.backplane;
  if (config.metricsPort !== undefined) {
    try {
      const registry = createMetricsRegistry(relay);
      registerNetMetrics(registry, access);
      metrics = MetricsServer.start({
        host: config.metricsHost,
        port: config.metricsPort,
        registry,
        isServing: () => !relay.shuttingDown,
        tls: config.metricsTls ? access.tls?.options : undefined,
        access,
        relay: {
          source: relay,
          options: { statusTail: config.statusTail, tlsTimeout: config.handshakeTimeout },
        },
        reusePort: config.reusePort,
        ...(backplane ? { clusterState: () => backplane.state } : {}),
      });
    } catch (error) {
      fail(error, 1); // exiting closes the relay's listeners too
    }
    log({
      type: "metrics_listening",
      host: config.metricsHost,
      port: metrics.port,
      ...(config.metricsTls ? { tls: true } : {}),
    });
    if (config.metricsTls) {
      const server = metrics;
      access.register({
        prepareTls(tls) {
          const previous = access.tls;
          server.reloadTls(tls.options);
          return { commit() {}, abort: () => previous && server.reloadTls(previous.options) };
        },
      });
    }
  }

  const stop = async (signal: string) => {
    log({ type: "signal", signal });
    process.on(signal, () => process.exit(1)); // a second signal does not wait
    // Exit 0 either way: the final BYE line says whether anything could not be flushed.
    // The metrics endpoint stays up meanwhile, so /healthz answers 503 during the flush.
    await relay.shutdown();
    await metrics?.stop();
    process.exit(0);
  };
  // SIGHUP: the --config file, then the TLS files, --allow-from-file and --users-file again;
  // connections stay.
  signals.onReload(() =>
    reloadLine.during(() => {
      if (configFile !== undefined) {
        log(
          reloadFromFile(configFile, OPTIONS, config, RELAY_LIVE_FLAGS, () => {
            const next = parseCommandLine(argv, process.env);
            return (next as { config: RelayConfig }).config;
          }),
        );
        relay.hub.resize(config.maxPending, config.stallTimeout * 1000);
        relay.hub.setPolicy(config.slowConsumer);
      }
      access.reload();
      relay.nats?.reloadUsers();
    }),
  );
  void signals.signalled.then(stop);
}
