/**
 * The runner that the stream modes (forward, proxy, tunnel client/server) share: parse, load
 * the listener's access files, start, announce, reload on SIGHUP, serve the optional metrics
 * endpoint, wait for SIGINT/SIGTERM, and shut down. Each mode supplies its parser and its
 * start; the sequence, the exit statuses and the messages are common.
 */
import type { Registry } from "prom-client";
import { RelayError } from "../errors.ts";
import { MetricsServer } from "../metrics/server.ts";
import { NetAccess, type NetOptions } from "../net/access.ts";
import { defaultLingerGroup, LINGER_MS } from "../net/graceful-close.ts";
import { formatNetEvent } from "../net/net-events.ts";
import { registerNetMetrics } from "../net/net-metrics.ts";
import type { CommonModeOptions } from "./common-options.ts";
import { programName } from "./program.ts";

/**
 * Writes a start-up failure to stderr and returns `status` for the process to exit with.
 * Status 2 (a usage error) adds a pointer to `<program> <command> --help` (programName).
 */
export function reportModeFailure(error: unknown, status: number, command: string): number {
  const message =
    error instanceof RelayError ? error.reason : String((error as Error)?.message ?? error);
  process.stderr.write(`bun-relay: ${message}\n`);
  // `tunnel` without a role passes "tunnel ": one space between words in the hint.
  const words = command.trim().replace(/\s+/g, " ");
  if (status === 2) process.stderr.write(`Try '${programName()} ${words} --help'.\n`);
  return status;
}

/** What {@link serveUntilSignal} needs from a mode that has started. */
export interface ServedMode {
  /** Log line sink (LISTEN metrics, SIGNAL lines). */
  readonly write: (line: string) => void;
  /** --metrics-host. */
  readonly metricsHost: string;
  /** --metrics-port; undefined: no metrics endpoint. */
  readonly metricsPort: number | undefined;
  /** Builds the registry; called only when there is a metrics port, inside the error guard. */
  readonly registry: () => Registry;
  /** Closes everything at once. */
  stop(): void;
  /**
   * Graceful shutdown after the first signal. Absent: the first signal calls stop(). Present:
   * a second signal calls stop() so it does not wait for this.
   */
  readonly drain?: () => Promise<void>;
  /** Turns a start-up error into the exit status (reportModeFailure with the mode's command). */
  readonly fail: (error: unknown, status: number) => number;
}

/**
 * Starts the metrics endpoint if asked, waits for SIGINT/SIGTERM, shuts the mode down, and
 * resolves with the exit status (0, or 1 when the metrics endpoint cannot start) once every
 * connection it closed was released (at most LINGER_MS after the shutdown).
 */
export async function serveUntilSignal(mode: ServedMode): Promise<number> {
  const { write } = mode;
  let metrics: MetricsServer | undefined;
  let serving = true;
  if (mode.metricsPort !== undefined) {
    try {
      metrics = MetricsServer.start({
        host: mode.metricsHost,
        port: mode.metricsPort,
        registry: mode.registry(),
        isServing: () => serving,
      });
    } catch (error) {
      mode.stop();
      return mode.fail(error, 1);
    }
    write(`${new Date().toISOString()} LISTEN metrics on ${metrics.url}`);
  }
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  write(`${new Date().toISOString()} SIGNAL ${signal} received, shutting down`);
  serving = false;
  if (mode.drain === undefined) {
    mode.stop();
  } else {
    const again = () => mode.stop(); // a second signal does not wait
    process.once("SIGINT", again);
    process.once("SIGTERM", again);
    await mode.drain();
  }
  // Connections closed gracefully still drain their peers' input: exiting now would reset
  // them and lose what the kernel holds for those peers (src/net/graceful-close.ts).
  await defaultLingerGroup.settled(LINGER_MS + 100);
  await metrics?.stop();
  return 0;
}

/** What a stream mode gives the shared runner. */
export interface StreamMode<C extends NetOptions & CommonModeOptions, R extends { stop(): void }> {
  /** The words after the program name in hints (`forward`, `tunnel client`). */
  readonly command: string;
  /** The command line: help text to print, or a config to run. Throws RelayError (exit 2). */
  parse(
    argv: readonly string[],
    env: Record<string, string | undefined>,
  ): { kind: "help"; text: string } | { kind: "run"; config: C };
  /** Reads the mode's other files (dial-side CAs, …) so a bad one is exit 2; throws RelayError. */
  preflight?(config: C): void;
  /** Opens the listener. Throws a RelayError when it cannot start (exit 1). */
  start(config: C, write: (line: string) => void, access: NetAccess): R;
  /** The mode's metrics registry (the net metrics are added to it). */
  registry(running: R): Registry;
  /** Graceful shutdown after the first signal; absent: stop() at once. */
  drain?(running: R, config: C): Promise<void>;
}

/** Runs a stream mode from its command line; resolves with the exit status. */
export async function runStreamMode<
  C extends NetOptions & CommonModeOptions,
  R extends { stop(): void },
>(mode: StreamMode<C, R>, argv: readonly string[]): Promise<number> {
  const fail = (error: unknown, status: number) => reportModeFailure(error, status, mode.command);
  let command: ReturnType<StreamMode<C, R>["parse"]>;
  try {
    command = mode.parse(argv, process.env);
  } catch (error) {
    return fail(error, 2);
  }
  if (command.kind === "help") {
    process.stdout.write(`${command.text}\n`);
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
    mode.preflight?.(config);
  } catch (error) {
    return fail(error, 2);
  }
  let running: R;
  try {
    running = mode.start(config, write, access);
  } catch (error) {
    return fail(error, 1);
  }
  access.announce();
  // SIGHUP: read the TLS files and --allow-from-file again; connections stay.
  process.on("SIGHUP", () => access.reload());
  const drain = mode.drain;
  return serveUntilSignal({
    write,
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    registry: () => {
      const registry = mode.registry(running);
      registerNetMetrics(registry, access);
      return registry;
    },
    stop: () => running.stop(),
    ...(drain ? { drain: () => drain(running, config) } : {}),
    fail,
  });
}
