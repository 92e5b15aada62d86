/**
 * Test support: a strict parser for the Prometheus text exposition format (version 0.0.4),
 * so the tests can read exact values from /metrics and fail on anything a scraper would
 * reject, whether or not `promtool` is installed.
 *
 * Checked: HELP/TYPE syntax and uniqueness, TYPE before the family's samples, a family's
 * lines kept together, metric and label name syntax, label value escapes, sample values,
 * duplicate series, and the final newline.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string | undefined;
  type: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count"],
};

function fail(lineNumber: number, line: string, why: string): never {
  throw new Error(`exposition line ${lineNumber}: ${why}: ${JSON.stringify(line)}`);
}

/**
 * A sample value, or undefined when it is not one the format allows. Like Prometheus (Go's
 * ParseFloat), NaN and Inf are case-insensitive: prom-client writes NaN as `Nan`.
 */
function parseValue(text: string): number | undefined {
  if (/^nan$/i.test(text)) return Number.NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Parses `{a="x",b="y\"z"}` starting at `start` (the `{`); returns labels and the end index. */
function parseLabels(line: string, start: number, lineNumber: number) {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== "}") {
    const eq = line.indexOf("=", i);
    if (eq < 0) fail(lineNumber, line, "label without '='");
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(lineNumber, line, `bad label name '${name}'`);
    if (name in labels) fail(lineNumber, line, `label '${name}' twice`);
    if (line[eq + 1] !== '"') fail(lineNumber, line, "label value not quoted");
    let value = "";
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== "\\") {
        value += line[j];
        continue;
      }
      const escaped = line[++j];
      if (escaped === "n") value += "\n";
      else if (escaped === "\\" || escaped === '"') value += escaped;
      else fail(lineNumber, line, `bad escape '\\${escaped}' in a label value`);
    }
    if (j >= line.length) fail(lineNumber, line, "unterminated label value");
    labels[name] = value;
    i = j + 1;
    if (line[i] === ",") i++;
    else if (line[i] !== "}") fail(lineNumber, line, "expected ',' or '}' after a label");
  }
  return { labels, end: i + 1 };
}

function familyOf(sampleName: string, families: Map<string, Family>): string {
  if (families.has(sampleName)) return sampleName;
  for (const [name, family] of families) {
    const suffixes = SUFFIXES[family.type ?? ""] ?? [];
    if (suffixes.some((suffix) => sampleName === name + suffix)) return name;
  }
  return sampleName;
}

/** Parses a whole exposition; throws an Error naming the line on the first violation. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;

  const enter = (name: string, lineNumber: number, line: string): Family => {
    if (current !== name) {
      if (finished.has(name)) fail(lineNumber, line, `family ${name} is split`);
      if (current !== undefined) finished.add(current);
      current = name;
    }
    let family = families.get(name);
    if (!family) {
      family = { name, help: undefined, type: undefined, samples: [] };
      families.set(name, family);
    }
    return family;
  };

  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, index) => {
      const lineNumber = index + 1;
      if (line.trim() === "") return;
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (meta) {
        const [, keyword, name = "", rest = ""] = meta;
        if (!METRIC_NAME.test(name)) fail(lineNumber, line, `bad metric name '${name}'`);
        const family = enter(name, lineNumber, line);
        if (keyword === "HELP") {
          if (family.help !== undefined) fail(lineNumber, line, "second HELP");
          if (/\\[^n\\]/.test(rest)) fail(lineNumber, line, "bad escape in HELP");
          family.help = rest;
        } else {
          if (family.type !== undefined) fail(lineNumber, line, "second TYPE");
          if (family.samples.length > 0) fail(lineNumber, line, "TYPE after samples");
          if (!TYPES.has(rest)) fail(lineNumber, line, `unknown type '${rest}'`);
          family.type = rest;
        }
        return;
      }
      if (line.startsWith("#")) return; // a comment

      const nameEnd = line.search(/[{ ]/);
      if (nameEnd <= 0) fail(lineNumber, line, "no value");
      const name = line.slice(0, nameEnd);
      if (!METRIC_NAME.test(name)) fail(lineNumber, line, `bad metric name '${name}'`);
      let labels: Record<string, string> = {};
      let rest = line.slice(nameEnd);
      if (rest.startsWith("{")) {
        const parsed = parseLabels(line, nameEnd, lineNumber);
        labels = parsed.labels;
        rest = line.slice(parsed.end);
      }
      const fields = rest.trim().split(/ +/);
      if (!rest.startsWith(" ") || fields.length < 1 || fields.length > 2) {
        fail(lineNumber, line, "expected ' VALUE [TIMESTAMP]'");
      }
      const value = parseValue(fields[0] as string);
      if (value === undefined) fail(lineNumber, line, "bad value");
      if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) {
        fail(lineNumber, line, "bad timestamp");
      }
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) fail(lineNumber, line, "duplicate series");
      series.add(key);
      enter(familyOf(name, families), lineNumber, line).samples.push({ name, labels, value });
    });
  return families;
}

/** The value of one series; throws when it is missing, so a typo cannot pass as 0. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name);
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const sample = family?.samples.find(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  );
  if (!sample) throw new Error(`no series ${name}${wanted} in the exposition`);
  return sample.value;
}
