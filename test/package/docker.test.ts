/**
 * The Docker image's files (issue 23). CI has no Docker daemon, so the Dockerfile and
 * .dockerignore are checked by parsing them and against the code: the image's ENV parses with
 * the relay's real option table to metrics on 0.0.0.0:9464, the port is EXPOSEd, and the
 * HEALTHCHECK's own command, run with bun against a relay started here, exits 0 while the
 * relay serves and 1 when nothing answers. Building the image and seeing it turn healthy runs
 * only where `docker info` works (skipped otherwise, saying so).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCommandLine } from "../../src/cli/config.ts";
import { ChildLines, relayProcesses } from "../support/child.ts";

setDefaultTimeout(30_000);

const ROOT = new URL("../../", import.meta.url).pathname;

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(): { keyword: string; args: string }[] {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n\s*/g, "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.trim().split(/\s+/);
      return { keyword: (keyword as string).toUpperCase(), args: rest.join(" ") };
    });
}

const dockerfile = instructions();
const only = (keyword: string) => dockerfile.filter((i) => i.keyword === keyword);

/** ENV's `KEY=value` pairs. */
const imageEnv: Record<string, string> = Object.fromEntries(
  only("ENV").flatMap((i) =>
    i.args.split(/\s+/).map((pair) => pair.split("=") as [string, string]),
  ),
);
/** HEALTHCHECK's exec-form command, after its --options. */
const healthcheck: string[] = JSON.parse(
  (only("HEALTHCHECK")[0]?.args ?? "").replace(/^(--\S+\s+)*CMD\s+/, ""),
);

describe("Dockerfile", () => {
  test("the relay's command line under the image's ENV serves metrics on 0.0.0.0:9464, EXPOSEd", () => {
    expect(imageEnv).toEqual({ RELAY_METRICS_PORT: "9464", RELAY_METRICS_HOST: "0.0.0.0" });
    const command = parseCommandLine([], imageEnv);
    if (command.kind !== "run") throw new Error("the image's command line does not run the relay");
    expect(command.config).toMatchObject({ metricsPort: 9464, metricsHost: "0.0.0.0" });
    const exposed = only("EXPOSE").flatMap((i) => i.args.split(/\s+/));
    expect(exposed).toEqual(["7001", "7002", "9464"]);
  });

  test("runs as the unprivileged bun user, the relay as PID 1 in exec form", () => {
    expect(only("USER").map((i) => i.args)).toEqual(["bun"]);
    expect(JSON.parse(only("ENTRYPOINT")[0]?.args ?? "[]")).toEqual(["bun", "bin/bun-relay"]);
    expect(only("FROM")[0]?.args).toBe(
      `oven/bun:${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines.bun}-slim`,
    );
  });

  describe("HEALTHCHECK", () => {
    const spawn = relayProcesses();
    test("is bun (the slim image has no curl) asking /healthz, with an interval and a timeout", () => {
      expect(healthcheck.slice(0, 2)).toEqual(["bun", "-e"]);
      expect(healthcheck[2]).toContain("/healthz");
      expect(only("HEALTHCHECK")[0]?.args).toMatch(/--interval=\d+s --timeout=\d+s/);
    });

    test("its command exits 0 against a serving relay and 1 when nothing answers", async () => {
      const relay = spawn(["0", "0", "--host", "127.0.0.1"], {
        RELAY_METRICS_PORT: "0",
        RELAY_METRICS_HOST: "127.0.0.1",
      });
      const log = new ChildLines(relay.stdout);
      const port = (
        await log.match(/LISTEN metrics on http:\/\/127\.0\.0\.1:(\d+)\//)
      )[1] as string;
      const probe = (metricsPort: string) =>
        Bun.spawn(healthcheck, { env: { ...process.env, RELAY_METRICS_PORT: metricsPort } }).exited;
      expect(await probe(port)).toBe(0);
      relay.kill("SIGKILL");
      await relay.exited;
      expect(await probe(port)).toBe(1);
    });
  });
});

describe(".dockerignore", () => {
  const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

  test("keeps the README's keys (tls/), tests, benches, soak, node_modules and .git out of the context", () => {
    for (const entry of ["tls", "test", "bench", "soak", "node_modules", ".git"]) {
      expect(ignored).toContain(entry);
    }
  });

  test("keeps in everything the Dockerfile copies", () => {
    const copied = only("COPY").flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(["package.json", "bun.lock", "src", "bin"]);
    for (const source of copied) expect(ignored).not.toContain(source);
  });
});

test("deploy/docker-compose.yml has no top-level name or version (Compose v1 1.27+ and v2)", () => {
  const compose = Bun.YAML.parse(readFileSync(join(ROOT, "deploy/docker-compose.yml"), "utf8"));
  expect(Object.keys(compose as object).sort()).toEqual(["services", "volumes"]);
});

const DOCKER_USABLE =
  Bun.which("docker") !== null &&
  Bun.spawnSync(["docker", "info"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

test.skipIf(!DOCKER_USABLE)(
  `the image builds and its HEALTHCHECK turns healthy${DOCKER_USABLE ? "" : " (skipped: no usable Docker daemon here; the files are checked above)"}`,
  async () => {
    const tag = "bun-relay:test-healthcheck";
    const build = Bun.spawnSync(["docker", "build", "-q", "-t", tag, ROOT]);
    expect(build.exitCode).toBe(0);
    const started = Bun.spawnSync(["docker", "run", "-d", "--rm", tag]);
    const id = started.stdout.toString().trim();
    try {
      let status = "";
      for (let i = 0; i < 60 && status !== "healthy"; i++) {
        await Bun.sleep(1000); // Docker reports health by polling only
        status = Bun.spawnSync(["docker", "inspect", "-f", "{{.State.Health.Status}}", id])
          .stdout.toString()
          .trim();
      }
      expect(status).toBe("healthy");
    } finally {
      Bun.spawnSync(["docker", "rm", "-f", id]);
    }
  },
  90_000,
);
