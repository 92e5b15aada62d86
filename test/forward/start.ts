/** Starts a Forwarder on 127.0.0.1 with an ephemeral port and test-friendly defaults. */
import { Forwarder, type ForwardSettings } from "../../src/forward/forwarder.ts";
import { EventLog } from "./forward-harness.ts";

export function startForwarder(
  targetPorts: readonly number[],
  overrides: Partial<ForwardSettings> = {},
): { forwarder: Forwarder; log: EventLog } {
  const log = new EventLog();
  const forwarder = new Forwarder(
    {
      listenHost: "127.0.0.1",
      listenPort: 0,
      targets: targetPorts.map((port) => ({ host: "127.0.0.1", port })),
      balance: "round-robin",
      connectTimeout: 2,
      pool: 0,
      poolIdleTtl: 0,
      maxConns: 0,
      idleTimeout: 0,
      halfCloseTimeout: 0,
      statsInterval: 0,
      ...overrides,
    },
    log.listener,
  );
  return { forwarder, log };
}
