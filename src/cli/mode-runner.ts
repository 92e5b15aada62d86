/**
 * The runner that the stream modes (forward, proxy, tunnel client/server) share: parse (flags,
 * environment, --config file), load the listener's access files, check the metrics port,
 * start, announce, reload on SIGHUP, serve the optional metrics endpoint, wait for
 * SIGINT/SIGTERM, and shut down. Each mode supplies its parser, its start and what it can
 * change live; the sequence, the exit statuses and the messages are common.
 */
import type { Registry } from "prom-client";
import { MetricsServer } from "../metrics/server.ts";
import { NetAccess, type NetOptions } from "../net/access.ts";
import { defaultLingerGroup, LINGER_MS } from "../net/graceful-close.ts";
import { formatNetEvent, type NetEvent } from "../net/net-events.ts";
import { registerNetMetrics } from "../net/net-metrics.ts";
import type { CommonModeOptions } from "./common-options.ts";
import { reportCheck, reportFailure } from "./failure.ts";
import { type EventLine, eventLine } from "./mode-log.ts";
import type { OptionSpec } from "./option-table.ts";
import { probeMetricsPort } from "./port-probe.ts";
import { reloadFromFile } from "./reload.ts";
import { ReloadLine } from "./reload-line.ts";

/** What a mode's command line asked for, in the runner's terms. */
export type ModeCommand<C> =
  | { kind: "help"; text: string }
  | {
      kind: "run";
      config: C;
      /** --check: validate, say so, exit without listening. */
      check: boolean;
      /** --config FILE, read again on SIGHUP. */
      configFile: string | undefined;
      /** Lines for stderr (unknown environment variables). */
      warnings: readonly string[];
    };

/** What a stream mode gives the shared runner. */
export interface StreamMode<C extends NetOptions & CommonModeOptions, R extends { stop(): void }> {
  /** The words after the program name in hints (`forward`, `tunnel client`). */
  readonly command: string;
  /** The mode's option rows, for comparing configurations on reload. */
  readonly specs: readonly OptionSpec<C>[];
  /** Flags a reload applies while running (the running parts read them at use time). */
  readonly live: ReadonlySet<string>;
  /** The command line and environment. Throws RelayError (exit 2). */
  parse(argv: readonly string[], env: Record<string, string | undefined>): ModeCommand<C>;
  /** Reads the mode's other files (dial-side CAs, …) so a bad one is exit 2; throws RelayError. */
  preflight?(config: C): void;
  /** Opens the listener. Throws a RelayError when it cannot start (exit 1). */
  start(config: C, line: EventLine, access: NetAccess): R;
  /** The mode's metrics registry (the net metrics are added to it). */
  registry(running: R): Registry;
  /** Graceful shutdown after the first signal (--shutdown-timeout). */
  drain(running: R, config: C): Promise<void>;
  /** After a reload copied live keys into `config`: pass them to what copied them at start. */
  applyLive?(running: R, config: C): void;
}

/** Runs a stream mode from its command line; resolves with the exit status. */
export async function runStreamMode<
  C extends NetOptions & CommonModeOptions,
  R extends { stop(): void },
>(mode: StreamMode<C, R>, argv: readonly string[]): Promise<number> {
  const fail = (error: unknown, status: number) => reportFailure(error, status, mode.command);
  let command: ModeCommand<C>;
  try {
    command = mode.parse(argv, process.env);
  } catch (error) {
    return fail(error, 2);
  }
  if (command.kind === "help") {
    process.stdout.write(`${command.text}\n`);
    return 0;
  }
  for (const warning of command.warnings) process.stderr.write(`bun-relay: ${warning}\n`);
  const { config, configFile } = command;
  // One RELOAD line per SIGHUP, whatever its parts report (reload-line.ts).
  const writeLine = eventLine(config.logFormat, (text) => console.log(text));
  const reloadLine = new ReloadLine<NetEvent>((event) => writeLine(event, formatNetEvent(event)));
  const line: EventLine = (event, text) =>
    event.type === "reload" ? reloadLine.log(event as NetEvent) : writeLine(event, text);
  // TLS files and --allow-from ranges of the --listen port, checked before it opens (src/net).
  let access: NetAccess;
  try {
    access = NetAccess.load(config, reloadLine.log);
    mode.preflight?.(config);
  } catch (error) {
    return fail(error, 2);
  }
  if (command.check) return reportCheck(mode.command, configFile);
  const signals = installSignals();
  let running: R;
  try {
    probeMetricsPort(config);
    running = mode.start(config, line, access);
  } catch (error) {
    return fail(error, 1);
  }
  access.announce();
  signals.onReload(() =>
    reloadLine.during(() => {
      if (configFile !== undefined) reloadConfig(mode, argv, running, config, configFile, line);
      access.reload(); // the TLS files and --allow-from-file again; connections stay
    }),
  );
  return serveUntilSignal({
    signalled: signals.signalled,
    line,
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    reusePort: config.reusePort,
    registry: () => {
      const registry = mode.registry(running);
      registerNetMetrics(registry, access);
      return registry;
    },
    stop: () => running.stop(),
    drain: () => mode.drain(running, config),
    fail,
  });
}

