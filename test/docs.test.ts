/**
 * The docs must say what the program does: README's usage block is the --help text, verbatim,
 * and docs/nats.md names every NATS flag with its environment variable and every `-ERR` text.
 */
import { expect, test } from "bun:test";
import { helpText } from "../src/cli/config.ts";
import { NATS_OPTION_ROWS } from "../src/cli/nats-options.ts";
import { NATS_ERR } from "../src/protocol/nats-errors.ts";

async function doc(path: string): Promise<string> {
  return Bun.file(new URL(`../${path}`, import.meta.url)).text();
}

test("README's usage block is exactly the --help text", async () => {
  const readme = await doc("README.md");
  const start = readme.indexOf("## Usage\n\n```\n");
  expect(start).toBeGreaterThan(-1);
  const body = readme.slice(start + "## Usage\n\n```\n".length);
  expect(body.slice(0, body.indexOf("```")).trimEnd()).toBe(helpText("bun run src/main.ts"));
});

test("docs/nats.md names every flag of src/cli/nats-options.ts, with its env variable", async () => {
  const nats = await doc("docs/nats.md");
  const missing = NATS_OPTION_ROWS.flatMap((row) => {
    const flag = row.valueName === undefined ? `--${row.flag}` : `--${row.flag} ${row.valueName}`;
    return [`\`${flag}\``, `\`${row.env}\``].filter((text) => !nats.includes(text));
  });
  expect(missing).toEqual([]);
});

test("docs/nats.md quotes every -ERR text the NATS port knows", async () => {
  const nats = await doc("docs/nats.md");
  const missing = Object.values(NATS_ERR)
    .map((err) => `'${err.text}'`)
    .filter((text) => !nats.includes(text));
  expect(missing).toEqual([]);
});
