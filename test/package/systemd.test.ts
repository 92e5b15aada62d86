/**
 * deploy/bun-relay.service (issue 23): its keys, parsed, and `systemd-analyze verify` on a copy
 * whose ExecStart points at an executable that exists here (verify refuses a missing one, and
 * only warns about bad values, so its stderr must be empty). Skipped, saying so, where
 * systemd-analyze is not installed; the keys are checked either way. deploy/relay.toml, the
 * config file the unit runs with, passes the relay's own `--check`.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relayProcesses, runToExit } from "../support/child.ts";

setDefaultTimeout(30_000);

const UNIT_PATH = new URL("../../deploy/bun-relay.service", import.meta.url).pathname;
const UNIT = readFileSync(UNIT_PATH, "utf8");
const SYSTEMD_ANALYZE = Bun.which("systemd-analyze");
const CONFIG_PATH = new URL("../../deploy/relay.toml", import.meta.url).pathname;
const spawn = relayProcesses();

/** `section -> key -> values` (a key may repeat), comments and blank lines dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const equals = line.indexOf("=");
    if (!current || equals < 1) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, equals);
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1)]);
  }
  return sections;
}

const service = parseUnit(UNIT).get("Service") ?? new Map<string, string[]>();
const value = (key: string) => service.get(key)?.at(-1);

describe("deploy/bun-relay.service", () => {
  test("runs the binary with its config file as the non-root bun-relay user, restarted on failure", () => {
    expect(value("User")).toBe("bun-relay");
    expect(value("ExecStart")).toBe("/usr/local/bin/bun-relay --config /etc/bun-relay/relay.toml");
    // The `-`: the environment file is optional; the config file is not.
    expect(value("EnvironmentFile")).toBe("-/etc/bun-relay/env");
    expect(UNIT).toContain("install -D -m 644 deploy/relay.toml /etc/bun-relay/relay.toml");
    expect(value("Restart")).toBe("on-failure");
    expect(value("NoNewPrivileges")).toBe("yes");
  });

  test("raises the open-file limit and reloads with SIGHUP", () => {
    expect(value("LimitNOFILE")).toBe("65536");
    expect(value("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
  });

  test("leaves JIT memory alone: no MemoryDenyWriteExecute (Bun's JIT needs it)", () => {
    expect(service.has("MemoryDenyWriteExecute")).toBe(false);
  });

  test.skipIf(SYSTEMD_ANALYZE === null)(
    `systemd-analyze verify accepts it, without a warning${SYSTEMD_ANALYZE ? "" : " (skipped: no systemd-analyze here)"}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), "bun-relay-unit-"));
      try {
        const copy = join(dir, "bun-relay.service");
        writeFileSync(copy, UNIT.replaceAll("/usr/local/bin/bun-relay", process.execPath));
        const result = Bun.spawnSync([SYSTEMD_ANALYZE as string, "verify", copy], {
          stdout: "pipe",
          stderr: "pipe",
        });
        expect(result.stderr.toString()).toBe("");
        expect(result.exitCode).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("deploy/relay.toml", () => {
  test("passes the relay's --check", async () => {
    const result = await runToExit(spawn, ["--config", CONFIG_PATH, "--check"]);
    expect(result).toEqual({
      status: 0,
      stdout: `bun-relay: configuration OK: ${CONFIG_PATH}\n`,
      stderr: "",
    });
  });

  test("names only absolute paths (the service runs in /)", () => {
    const paths = [
      ...readFileSync(CONFIG_PATH, "utf8").matchAll(/^#? ?[a-z-]+ = "([^"]*\/[^"]*)"/gm),
    ];
    expect(paths.length).toBeGreaterThan(0);
    for (const [, path] of paths) expect(path as string).toStartWith("/");
  });
});
