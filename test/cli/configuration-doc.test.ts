/**
 * docs/configuration.md's complete examples (issue 24) are real files: each one passes
 * `--check` in the real process for its mode, and names every flag of that mode's table.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPTIONS } from "../../src/cli/config.ts";
import { specsFor as forwardingSpecs } from "../../src/forward/forward-config.ts";
import { specsFor as tunnelSpecs } from "../../src/tunnel/tunnel-config.ts";
import { relayProcesses } from "../support/child.ts";

setDefaultTimeout(30_000);

const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "bun-relay-doc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = await Bun.file(new URL("../../docs/configuration.md", import.meta.url)).text();
const examples = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((match) => match[1] as string);

const MODES = [
  { args: [] as string[], label: "", flags: OPTIONS.map((spec) => spec.flag) },
  { args: ["forward"], label: " (forward)", flags: forwardingSpecs("forward").map((s) => s.flag) },
  { args: ["proxy"], label: " (proxy)", flags: forwardingSpecs("proxy").map((s) => s.flag) },
  {
    args: ["tunnel", "client"],
    label: " (tunnel client)",
    flags: tunnelSpecs("client").map((s) => s.flag),
  },
  {
    args: ["tunnel", "server"],
    label: " (tunnel server)",
    flags: tunnelSpecs("server").map((s) => s.flag),
  },
];

test("there is one complete example per mode", () => {
  expect(examples.length).toBe(MODES.length);
});

test.each(MODES.map((mode, index) => [mode.args.join(" ") || "relay", index] as const))(
  "the %s example passes --check and names every flag",
  async (_name, index) => {
    const mode = MODES[index] as (typeof MODES)[number];
    const text = examples[index] as string;
    const keys = [...text.matchAll(/^(?:# )?([a-z][a-z0-9-]*) = /gm)].map((m) => m[1]);
    expect(keys.toSorted()).toEqual(mode.flags.toSorted());
    const path = join(dir, `example-${index}.toml`);
    writeFileSync(path, text);
    const child = spawn([...mode.args, "--config", path, "--check"]);
    const [status, stdout, stderr] = await Promise.all([
      child.exited,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(stdout).toBe(`bun-relay: configuration OK${mode.label}: ${path}\n`);
  },
);
