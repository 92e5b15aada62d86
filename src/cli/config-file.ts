/**
 * `--config FILE` (issue 24): a TOML file, parsed by Bun's own TOML parser, whose keys are
 * the flags' names (`pub-port = 7101`). Top-level keys are the relay's; the tables
 * `[forward]`, `[proxy]`, `[tunnel.client]` and `[tunnel.server]` hold the other modes'
 * keys. A value goes through the flag's own parser, so units and validation are the flag's;
 * every error names the file, the line and the key.
 */
import { readFileSync } from "node:fs";
import { badArgument, type OptionSpec } from "./option-table.ts";
import { didYouMean } from "./program.ts";

/** The tables a file may hold besides the relay's top-level keys, by their dotted path. */
export const MODE_TABLES = ["forward", "proxy", "tunnel.client", "tunnel.server"] as const;
export type ModeTable = (typeof MODE_TABLES)[number];

/** A file read and parsed: its path, its text (for line numbers) and its data. */
export interface ConfigFile {
  readonly path: string;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}

const isTable = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads and parses `path`.
 * @throws RelayError RELAY_ERR_BAD_ARGUMENT: `FILE: cannot read (ENOENT)` or
 *   `FILE:LINE: <the parser's reason>`.
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw badArgument(`${path}: cannot read the file (${why})`);
  }
  let data: unknown;
  try {
    data = Bun.TOML.parse(text);
  } catch (error) {
    const reason = String((error as Error)?.message ?? error)
      .replace(/^TOML Parse error: /, "")
      .replace(/\.$/, "");
    throw badArgument(`${path}${errorLine(text)}: not valid TOML (${lowerFirst(reason)})`);
  }
  return { path, text, data: data as Record<string, unknown> };
}

/**
 * `:N`, the first line at which the text stops parsing: Bun's TOML errors carry no usable
 * position (1.4.5 reports line 1 for every error), so growing prefixes are parsed; a file
 * is a few dozen lines.
 */
function errorLine(text: string): string {
  const lines = text.split("\n");
  for (let end = 1; end <= lines.length; end++) {
    try {
      Bun.TOML.parse(lines.slice(0, end).join("\n"));
    } catch {
      return `:${end}`;
    }
  }
  return "";
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The 1-based line where `key` is set in table `table` ("" for the top level): Bun's parser
 * gives no positions, so the text is scanned for the table's header, then the key. 0 when
 * not found (an inline table, say).
 */
export function lineOf(file: ConfigFile, table: string, key: string): number {
  const lines = file.text.split("\n");
  let current = "";
  const keyPattern = new RegExp(`^\\s*["']?${escapeRegExp(key)}["']?\\s*=`);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) {
      current = (header[1] as string).replace(/\s*\.\s*/g, ".").replace(/["']/g, "");
      continue;
    }
    if (current === table && keyPattern.test(line)) return i + 1;
  }
  return 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `FILE:LINE: KEY` (or `FILE: [table] KEY` when the line is unknown). */
export function keySource(file: ConfigFile, table: string, key: string): string {
  const line = lineOf(file, table, key);
  const name = table === "" ? key : `${table}.${key}`;
  return line > 0 ? `${file.path}:${line}: ${key}` : `${file.path}: ${name}`;
}

/** The keys of table `table` ("" for the top level); undefined when the file has none. */
export function tableOf(file: ConfigFile, table: string): Record<string, unknown> | undefined {
  let node: unknown = file.data;
  if (table === "") return node as Record<string, unknown>;
  for (const part of table.split(".")) {
    if (!isTable(node)) return undefined;
    node = node[part];
  }
  if (node === undefined) return undefined;
  if (!isTable(node)) throw badArgument(`${keySource(file, "", table)}: must be a table`);
  return node;
}

/**
 * Checks that every table in the file is one a mode reads (a misspelt `[fowrard]` would
 * otherwise be ignored without a word).
 * @throws RelayError RELAY_ERR_BAD_ARGUMENT naming the file, the line and the table.
 */
export function checkTables(file: ConfigFile, topLevelKeys: readonly string[]): void {
  const roots = ["forward", "proxy", "tunnel"];
  for (const [key, value] of Object.entries(file.data)) {
    if (!isTable(value)) continue;
    if (!roots.includes(key)) {
      if (topLevelKeys.includes(key)) continue; // a value written as a table: its own parser says
      throw badArgument(
        `${tableSource(file, key)}: unknown table${didYouMean(key, [...roots, "tunnel.client", "tunnel.server"])}`,
      );
    }
    if (key !== "tunnel") continue;
    for (const [role, inner] of Object.entries(value)) {
      if (!isTable(inner)) {
        // `[tunnel] conns = 4` would be read by neither role: say where it belongs.
        throw badArgument(
          `${keySource(file, "tunnel", role)}: the tunnel's keys go in [tunnel.client] or [tunnel.server]`,
        );
      }
      if (role !== "client" && role !== "server") {
        throw badArgument(
          `${tableSource(file, `tunnel.${role}`)}: unknown table${didYouMean(role, ["client", "server"], "tunnel.")}`,
        );
      }
    }
  }
}

function tableSource(file: ConfigFile, table: string): string {
  const lines = file.text.split("\n");
  const index = lines.findIndex((line) =>
    new RegExp(`^\\s*\\[\\s*${escapeRegExp(table).replace(/\\\./g, "\\s*\\.\\s*")}\\s*\\]`).test(
      line,
    ),
  );
  return index >= 0 ? `${file.path}:${index + 1}: [${table}]` : `${file.path}: [${table}]`;
}

/**
 * The texts a table sets, per row of `specs`, ready for the rows' own parsers: numbers and
 * booleans as their text, an array for a repeatable flag (a single value is a list of one).
 * Keys that are other modes' tables are skipped at the top level.
 * @throws RelayError RELAY_ERR_BAD_ARGUMENT for an unknown key (with a near miss) or a value
 *   of the wrong shape, naming the file, the line and the key.
 */
export function fileTexts<C>(
  file: ConfigFile,
  table: string,
  specs: readonly OptionSpec<C>[],
): { spec: OptionSpec<C>; texts: string[]; source: string }[] {
  const keys = tableOf(file, table);
  if (keys === undefined) return [];
  const byFlag = new Map(specs.map((spec) => [spec.flag, spec]));
  const result: { spec: OptionSpec<C>; texts: string[]; source: string }[] = [];
  for (const [key, value] of Object.entries(keys)) {
    if (table === "" && isTable(value) && ["forward", "proxy", "tunnel"].includes(key)) continue;
    const source = keySource(file, table, key);
    const spec = byFlag.get(key);
    if (spec === undefined) {
      const where = table === "" ? "" : ` in [${table}]`;
      throw badArgument(`${source}: unknown key${where}${didYouMean(key, byFlag.keys())}`);
    }
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !spec.multiple) {
      throw badArgument(`${source}: takes one value, not a list`);
    }
    const texts = values.map((item) => {
      if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
        if (typeof item === "boolean" && spec.kind !== "boolean") {
          throw badArgument(`${source}: takes a ${spec.valueName ?? "value"}, not true/false`);
        }
        return String(item);
      }
      throw badArgument(`${source}: takes a string, a number or a boolean`);
    });
    result.push({ spec, texts, source });
  }
  return result;
}
