/**
 * A listen that can be tried before anything is announced (issue 24): a metrics port that is
 * in use must fail the start before the mode's LISTEN lines, not after them.
 */
import { listenError } from "../errors.ts";

/**
 * Opens and at once closes `host:port` (port 0 and a shared --reuse-port are not probed).
 * @throws RelayError RELAY_ERR_ADDRESS_IN_USE (`metrics port HOST:PORT is already in use`) or
 *   RELAY_ERR_LISTEN_FAILED, the same errors the real listen would give.
 */
export function probePort(what: string, host: string, port: number, reusePort: boolean): void {
  if (port === 0 || reusePort) return;
  try {
    Bun.listen({ hostname: host, port, socket: { data() {} } }).stop(true);
  } catch (error) {
    throw listenError(what, host, port, error);
  }
}

/** probePort for a mode's --metrics-port (none: nothing to probe). */
export function probeMetricsPort(options: {
  readonly metricsHost: string;
  readonly metricsPort: number | undefined;
  readonly reusePort: boolean;
}): void {
  if (options.metricsPort === undefined) return;
  probePort("metrics", options.metricsHost, options.metricsPort, options.reusePort);
}
