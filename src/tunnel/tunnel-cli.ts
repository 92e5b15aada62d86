/**
 * Runs `bun run src/main.ts tunnel client …` or `… tunnel server …` until SIGINT/SIGTERM.
 * src/main.ts loads this module only for `tunnel` and exits with the status returned here.
 *
 * Shutdown: the first signal stops accepting and lets open connections finish for
 * --shutdown-timeout, then closes the rest (reason shutdown) and the sessions; a second
 * signal closes everything at once.
 */
import { RelayError } from "../errors.ts";
import { MetricsServer } from "../metrics/server.ts";
import type { MuxConfig } from "../mux/index.ts";
import { TunnelClient } from "./tunnel-client.ts";
import { parseTunnelCommandLine, type TunnelConfig, tunnelHelpText } from "./tunnel-config.ts";
import { tunnelTextLogger } from "./tunnel-log.ts";
import { createTunnelMetricsRegistry } from "./tunnel-metrics.ts";
import { TunnelServer } from "./tunnel-server.ts";

/** Starts the side a config describes. Throws a RelayError when it cannot start. */
export function startTunnel(
  config: TunnelConfig,
  mux: MuxConfig,
  write: (line: string) => void,
): TunnelClient | TunnelServer {
  let running: TunnelClient | TunnelServer | undefined;
  const emit = tunnelTextLogger({
    quiet: config.quiet,
    write,
    sessions: () => (running as TunnelClient | TunnelServer).sessionStats(),
  });
  const common = {
    listenHost: config.listen.host,
    listenPort: config.listen.port,
    config: mux,
    connectTimeout: config.connectTimeout,
    idleTimeout: config.idleTimeout,
    halfCloseTimeout: config.halfCloseTimeout,
    maxConns: config.maxConns,
    statsInterval: config.statsInterval,
  };
  if (config.role === "client") {
    const server = config.server as { host: string; port: number };
    running = new TunnelClient(
      { ...common, serverHost: server.host, serverPort: server.port, conns: config.conns },
      emit,
    );
  } else {
    const to = config.to as { host: string; port: number };
    running = new TunnelServer({ ...common, targetHost: to.host, targetPort: to.port }, emit);
  }
  return running;
}

function report(error: unknown, status: number, role: string): number {
  const message =
    error instanceof RelayError ? error.reason : String((error as Error)?.message ?? error);
  process.stderr.write(`bun-relay: ${message}\n`);
  if (status === 2) process.stderr.write(`Try 'bun run src/main.ts tunnel ${role} --help'.\n`);
  return status;
}

/** Parses, starts, and resolves with the exit status once a signal has stopped the tunnel. */
export async function runTunnelMode(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseTunnelCommandLine>;
  try {
    command = parseTunnelCommandLine(argv, process.env);
  } catch (error) {
    const role = argv[1] === "client" || argv[1] === "server" ? argv[1] : "";
    return report(error, 2, role);
  }
  if (command.kind === "help") {
    process.stdout.write(`${tunnelHelpText(command.role)}\n`);
    return 0;
  }
  const { config, mux } = command;
  const write = (line: string) => console.log(line);
  let running: TunnelClient | TunnelServer;
  try {
    running = startTunnel(config, mux, write);
  } catch (error) {
    return report(error, 1, config.role);
  }
  let metrics: MetricsServer | undefined;
  let serving = true;
  if (config.metricsPort !== undefined) {
    try {
      metrics = MetricsServer.start({
        host: config.metricsHost,
        port: config.metricsPort,
        registry: createTunnelMetricsRegistry(running),
        isServing: () => serving,
      });
    } catch (error) {
      running.stop();
      return report(error, 1, config.role);
    }
    write(`${new Date().toISOString()} LISTEN metrics on ${metrics.url}`);
  }
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  write(`${new Date().toISOString()} SIGNAL ${signal} received, shutting down`);
  serving = false;
  const again = () => running.stop(); // a second signal does not wait
  process.once("SIGINT", again);
  process.once("SIGTERM", again);
  await running.shutdown(config.shutdownTimeout);
  await metrics?.stop();
  return 0;
}
