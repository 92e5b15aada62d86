/**
 * --log-format for the stream modes (forward, proxy, tunnel): the same events as text lines
 * for people or as one JSON object per line for log pipelines, in the relay's JSON shape
 * (src/log.ts jsonLogger): `{"ts":"<ISO time>","event":"<type>","level":"info|warn",...}`.
 */

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Event types that say something went wrong or was refused: `warn` in JSON. */
const WARN_EVENTS: ReadonlySet<string> = new Set([
  "target_down",
  "dial_failed",
  "session_down",
  "tls_handshake_failed",
  "access_refused",
  "reload_failed",
]);

/**
 * Writes an event that `text` describes (undefined: not logged with these options). `text`
 * format: `<ISO time> <text>`; `json`: the event's own fields, with `event` for its type.
 */
export type EventLine = (event: LoggedEvent, text: string | undefined) => void;

/** An event: its type and its own fields. */
export type LoggedEvent = { readonly type: string } & Readonly<Record<string, unknown>>;

/** An EventLine for `format` over a line sink (stdout in the runners). */
export function eventLine(format: LogFormat, write: (line: string) => void): EventLine {
  if (format === "text") {
    return (_event, text) => {
      if (text !== undefined) write(`${new Date().toISOString()} ${text}`);
    };
  }
  return (event, text) => {
    if (text === undefined) return;
    const { type, ...fields } = event as { type: string } & Record<string, unknown>;
    const level = WARN_EVENTS.has(type) || (type === "reload" && fields.ok === false);
    write(
      JSON.stringify({
        ts: new Date().toISOString(),
        event: type,
        level: level ? "warn" : "info",
        ...fields,
      }),
    );
  };
}
