/**
 * Every metric the program exports is documented in docs/monitoring.md (issue 24: five were
 * documented nowhere). The names come from the registries themselves, built over running
 * instances of each mode, not from a list kept here.
 */
import { afterAll, expect, test } from "bun:test";
import type { Registry } from "prom-client";
import { DEFAULT_CONFIG } from "../../src/cli/config.ts";
import { eventLine } from "../../src/cli/mode-log.ts";
import { emptyClusterCounters } from "../../src/cluster/events.ts";
import { FORWARD_MODE } from "../../src/forward/forward-cli.ts";
import { defaultConfig } from "../../src/forward/forward-config.ts";
import { createMetricsRegistry, type MetricsSource } from "../../src/metrics/registry.ts";
import { DROPPED_DEFAULT_METRICS } from "../../src/metrics/scraped-metrics.ts";
import { NetAccess } from "../../src/net/access.ts";
import { registerNetMetrics } from "../../src/net/net-metrics.ts";
import { Relay } from "../../src/relay/server.ts";
import { startTunnel } from "../../src/tunnel/tunnel-cli.ts";
import { defaultTunnelConfig, muxConfigOf } from "../../src/tunnel/tunnel-config.ts";

const stops: (() => void)[] = [];
afterAll(() => {
  for (const stop of stops) stop();
});

/** The bun_relay_* names a registry holds (prom-client's process_* and nodejs_* are theirs). */
function names(registry: Registry): string[] {
  return registry
    .getMetricsAsArray()
    .map((metric) => metric.name)
    .filter((name) => name.startsWith("bun_relay_"));
}

test("docs/monitoring.md names every metric of every mode", async () => {
  const quiet = eventLine("text", () => {});
  const relay = new Relay({
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    pubPort: 0,
    subPort: 0,
    natsPort: 0,
  });
  stops.push(() => void relay.shutdown());
  // The cluster metrics exist only with a backplane: the relay's own stats stand in for one.
  const clustered: MetricsSource = Object.assign(Object.create(relay) as Relay, {
    backplane: {
      stats: () => ({ ...emptyClusterCounters(), state: "connected", nodeId: "n", sources: 0 }),
    },
  });
  const relayRegistry = createMetricsRegistry(clustered, { defaultMetrics: false });
  registerNetMetrics(relayRegistry, NetAccess.open());

  const forward = FORWARD_MODE.start(
    {
      ...defaultConfig("forward"),
      listen: { host: "127.0.0.1", port: 0 },
      to: [{ host: "127.0.0.1", port: 9 }],
    },
    quiet,
    NetAccess.open(),
  );
  stops.push(() => forward.stop());
  const tunnelConfig = {
    ...defaultTunnelConfig("server"),
    listen: { host: "127.0.0.1", port: 0 },
    to: { host: "127.0.0.1", port: 9 },
  };
  const tunnel = startTunnel(tunnelConfig, muxConfigOf(tunnelConfig), quiet);
  stops.push(() => tunnel.stop());

  const forwardRegistry = FORWARD_MODE.registry(forward);
  const tunnelRegistry = (
    await import("../../src/tunnel/tunnel-metrics.ts")
  ).createTunnelMetricsRegistry(tunnel);
  const exported = new Set([
    ...names(relayRegistry),
    ...names(forwardRegistry),
    ...names(tunnelRegistry),
  ]);
  // Every mode's process metrics leave out what Bun cannot fill (and promtool rejects).
  for (const registry of [forwardRegistry, tunnelRegistry]) {
    const all = registry.getMetricsAsArray().map((metric) => metric.name);
    expect(all).toContain("process_cpu_seconds_total");
    expect(all.filter((name) => DROPPED_DEFAULT_METRICS.includes(name))).toEqual([]);
    const promtool = Bun.which("promtool");
    if (promtool !== null) {
      const child = Bun.spawn([promtool, "check", "metrics"], {
        stdin: new TextEncoder().encode(await registry.metrics()),
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(`${await new Response(child.stderr).text()}exit ${await child.exited}`).toBe("exit 0");
    }
  }
  expect(exported.size).toBeGreaterThan(40);
  const doc = await Bun.file(new URL("../../docs/monitoring.md", import.meta.url)).text();
  const undocumented = [...exported].filter((name) => !doc.includes(`\`${name}`)).sort();
  expect(undocumented).toEqual([]);
});
