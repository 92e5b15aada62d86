/**
 * The one mechanism behind every mode's command line (relay, forward, proxy, tunnel): a
 * table of options from which the parser, the environment variables, the --config file's
 * keys (src/cli/config-file.ts) and the --help rows are all derived, so they cannot drift
 * apart.
 *
 * Precedence: command-line flag > environment variable > --config file > default; a relay
 * port given both as a positional argument and as its flag is an error ("given twice"), and
 * a positional port overrides the environment and the file. A repeatable option appends on the command line, takes
 * a comma-separated list in its environment variable and a TOML array in the file.
 */
import { parseArgs } from "node:util";
import { ErrorCode, RelayError } from "../errors.ts";
import { checkTables, fileTexts, readConfigFile } from "./config-file.ts";
import { didYouMean } from "./program.ts";

/** One option: its flag, its environment variable, how its text becomes a config value. */
export interface OptionSpec<C> {
  /** The config field it sets. */
  key: Extract<keyof C, string>;
  /** The flag without `--`. */
  flag: string;
  /** The environment variable that sets it when the flag is absent. */
  env: string;
  kind: "string" | "boolean";
  /** Repeatable: each occurrence appends; the config field is an array. */
  multiple?: boolean;
  /** The placeholder in --help (`--max-line SIZE`). */
  valueName?: string;
  help: string;
  /** Text to value; throws a plain Error whose message says what is wrong. */
  parse?: (text: string) => unknown;
  showDefault: (config: C) => string;
  /**
   * The value is a credential (a password, a token, URLs that may carry them): a RELOAD line
   * says that it changed, never what it is.
   */
  secret?: boolean;
}

/** What a command line asked for, once parsed against a table. */
export interface ParsedOptions<C> {
  config: C;
  /** Keys set by the --config file, an environment variable, a positional argument or a flag. */
  given: Set<keyof C>;
  help: boolean;
  version: boolean;
  /** --check: validate everything, then exit without listening. */
  check: boolean;
  /** --config FILE (or its environment variable), read again on SIGHUP. */
  configFile: string | undefined;
  /** One line each, for stderr: environment variables with the mode's prefix that no row reads. */
  warnings: string[];
}

/** What a run needs besides the config: --check, --config, the warnings. */
export type RunOptions = Pick<ParsedOptions<unknown>, "check" | "configFile" | "warnings">;

/** The RunOptions part of a parse. */
export function runOptionsOf(parsed: RunOptions): RunOptions {
  return { check: parsed.check, configFile: parsed.configFile, warnings: parsed.warnings };
}

/** The flags every table has besides its rows. */
export const BUILT_IN_FLAGS = ["help", "version", "config", "check"] as const;

/** A RelayError with code RELAY_ERR_BAD_ARGUMENT: the one-line reason a bad argument gets. */
export function badArgument(reason: string): RelayError {
  return new RelayError(ErrorCode.BadArgument, reason);
}

/**
 * `--stall-timeout -1` as `--stall-timeout=-1`: node:util calls a value starting with `-`
 * ambiguous and says so in a paragraph of advice; a negative number after a flag that takes
 * a value can only be that value, which the flag's own parser then accepts or refuses with
 * its reason.
 */
function joinNegativeValues(
  argv: readonly string[],
  options: Record<string, { type: "string" | "boolean" }>,
): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const takesValue = arg.startsWith("--") && options[arg.slice(2)]?.type === "string";
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  return args;
}

/**
 * Parses `argv` (without the runtime, script and mode names) and `env` against `specs`,
 * starting from a copy of `defaults`. `positionals` handles positional arguments after the
 * environment and before the flags (it throws badArgument for any it does not take); without
 * it, a positional argument is an error. `context` prefixes every error (`forward: `).
 * @throws RelayError RELAY_ERR_BAD_ARGUMENT with a one-line reason.
 */
