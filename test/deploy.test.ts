/**
 * deploy/: Docker is not available to the tests, so the files are checked by parsing them and
 * by checking them against each other and against the code: the relay's command line parses
 * with the real option table, Prometheus scrapes the port the relay serves, Grafana's
 * datasource uid is the dashboard's, and every metric a panel queries is one the relay exports.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_CONFIG, parseCommandLine } from "../src/cli/config.ts";
import { createMetricsRegistry, type MetricsSource } from "../src/metrics/registry.ts";
import { Hub } from "../src/relay/hub.ts";

const DEPLOY = new URL("../deploy/", import.meta.url).pathname;
const PROMTOOL = Bun.which("promtool");

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON are checked field by field
type Loose = any;

function yaml(path: string): Loose {
  return Bun.YAML.parse(readFileSync(join(DEPLOY, path), "utf8"));
}

const compose = yaml("docker-compose.yml");
const prometheus = yaml("prometheus.yml");
const datasources = yaml("grafana/provisioning/datasources/prometheus.yml");
const providers = yaml("grafana/provisioning/dashboards/bun-relay.yml");
const dashboard: Loose = JSON.parse(
  readFileSync(join(DEPLOY, "grafana/dashboards/bun-relay.json"), "utf8"),
);

/** The relay's config as docker-compose.yml starts it. */
function composedRelayConfig() {
  const command = parseCommandLine(compose.services.relay.command);
  if (command.kind !== "run") throw new Error("the relay's compose command does not run it");
  return command.config;
}

/** Every metric name /metrics exposes, from a registry over an idle relay's state. */
async function exportedMetricNames(): Promise<Set<string>> {
  const hub = new Hub(
    { maxPending: 1024, policy: "disconnect", stallTimeoutMs: 250 },
    { slowConsumer() {}, dropEpisode() {}, pressure() {}, stallExpired() {} },
  );
  const source: MetricsSource = {
    hub,
    publisherCount: 0,
    subscriberCount: 0,
    natsClientCount: 0,
    natsWsClientCount: 0,
    wsClientsAccepted: 0,
    natsSubscriptionCount: 0,
    config: DEFAULT_CONFIG,
  };
  const metrics = await createMetricsRegistry(source).getMetricsAsJSON();
  return new Set(metrics.map((metric) => metric.name));
}

describe("deploy/docker-compose.yml", () => {
  test("starts the relay from the repo's Dockerfile, with Prometheus and Grafana", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["grafana", "prometheus", "relay"]);
    const build = compose.services.relay.build;
    expect(existsSync(join(resolve(DEPLOY, build.context), build.dockerfile))).toBe(true);
  });

  test("the relay's command parses and serves metrics on 0.0.0.0:9464", () => {
    const config = composedRelayConfig();
    expect(config).toMatchObject({ metricsPort: 9464, metricsHost: "0.0.0.0" });
    expect(compose.services.relay.ports).toContain(`${config.metricsPort}:${config.metricsPort}`);
    expect(compose.services.relay.ports).toContain(`${config.pubPort}:${config.pubPort}`);
    expect(compose.services.relay.ports).toContain(`${config.subPort}:${config.subPort}`);
  });

  test("every file it mounts exists", () => {
    for (const service of Object.values(compose.services) as Loose[]) {
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(":")[0] as string;
        if (source.startsWith(".")) expect(existsSync(resolve(DEPLOY, source))).toBe(true);
      }
    }
  });
});

describe("deploy/prometheus.yml", () => {
  test("scrapes the relay's service and metrics port at /metrics", () => {
    const job = prometheus.scrape_configs.find((c: Loose) => c.job_name === "bun-relay");
    expect(job.metrics_path).toBe("/metrics");
    expect(job.static_configs[0].targets).toEqual([`relay:${composedRelayConfig().metricsPort}`]);
  });

  // Skipped when promtool is missing (Debian: apt-get install prometheus).
  test.skipIf(!PROMTOOL)("promtool check config accepts it", async () => {
    const child = Bun.spawn(
      [PROMTOOL as string, "check", "config", join(DEPLOY, "prometheus.yml")],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [status, out] = await Promise.all([child.exited, new Response(child.stdout).text()]);
    expect(out).toContain("SUCCESS");
    expect(status).toBe(0);
  });
});

describe("deploy/grafana", () => {
  test("the datasource is the compose Prometheus, with the uid the dashboard uses", () => {
    const [source] = datasources.datasources;
    expect(source).toMatchObject({ type: "prometheus", url: "http://prometheus:9090" });
    const uids = new Set<string>();
    for (const panel of dashboard.panels) {
      if (panel.type === "row") continue;
      uids.add(panel.datasource.uid);
      for (const target of panel.targets) uids.add(target.datasource.uid);
    }
    expect([...uids]).toEqual([source.uid]);
  });

  test("the dashboard provider reads the folder compose mounts the dashboard into", () => {
    const mounts: string[] = compose.services.grafana.volumes;
    const dashboards = mounts.find((m) => m.startsWith("./grafana/dashboards:")) as string;
    expect(dashboards.split(":")[1]).toBe(providers.providers[0].options.path);
  });

  test("has the article's three panels, then ours, with unique ids", () => {
    const titles = dashboard.panels
      .filter((p: Loose) => p.type !== "row")
      .map((p: Loose) => p.title);
    expect(titles.slice(0, 3)).toEqual([
      "Clients connected",
      "Messages received/s",
      "Messages sent/s",
    ]);
    for (const title of ["Bytes/s", "Pending bytes", "Disconnects and drops"]) {
      expect(titles).toContain(title);
    }
    const ids = dashboard.panels.map((p: Loose) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("every metric a panel queries is one the relay exports", async () => {
    const exported = await exportedMetricNames();
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        for (const match of String(target.expr).matchAll(/\b(?:bun_relay|process|nodejs)_\w+/g)) {
          queried.add(match[0]);
        }
      }
    }
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });
});

// The directory layout the paths above assume.
test("deploy/ sits at the repo root next to the Dockerfile", () => {
  expect(existsSync(join(dirname(DEPLOY.replace(/\/$/, "")), "Dockerfile"))).toBe(true);
});
