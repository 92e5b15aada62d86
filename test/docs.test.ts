/** The README must say what the program does: its usage block is the --help text, verbatim. */
import { expect, test } from "bun:test";
import { helpText } from "../src/cli/config.ts";

test("README's usage block is exactly the --help text", async () => {
  const readme = await Bun.file(new URL("../README.md", import.meta.url)).text();
  const start = readme.indexOf("## Usage\n\n```\n");
  expect(start).toBeGreaterThan(-1);
  const body = readme.slice(start + "## Usage\n\n```\n".length);
  expect(body.slice(0, body.indexOf("```")).trimEnd()).toBe(helpText());
});
