/**
 * The tail that the forwarding-style modes (forward, proxy, tunnel client/server) share once
 * their own part has started: the optional metrics endpoint, waiting for SIGINT/SIGTERM, and
 * the shutdown. Each mode keeps its own parsing and start-up; only this sequence is common.
 */
import type { Registry } from "prom-client";
import { RelayError } from "../errors.ts";
import { MetricsServer } from "../metrics/server.ts";
import { defaultLingerGroup, LINGER_MS } from "../net/graceful-close.ts";

/**
 * Writes a start-up failure to stderr and returns `status` for the process to exit with.
 * Status 2 (a usage error) adds a pointer to `bun run src/main.ts <command> --help`.
 */
export function reportModeFailure(error: unknown, status: number, command: string): number {
  const message =
    error instanceof RelayError ? error.reason : String((error as Error)?.message ?? error);
  process.stderr.write(`bun-relay: ${message}\n`);
  // `tunnel` without a role passes "tunnel ": one space between words in the hint.
  const words = command.trim().replace(/\s+/g, " ");
  if (status === 2) process.stderr.write(`Try 'bun run src/main.ts ${words} --help'.\n`);
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
