/**
 * `--config FILE`, `--check`, `--version` and the flags every mode shares, as users run them:
 * `bun run src/main.ts …` in a child process, exact stderr lines (issues 23 and 24).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { type ConfigFile, fileTexts, keySource, lineOf } from "../../src/cli/config-file.ts";
import { specsFor } from "../../src/tunnel/tunnel-config.ts";
import { ChildLines, relayProcesses, runToExit } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";

setDefaultTimeout(30_000);

const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "bun-relay-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a fresh file in the temporary directory; returns its path. */
let files = 0;
function configFile(text: string): string {
  const path = join(dir, `config-${++files}.toml`);
  writeFileSync(path, text);
  return path;
}

const run = (args: string[], env: Record<string, string> = {}) => runToExit(spawn, args, env);

const HINT = "Try 'bun run src/main.ts --help'.\n";

describe("lines and keys (src/cli/config-file.ts)", () => {
  const text = [
    "pub-port = 1",
    "[forward]",
    "to = ['a:1']",
    "[ tunnel . client ]",
    '"conns" = 2',
    "listen = '127.0.0.1:0'",
    "[tunnel.server]",
    "listen = '127.0.0.1:0'",
  ].join("\n");
  const file: ConfigFile = {
    path: "x.toml",
    text,
    data: Bun.TOML.parse(text) as Record<string, unknown>,
  };

  test("a key's line is found in its own table, whatever the header's spacing or quotes", () => {
    expect(lineOf(file, "", "pub-port")).toBe(1);
    expect(lineOf(file, "forward", "to")).toBe(3);
    expect(lineOf(file, "tunnel.client", "conns")).toBe(5);
    expect(lineOf(file, "tunnel.client", "listen")).toBe(6);
    expect(lineOf(file, "tunnel.server", "listen")).toBe(8);
    expect(keySource(file, "tunnel.server", "listen")).toBe("x.toml:8: listen");
  });

  test("a table's values become the texts its rows parse", () => {
    const texts = fileTexts(file, "tunnel.client", specsFor("client"));
    expect(texts.map(({ spec, texts, source }) => [spec.flag, texts, source])).toEqual([
      ["conns", ["2"], "x.toml:5: conns"],
      ["listen", ["127.0.0.1:0"], "x.toml:6: listen"],
    ]);
  });
});

describe("--version", () => {
  test.each([
    [["--version"]],
    [["proxy", "--version"]],
    [["forward", "--version"]],
    [["tunnel", "client", "--version"]],
    [["tunnel", "server", "--version", "--bogus"]],
  ])("%p prints the version and exits 0 before any other check", async (args) => {
    const { status, stdout, stderr } = await run(args);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(stdout).toBe(`bun-relay ${pkg.version} (Bun ${Bun.version})\n`);
  });
});

