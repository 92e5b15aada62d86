/**
 * SIGHUP with --config (issue 24): the command line, the environment and the file are parsed
 * again into a whole new configuration, compared key by key with the running one, and the
 * keys a mode can change while it runs are copied into the running configuration (which the
 * running parts read at use time). One `RELOAD` line says what changed and what needs a
 * restart; a file that does not parse or validate changes nothing and the line says why.
 */
import type { NetOptions } from "../net/access.ts";
import type { NetEvent } from "../net/net-events.ts";
import { failureText } from "./failure.ts";
import type { OptionSpec } from "./option-table.ts";

/**
 * The access flags, which NetAccess reads again on reload (src/net/access.ts): live in every
 * mode, except that TLS cannot be turned on or off on a listening port (see netLive).
 */
export const NET_LIVE_FLAGS = [
  "tls-cert",
  "tls-key",
  "tls-client-ca",
  "allow-from",
  "allow-from-file",
  "handshake-timeout",
] as const;

/**
 * A reload may change the certificate's files but not turn TLS on or off: a plaintext port
 * stays plaintext until a restart (NetAccess.reload keeps a listener's TLS state).
 */
function netLive(running: NetOptions, next: NetOptions): boolean {
  return (running.tlsCert === undefined) === (next.tlsCert === undefined);
}

/** What a reload found: the flags changed live, and those that only a restart applies. */
export interface ConfigChanges<C> {
  applied: OptionSpec<C>[];
  needRestart: OptionSpec<C>[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Copies the keys in `live` that differ from `next` into `running` (in place) and returns
 * which rows changed, live or not. The access flags stay put when TLS would be turned on or
 * off (netLive): then they all need a restart.
 */
export function applyLiveChanges<C extends NetOptions>(
  specs: readonly OptionSpec<C>[],
  running: C,
  next: C,
  live: ReadonlySet<string>,
): ConfigChanges<C> {
  const tlsStays = netLive(running, next);
  const applied: OptionSpec<C>[] = [];
  const needRestart: OptionSpec<C>[] = [];
  for (const spec of specs) {
    if (same(running[spec.key], next[spec.key])) continue;
    const isNet = (NET_LIVE_FLAGS as readonly string[]).includes(spec.flag);
    if (live.has(spec.flag) && (tlsStays || !isNet)) {
      (running as Record<string, unknown>)[spec.key] = next[spec.key];
      applied.push(spec);
    } else {
      needRestart.push(spec);
    }
  }
  return { applied, needRestart };
}

/**
 * A value as a flag would take it: scalars as they are (bytes, seconds), `host:port` for an
 * address, a pattern's own text, lists joined by commas.
 */
function shownValue<C>(spec: OptionSpec<C>, config: C): string {
  const value = config[spec.key];
  if (value === undefined) return "none";
  if (spec.secret) return "(not shown)";
  return Array.isArray(value) ? value.map(itemText).join(",") : itemText(value);
}

function itemText(item: unknown): string {
  if (typeof item !== "object" || item === null) return String(item);
  const { text, host, port } = item as { text?: unknown; host?: unknown; port?: unknown };
  if (typeof text === "string") return text;
  if (typeof host === "string" && typeof port === "number") {
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }
  return JSON.stringify(item);
}

/**
 * `FILE: changed --max-conns=20, --quiet=true; needs a restart: --listen` (or
 * `FILE: nothing changed`), the detail of a `RELOAD` line. Values are in base units (bytes,
 * seconds).
 */
export function describeChanges<C>(file: string, config: C, changes: ConfigChanges<C>): string {
  const parts: string[] = [];
  if (changes.applied.length > 0) {
    const shown = changes.applied.map((spec) => `--${spec.flag}=${shownValue(spec, config)}`);
    parts.push(`changed ${shown.join(", ")}`);
  }
  if (changes.needRestart.length > 0) {
    const flags = changes.needRestart.map((spec) => `--${spec.flag}`);
    parts.push(`needs a restart: ${flags.join(", ")}`);
  }
  return `${file}: ${parts.join("; ") || "nothing changed"}`;
}

/**
 * The whole reload: `parse` (the command line, the environment and the file again, with
 * every check a start makes; throws RelayError), then applyLiveChanges. Returns the `reload`
 * event for the log (`RELOAD FILE: changed …`, or `RELOAD failed: …; keeping the previous
 * configuration`); on failure nothing changed.
 */
export function reloadFromFile<C extends NetOptions>(
  file: string,
  specs: readonly OptionSpec<C>[],
  running: C,
  live: ReadonlySet<string>,
  parse: () => C,
): Extract<NetEvent, { type: "reload" }> {
  let next: C;
  try {
    next = parse();
  } catch (error) {
    return { type: "reload", ok: false, detail: failureText(error) };
  }
  const changes = applyLiveChanges(specs, running, next, live);
  return { type: "reload", ok: true, detail: describeChanges(file, running, changes) };
}