export function parseOptionTable<C extends object>(
  specs: readonly OptionSpec<C>[],
  argv: readonly string[],
  env: Record<string, string | undefined>,
  defaults: Readonly<C>,
  options: {
    context?: string;
    /**
     * The environment variables' prefix (`RELAY_`, `FORWARD_`): `<prefix>CONFIG` names the
     * config file when --config is absent, and any other variable with the prefix that no
     * row reads is reported in `warnings` (a misspelt one would otherwise do nothing).
     */
    envPrefix?: string;
    /** Variables with the prefix that other roles read (not warned about here). */
    otherEnv?: readonly string[];
    /** Where the mode's keys are in a --config file: "" (top level) or a table (`forward`). */
    fileTable?: string;
    positionals?: (
      config: C,
      positionals: readonly string[],
      flagGiven: (key: keyof C) => boolean,
    ) => void;
  } = {},
): ParsedOptions<C> {
  const context = options.context ?? "";
  const parseOptions: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
    config: { type: "string" },
    check: { type: "boolean" },
  };
  for (const spec of specs) {
    parseOptions[spec.flag] = { type: spec.kind, multiple: spec.multiple ?? false };
  }
  checkFlagNames(argv, Object.keys(parseOptions), context);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const args = joinNegativeValues(argv, parseOptions);
    parsed = parseArgs({ args, options: parseOptions, allowPositionals: true });
  } catch (error) {
    // node:util's messages name the flag but may span lines, end in advice about `--`, and
    // start with a capital and end with a period, unlike ours.
    const lines = (error as Error).message
      .split("\n")
      .filter((line) => !line.startsWith("To specify"));
    const text = lines
      .join(" ")
      .replace(/\. To specify .*$/, "")
      .replace(/\.$/, "");
    throw badArgument(`${context}${text.charAt(0).toLowerCase()}${text.slice(1)}`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const config = { ...defaults } as C;
  const given = new Set<keyof C>();
  const envPrefix = options.envPrefix;
  const configFile =
    (values.config as string | undefined) ??
    (envPrefix === undefined ? undefined : env[`${envPrefix}CONFIG`]);
  const result = {
    config,
    given,
    help: values.help === true,
    version: values.version === true,
    check: values.check === true,
    configFile,
    warnings:
      envPrefix === undefined
        ? []
        : unknownEnvironment(specs, env, envPrefix, options.otherEnv ?? []),
  };
  if (result.help || result.version) return result;

  if (configFile !== undefined) {
    const file = readConfigFile(configFile);
    checkTables(
      file,
      specs.map((spec) => spec.flag),
    );
    for (const { spec, texts, source } of fileTexts(file, options.fileTable ?? "", specs)) {
      apply(config, spec, texts, source);
      given.add(spec.key);
    }
  }
  for (const spec of specs) {
    const fromEnv = env[spec.env];
    if (fromEnv === undefined) continue;
    const texts = spec.multiple ? fromEnv.split(",").filter((t) => t.trim() !== "") : [fromEnv];
    apply(config, spec, texts, `${context}${spec.env}`);
    given.add(spec.key);
  }
  if (parsed.positionals.length > 0) {
    if (!options.positionals) {
      throw badArgument(`${context}unexpected argument '${parsed.positionals[0]}'`);
    }
    const flagGiven = (key: keyof C) =>
      specs.some((spec) => spec.key === key && values[spec.flag] !== undefined);
    options.positionals(config, parsed.positionals, flagGiven);
  }
  for (const spec of specs) {
    const value = values[spec.flag];
    if (value === undefined) continue;
    if (typeof value === "boolean") (config as Record<string, unknown>)[spec.key] = value;
    else apply(config, spec, Array.isArray(value) ? value : [value], `${context}--${spec.flag}`);
    given.add(spec.key);
  }
  return result;
}

/**
 * Refuses a flag no row has, before node:util does, to add the near miss
 * (`unknown option '--max-pendng' (did you mean '--max-pending'?)`).
 * @throws RelayError RELAY_ERR_BAD_ARGUMENT.
 */
function checkFlagNames(argv: readonly string[], flags: readonly string[], context: string): void {
  for (const arg of argv) {
    if (arg === "--") return;
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).split("=", 1)[0] as string;
    if (!flags.includes(name)) {
      throw badArgument(`${context}unknown option '--${name}'${didYouMean(name, flags, "--")}`);
    }
  }
}

