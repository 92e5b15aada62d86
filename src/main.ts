/**
 * bun-relay's command line: `bun run src/main.ts [PUB_PORT [SUB_PORT]] [options]`.
 *
 * Exit status: 0 after a clean shutdown (or --help), 1 when the relay cannot start,
 * 2 on a bad argument. Errors are one line on stderr, never a stack trace.
 */
import pkg from "../package.json" with { type: "json" };
import { helpText, parseCommandLine } from "./cli/config.ts";
import { RelayError } from "./errors.ts";
import { jsonLogger, textLogger } from "./log.ts";
import { createMetricsRegistry } from "./metrics/registry.ts";
import { MetricsServer } from "./metrics/server.ts";
import { Relay } from "./relay/server.ts";

function fail(error: unknown, status: number): never {
  const message =
    error instanceof RelayError ? error.reason : String((error as Error)?.message ?? error);
  process.stderr.write(`bun-relay: ${message}\n`);
  if (status === 2) process.stderr.write("Try 'bun run src/main.ts --help'.\n");
  process.exit(status);
}

function main(argv: string[]): void {
  if (argv[0] === "forward" || argv[0] === "proxy") {
    // The TCP forwarding modes (docs/forwarding.md) load only when asked for.
    import("./forward/forward-cli.ts").then(async (mode) =>
      process.exit(await mode.runForwardingMode(argv)),
    );
    return;
  }
  if (argv[0] === "tunnel") {
    // TCP over smux streams (docs/tunnel.md), loaded only when asked for.
    import("./tunnel/tunnel-cli.ts").then(async (mode) =>
      process.exit(await mode.runTunnelMode(argv)),
    );
    return;
  }
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(argv, process.env);
  } catch (error) {
    fail(error, 2);
  }
  if (command.kind === "help") {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`bun-relay ${pkg.version} (Bun ${Bun.version})\n`);
    return;
  }

  const config = command.config;
  const logOptions = { quiet: config.quiet, write: (line: string) => console.log(line) };
  const log = config.logFormat === "json" ? jsonLogger(logOptions) : textLogger(logOptions);
  let relay: Relay;
  try {
    relay = new Relay(config, log);
  } catch (error) {
    fail(error, 1);
  }

  let metrics: MetricsServer | undefined;
  const backplane = relay.backplane;
  if (config.metricsPort !== undefined) {
    try {
      metrics = MetricsServer.start({
        host: config.metricsHost,
        port: config.metricsPort,
        registry: createMetricsRegistry(relay),
        isServing: () => !relay.shuttingDown,
        reusePort: config.reusePort,
        ...(backplane ? { clusterState: () => backplane.state } : {}),
      });
    } catch (error) {
      fail(error, 1); // exiting closes the relay's listeners too
    }
    log({ type: "metrics_listening", host: config.metricsHost, port: metrics.port });
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
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main(process.argv.slice(2));
