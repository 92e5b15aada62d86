/**
 * docs/configuration.md's complete examples (issue 24) are real files: the doc is exactly
 * what scripts/config-examples.ts generates from the option tables (so a help text or
 * default changed without `bun run docs:config` fails here), and each example passes
 * `--check` in the real process for its mode and names every flag of that mode's table.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIGURATION_DOC, EXAMPLE_MODES, regenerate } from "../../scripts/config-examples.ts";
import { relayProcesses } from "../support/child.ts";

setDefaultTimeout(30_000);

const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "bun-relay-doc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = await Bun.file(CONFIGURATION_DOC).text();
const examples = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((match) => match[1] as string);

const MODES = EXAMPLE_MODES.map((mode) => ({
  args: mode.args,
  label: mode.args.length === 0 ? "" : ` (${mode.args.join(" ")})`,
  flags: mode.rows.map((row) => row.flag),
}));

test("the examples are what the option tables generate (else run `bun run docs:config`)", () => {
  const generated = regenerate(doc);
  if (generated !== doc) {
    // The first differing line, so the failure says what drifted, not just that it did.
    const docLines = doc.split("\n");
    const line = generated.split("\n").findIndex((text, i) => text !== docLines[i]);
    throw new Error(
      `docs/configuration.md:${line + 1} differs from the option tables' --help text; ` +
        "run `bun run docs:config` and commit the result",
    );
  }
});

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