/**
 * SIGHUP with --config: parse everything again (preflight included); copy what can change
 * live into the running configuration; one RELOAD line. A file that fails changes nothing.
 */
function reloadConfig<C extends NetOptions & CommonModeOptions, R extends { stop(): void }>(
  mode: StreamMode<C, R>,
  argv: readonly string[],
  running: R,
  config: C,
  configFile: string,
  line: EventLine,
): void {
  const event = reloadFromFile(configFile, mode.specs, config, mode.live, () => {
    const command = mode.parse(argv, process.env);
    if (command.kind !== "run") throw new Error("--help on reload");
    mode.preflight?.(command.config);
    return command.config;
  });
  if (event.ok) mode.applyLive?.(running, config);
  line(event, formatNetEvent(event));
}

/**
 * Installs the SIGINT, SIGTERM and SIGHUP handlers. Called before anything is announced: a
 * signal sent as soon as a LISTEN line is read must find them, or its default action kills
 * the process (exit 143 for SIGTERM, 129 for SIGHUP). `signalled` resolves with the first of
 * SIGINT and SIGTERM; `onReload` sets what SIGHUP does once the mode runs.
 */
export function installSignals(): {
  signalled: Promise<string>;
  onReload(reload: () => void): void;
} {
  let reload = () => {};
  process.on("SIGHUP", () => reload());
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  return {
    signalled,
    onReload(next) {
      reload = next;
    },
  };
}

/** What {@link serveUntilSignal} needs from a mode that has started. */
export interface ServedMode {
  /** waitForSignal(), called before the mode announced itself. */
  readonly signalled: Promise<string>;
  /** Log sink (LISTEN metrics, SIGNAL lines). */
  readonly line: EventLine;
  /** --metrics-host. */
  readonly metricsHost: string;
  /** --metrics-port; undefined: no metrics endpoint. */
  readonly metricsPort: number | undefined;
  /** --reuse-port: the metrics port is shared too. */
  readonly reusePort: boolean;
  /** Builds the registry; called only when there is a metrics port, inside the error guard. */
  readonly registry: () => Registry;
  /** Closes everything at once. */
  stop(): void;
  /** Graceful shutdown after the first signal; a second signal calls stop(). */
  readonly drain: () => Promise<void>;
  /** Turns a start-up error into the exit status (reportFailure with the mode's command). */
  readonly fail: (error: unknown, status: number) => number;
}

/**
 * Starts the metrics endpoint if asked, waits for SIGINT/SIGTERM, shuts the mode down, and
 * resolves with the exit status (0, or 1 when the metrics endpoint cannot start) once every
 * connection it closed was released (at most LINGER_MS after the shutdown).
 */
export async function serveUntilSignal(mode: ServedMode): Promise<number> {
  const { line } = mode;
  let metrics: MetricsServer | undefined;
  let serving = true;
  if (mode.metricsPort !== undefined) {
    try {
      metrics = MetricsServer.start({
        host: mode.metricsHost,
        port: mode.metricsPort,
        registry: mode.registry(),
        isServing: () => serving,
        reusePort: mode.reusePort,
      });
    } catch (error) {
      mode.stop();
      return mode.fail(error, 1);
    }
    line(
      { type: "metrics_listening", host: mode.metricsHost, port: metrics.port },
      `LISTEN metrics on ${metrics.url}`,
    );
  }
  const signal = await mode.signalled;
  line({ type: "signal", signal }, `SIGNAL ${signal} received, shutting down`);
  serving = false;
  const again = () => mode.stop(); // a second signal does not wait
  process.once("SIGINT", again);
  process.once("SIGTERM", again);
  await mode.drain();
  // Connections closed gracefully still drain their peers' input: exiting now would reset
  // them and lose what the kernel holds for those peers (src/net/graceful-close.ts).
  await defaultLingerGroup.settled(LINGER_MS + 100);
  await metrics?.stop();
  return 0;
}
