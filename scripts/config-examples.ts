/**
 * docs/configuration.md's complete examples, generated from the option tables: the same rows
 * (flag, help, environment variable, default) that --help prints, so a help text or default
 * that changes shows up in the doc once `bun run docs:config` runs, and
 * test/cli/configuration-doc.test.ts fails until it has.
 *
 * Each mode's block sits between `<!-- generated: MODE -->` and `<!-- end generated -->`
 * in the doc; everything outside the markers is left as written. Run from anywhere:
 * `bun run docs:config` rewrites the doc in place and says whether it changed.
 */
import { DEFAULT_CONFIG, OPTIONS as RELAY_OPTIONS } from "../src/cli/config.ts";
import type { OptionSpec } from "../src/cli/option-table.ts";
import { defaultConfig, specsFor as forwardingSpecs } from "../src/forward/forward-config.ts";
import { defaultTunnelConfig, specsFor as tunnelSpecs } from "../src/tunnel/tunnel-config.ts";

/** The doc the blocks live in. */
export const CONFIGURATION_DOC = new URL("../docs/configuration.md", import.meta.url).pathname;

/** Comment text is wrapped to this many columns, not counting its `# `. */
const WRAP_COLUMNS = 90;

/** One mode's example: its marker name, the TOML table its keys sit in, its rows. */
interface ExampleMode {
  /** `<!-- generated: NAME -->`. */
  name: string;
  /** The mode's command-line words (`tunnel client`), for `--check` in the test. */
  args: string[];
  /** "" for the relay's top-level keys, else `forward`, `tunnel.client`… */
  table: string;
  rows: readonly OptionSpec<object>[];
  defaults: object;
  /**
   * Values for keys that have no default but are required (`--to`), so that the example
   * passes `--check`: TOML text, written as is.
   */
  required: Record<string, string>;
}

/** forward or proxy: the table named after the mode. */
function forwardingMode(mode: "forward" | "proxy", required: Record<string, string>): ExampleMode {
  const rows = forwardingSpecs(mode) as OptionSpec<object>[];
  return { name: mode, args: [mode], table: mode, rows, defaults: defaultConfig(mode), required };
}

/** tunnel client or server: `[tunnel.ROLE]`. */
function tunnelMode(role: "client" | "server", required: Record<string, string>): ExampleMode {
  return {
    name: `tunnel-${role}`,
    args: ["tunnel", role],
    table: `tunnel.${role}`,
    rows: tunnelSpecs(role) as OptionSpec<object>[],
    defaults: defaultTunnelConfig(role),
    required,
  };
}

/** Every mode, in the doc's order. */
export const EXAMPLE_MODES: readonly ExampleMode[] = [
  {
    name: "relay",
    args: [],
    table: "",
    rows: RELAY_OPTIONS as readonly OptionSpec<object>[],
    defaults: DEFAULT_CONFIG,
    required: {},
  },
  forwardingMode("forward", { to: '["127.0.0.1:7001", "127.0.0.1:7011"]' }),
  forwardingMode("proxy", {}),
  tunnelMode("client", { server: '"127.0.0.1:9000"' }),
  tunnelMode("server", { to: '"127.0.0.1:7001"' }),
];

/** `text` as `# ` comment lines, split at spaces into at most WRAP_COLUMNS of text each. */
export function commentLines(text: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > WRAP_COLUMNS) {
      lines.push(`# ${line}`);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(`# ${line}`);
  return lines;
}

/**
 * The key's line: `key = default` when the row has a default a file can state, else
 * `# key = "VALUE"` (its --help placeholder). No default: the config value is unset or an
 * empty list, or --help names another flag (`--pub-framing` defaults to `--framing`, and
 * writing that flag's value here would override it).
 */
function keyLine(mode: ExampleMode, row: OptionSpec<object>): string {
  const required = mode.required[row.flag];
  if (required !== undefined) return `${row.flag} = ${required}`;
  const value = (mode.defaults as Record<string, unknown>)[row.key];
  const shown = row.showDefault(mode.defaults);
  const unset = value === undefined || (Array.isArray(value) && value.length === 0);
  if (unset || shown.startsWith("--")) {
    const placeholder = JSON.stringify(row.valueName ?? "VALUE");
    return `# ${row.flag} = ${row.multiple ? `[${placeholder}]` : placeholder}`;
  }
  const bare = row.kind === "boolean" || /^-?\d+(\.\d+)?$/.test(shown);
  return `${row.flag} = ${bare ? shown : JSON.stringify(shown)}`;
}

/** One mode's TOML block, fences included: each row's help and env, then its key line. */
export function exampleBlock(mode: ExampleMode): string {
  const entries = mode.rows.map((row) =>
    [...commentLines(`${row.help} (env ${row.env})`), keyLine(mode, row)].join("\n"),
  );
  const header = mode.table === "" ? "" : `[${mode.table}]\n`;
  return `\`\`\`toml\n${header}${entries.join("\n\n")}\n\`\`\``;
}

/**
 * `doc` with every generated block replaced by exampleBlock's output.
 * @throws Error when a mode's markers are missing, so a lost marker is not a silent no-op.
 */
export function regenerate(doc: string): string {
  let text = doc;
  for (const mode of EXAMPLE_MODES) {
    const start = `<!-- generated: ${mode.name} -->\n`;
    const from = text.indexOf(start);
    const to = from < 0 ? -1 : text.indexOf("<!-- end generated -->", from);
    if (to < 0) throw new Error(`${CONFIGURATION_DOC}: no '${start.trim()}' ... end marker`);
    text = `${text.slice(0, from + start.length)}${exampleBlock(mode)}\n${text.slice(to)}`;
  }
  return text;
}

if (import.meta.main) {
  const before = await Bun.file(CONFIGURATION_DOC).text();
  const after = regenerate(before);
  if (after !== before) await Bun.write(CONFIGURATION_DOC, after);
  console.log(`${CONFIGURATION_DOC}: ${after === before ? "unchanged" : "regenerated"}`);
}