describe("--config", () => {
  test("a misspelt key names the file, the line and the key, with the near miss (exit 2)", async () => {
    const path = configFile("# the relay\npub-port = 0\n\nmax-pendng = '1MiB'\n");
    const { status, stderr } = await run(["--config", path]);
    expect(status).toBe(2);
    expect(stderr).toBe(
      `bun-relay: ${path}:4: max-pendng: unknown key (did you mean 'max-pending'?)\n${HINT}`,
    );
  });

  test("a bad value is refused by the flag's own parser, with file and line", async () => {
    const path = configFile("[forward]\nto = ['127.0.0.1:9']\nidle-timeout = 'soon'\n");
    const { status, stderr } = await run(["forward", "--config", path]);
    expect(status).toBe(2);
    expect(stderr).toBe(
      `bun-relay: ${path}:3: idle-timeout: 'soon' is not a duration (examples: 5, 0.5, 250ms, 1m)\n` +
        "Try 'bun run src/main.ts forward --help'.\n",
    );
  });

  test("a misspelt table, invalid TOML and a missing file are errors too", async () => {
    const table = configFile("pub-port = 0\n[fowrard]\nlisten = '127.0.0.1:0'\n");
    expect((await run(["--config", table])).stderr).toBe(
      `bun-relay: ${table}:2: [fowrard]: unknown table (did you mean 'forward'?)\n${HINT}`,
    );
    // Keys right under [tunnel] would be read by neither role.
    const tunnel = configFile("[tunnel]\nconns = 4\n");
    const tunnelRun = await run(["tunnel", "client", "--config", tunnel, "--check"]);
    expect([tunnelRun.status, tunnelRun.stderr]).toEqual([
      2,
      `bun-relay: ${tunnel}:2: conns: the tunnel's keys go in [tunnel.client] or [tunnel.server]\n` +
        "Try 'bun run src/main.ts tunnel client --help'.\n",
    ]);
    const broken = configFile("pub-port = 0\nsub-port = = 1\n");
    expect((await run(["--config", broken])).stderr).toBe(
      `bun-relay: ${broken}:2: not valid TOML (expected a value but found '=')\n${HINT}`,
    );
    const missing = join(dir, "missing.toml");
    expect((await run(["--config", missing])).stderr).toBe(
      `bun-relay: ${missing}: cannot read the file (ENOENT)\n${HINT}`,
    );
  });

  test("the file sets the relay; the environment and flags override it", async () => {
    const path = configFile(
      "host = '127.0.0.1'\npub-port = 0\nsub-port = 0\nstats-interval = '50ms'\nquiet = true\n",
    );
    const child = spawn(["--config", path, "--pub-port", "off"], { RELAY_STATS_INTERVAL: "0" });
    const out = new ChildLines(child.stdout);
    const subPort = Number((await out.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
    const subscriber = await TestClient.connect(subPort);
    subscriber.end();
    await subscriber.closed;
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    const lines = await out.rest();
    // quiet from the file: no OPEN line; stats-interval 0 from the environment: no STATS
    // line; --pub-port off from the flag: no publisher port.
    expect(lines.filter((line) => / (OPEN|CLOSE|STATS) |LISTEN publishers/.test(line))).toEqual([]);
  });

  test("a flag overrides the file's key", async () => {
    const path = configFile("[forward]\nlisten = '127.0.0.1:1'\nto = ['127.0.0.1:9']\n");
    const child = spawn(["forward", "--config", path, "--listen", "127.0.0.1:0"]);
    const out = new ChildLines(child.stdout);
    await out.waitFor(/LISTEN forward on 127\.0\.0\.1:(?!1$)\d+$/);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });
});

describe("--check", () => {
  test("validates every mode's table of one file and exits 0 without listening", async () => {
    const path = configFile(
      [
        "pub-port = 0",
        "sub-port = 0",
        "[forward]",
        "listen = '127.0.0.1:0'",
        "to = ['127.0.0.1:9', '127.0.0.1:10']",
        "[proxy]",
        "listen = '127.0.0.1:0'",
        "allow = ['*:443']",
        "[tunnel.client]",
        "listen = '127.0.0.1:0'",
        "server = '127.0.0.1:9'",
        "[tunnel.server]",
        "listen = '127.0.0.1:0'",
        "to = '127.0.0.1:9'",
        "",
      ].join("\n"),
    );
    for (const [mode, label] of [
      [[], ""],
      [["forward"], " (forward)"],
      [["proxy"], " (proxy)"],
      [["tunnel", "client"], " (tunnel client)"],
      [["tunnel", "server"], " (tunnel server)"],
    ] as const) {
      const { status, stdout, stderr } = await run([...mode, "--config", path, "--check"]);
      expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
      expect(stdout).toBe(`bun-relay: configuration OK${label}: ${path}\n`);
    }
  });

  test("finds what a start would refuse: a missing certificate file, an open proxy", async () => {
    const cert = join(dir, "absent.pem");
    const tls = await run(["0", "0", "--tls-cert", cert, "--tls-key", cert, "--check"]);
    expect(tls.status).toBe(2);
    expect(tls.stdout).toBe("");
    expect(tls.stderr).toStartWith(`bun-relay: --tls-cert ${cert}: cannot read the file`);
    const open = await run(["proxy", "--listen", "0.0.0.0:0", "--check"]);
    expect(open.status).toBe(2);
    expect(open.stderr).toStartWith(
      "bun-relay: proxy: refusing to listen on 0.0.0.0 without --allow",
    );
  });
});

describe("the same flags in every mode", () => {
  test.each([
    [["forward", "--to", "127.0.0.1:9"]],
    [["proxy"]],
    [["tunnel", "client", "--server", "127.0.0.1:9"]],
    [["tunnel", "server", "--to", "127.0.0.1:9"]],
  ])("%p takes --log-format json, --shutdown-timeout, --reuse-port and --quiet", async (mode) => {
    const child = spawn([
      ...mode,
      "--listen",
      "127.0.0.1:0",
      "--log-format",
      "json",
      "--shutdown-timeout",
      "1",
      "--reuse-port",
      "--quiet",
    ]);
    const out = new ChildLines(child.stdout);
    const listening = JSON.parse(await out.waitFor(/"event":"listening"/));
    expect(listening).toMatchObject({ event: "listening", level: "info", host: "127.0.0.1" });
    expect(listening.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    const signal = JSON.parse(await out.waitFor(/"event":"signal"/));
    expect(signal).toMatchObject({ event: "signal", signal: "SIGTERM" });
  });

  test("forward --shutdown-timeout lets an open connection finish before exiting", async () => {
    const upstream = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const child = spawn([
        "forward",
        "--listen",
        "127.0.0.1:0",
        "--to",
        `127.0.0.1:${upstream.port}`,
        "--shutdown-timeout",
        "20",
      ]);
      const out = new ChildLines(child.stdout);
      const port = Number((await out.match(/LISTEN forward on 127\.0\.0\.1:(\d+)$/))[1]);
      const client = await TestClient.connect(port);
      await out.waitFor(/OPEN forward #1 /);
      child.kill("SIGTERM");
      expect(await out.waitFor(/ DRAINING /)).toEndWith(
        " DRAINING forward stopped accepting; waiting up to 20s for 1 connection(s)",
      );
      client.end(); // the last connection finishes: the process exits well before 20 s
      expect(await child.exited).toBe(0);
      await out.waitFor(/CLOSE forward #1 .* reason=peer_closed/);
    } finally {
      upstream.stop(true);
    }
  });

  test("a mistyped flag gets its near miss", async () => {
    const { status, stderr } = await run(["forward", "--to", "a:1", "--idle-timout", "3"]);
    expect(status).toBe(2);
    expect(stderr).toBe(
      "bun-relay: forward: unknown option '--idle-timout' (did you mean '--idle-timeout'?)\n" +
        "Try 'bun run src/main.ts forward --help'.\n",
    );
  });

  test("an unknown RELAY_* variable is a warning with its near miss", async () => {
    const { status, stderr } = await run(["0", "0", "--check"], { RELAY_FRAMNG: "frame" });
    expect(status).toBe(0);
    expect(stderr).toBe(
      "bun-relay: warning: unknown environment variable RELAY_FRAMNG (did you mean RELAY_FRAMING?); ignored\n",
    );
  });

  test("a metrics port in use fails the start before any LISTEN line", async () => {
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const metrics = ["--metrics-port", String(squatter.port)];
    try {
      for (const args of [
        ["--host", "127.0.0.1", "0", "0", ...metrics],
        ["forward", "--to", "127.0.0.1:9", "--listen", "127.0.0.1:0", ...metrics],
      ]) {
        const { status, stdout, stderr } = await run(args);
        expect(status).toBe(1);
        expect(stdout).toBe("");
        expect(stderr).toBe(
          `bun-relay: metrics port 127.0.0.1:${squatter.port} is already in use\n`,
        );
      }
    } finally {
      squatter.stop(true);
    }
  });
});