/** `unknown environment variable RELAY_FRAMNG (did you mean RELAY_FRAMING?)` lines. */
function unknownEnvironment<C>(
  specs: readonly OptionSpec<C>[],
  env: Record<string, string | undefined>,
  prefix: string,
  otherEnv: readonly string[],
): string[] {
  const known = new Set([...specs.map((spec) => spec.env), ...otherEnv, `${prefix}CONFIG`]);
  return Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !known.has(name))
    .sort()
    .map((name) => {
      const near = didYouMean(name, known).replace(/'/g, "");
      return `warning: unknown environment variable ${name}${near}; ignored`;
    });
}

/**
 * Sets `spec`'s config field from `texts` (one per occurrence). `source` names where they
 * came from in the error (`--max-line`, `RELAY_MAX_LINE`).
 * @throws RelayError RELAY_ERR_BAD_ARGUMENT.
 */
export function apply<C extends object>(
  config: C,
  spec: OptionSpec<C>,
  texts: readonly string[],
  source: string,
): void {
  try {
    const parse = spec.parse ?? (spec.kind === "boolean" ? parseBoolean : (text: string) => text);
    const parsedValues = texts.map((text) => parse(text));
    (config as Record<string, unknown>)[spec.key] = spec.multiple
      ? parsedValues
      : parsedValues[parsedValues.length - 1];
  } catch (error) {
    throw badArgument(`${source}: ${(error as Error).message}`);
  }
}

/** The --help rows of a table: flag and help, then its default and environment variable. */
export function optionRows<C>(
  specs: readonly OptionSpec<C>[],
  defaults: C,
  width: number,
): string[] {
  return specs.map((spec) => {
    const left = `  --${spec.flag}${spec.valueName ? ` ${spec.valueName}` : ""}`;
    return `${left.padEnd(width)}${spec.help}\n${"".padEnd(width)}(default ${spec.showDefault(defaults)}; env ${spec.env})`;
  });
}

/**
 * The --help rows of the flags every table has (BUILT_IN_FLAGS), `width` wide on the left.
 * `configEnv`: the variable that names the config file (`RELAY_CONFIG`).
 */
export function builtInRows(width: number, configEnv: string): string[] {
  const left = (text: string) => `  ${text}`.padEnd(width);
  return [
    `${left("-h, --help")}print this help and exit`,
    `${left("--version")}print the version and exit`,
    `${left("--config FILE")}read options from a TOML file (keys are the flags' names; flags and`,
    `${left("")}the environment override it; see docs/configuration.md; env ${configEnv})`,
    `${left("--check")}validate the options and every file they name, then exit 0 or 2`,
  ];
}

// Value parsers shared by the tables. Each throws a plain Error saying what is wrong.

/** One of `choices`, spelled exactly. */
export function oneOf<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    if ((choices as readonly string[]).includes(text)) return text as T;
    throw new Error(`'${text}' is not one of: ${choices.join(", ")}`);
  };
}

/** `parse`, then refuses a negative result. */
export function nonNegative(parse: (text: string) => number): (text: string) => number {
  return (text) => {
    const value = parse(text);
    if (!(value >= 0)) throw new Error(`'${text}' must not be negative`);
    return value;
  };
}

/** `parse`, then refuses zero and below. */
export function positive(parse: (text: string) => number): (text: string) => number {
  return (text) => {
    const value = parse(text);
    if (!(value > 0)) throw new Error(`'${text}' must be greater than zero`);
    return value;
  };
}

/** 1/0, true/false, yes/no, on/off (any case); empty is false. */
export function parseBoolean(text: string): boolean {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off|)$/i.test(text)) return false;
  throw new Error(`'${text}' is not a boolean (use 1/0, true/false)`);
}
