/**
 * Runs `bun run src/main.ts tunnel client …` or `… tunnel server …` until SIGINT/SIGTERM.
 * src/main.ts loads this module only for `tunnel` and exits with the status returned here.
 *
 * Shutdown: the first signal stops accepting and lets open connections finish for
 * --shutdown-timeout, then closes the rest (reason shutdown) and the sessions; a second
 * signal closes everything at once.
 */
import { reportModeFailure, serveUntilSignal } from "../cli/mode-runner.ts";
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

/** Parses, starts, and resolves with the exit status once a signal has stopped the tunnel. */
export async function runTunnelMode(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseTunnelCommandLine>;
  try {
    command = parseTunnelCommandLine(argv, process.env);
  } catch (error) {
    const role = argv[1] === "client" || argv[1] === "server" ? argv[1] : "";
    return reportModeFailure(error, 2, `tunnel ${role}`);
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
    return reportModeFailure(error, 1, `tunnel ${config.role}`);
  }
  return serveUntilSignal({
    write,
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    registry: () => createTunnelMetricsRegistry(running),
    stop: () => running.stop(),
    drain: () => running.shutdown(config.shutdownTimeout),
    fail: (error, status) => reportModeFailure(error, status, `tunnel ${config.role}`),
  });
}
