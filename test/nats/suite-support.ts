/**
 * What the NATS suites share: one running server per distinct set of options, started on
 * first use and stopped after the suite.
 */
import { afterAll } from "bun:test";
import type { NatsServerOptions, NatsTarget, RunningNats } from "./target.ts";

/**
 * Registers, in the calling describe block, an afterAll that stops what it started; returns
 * `server(options)`, which resolves to the target's server for those options, starting it
 * the first time they are asked for (cases with equal options share one server).
 */
export function sharedServers(
  target: NatsTarget,
): (options?: NatsServerOptions) => Promise<RunningNats> {
  const running = new Map<string, Promise<RunningNats>>();
  afterAll(async () => {
    const servers = await Promise.all(running.values());
    running.clear();
    await Promise.all(servers.map((server) => server.stop()));
  });
  return (options = {}) => {
    const key = JSON.stringify(options);
    let server = running.get(key);
    if (!server) {
      server = target.start(options);
      running.set(key, server);
    }
    return server;
  };
}
