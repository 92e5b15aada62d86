/**
 * One `RELOAD` line per SIGHUP (issue 24). A reload has several parts, each of which reports
 * itself as a `reload` event: the --config file (reload.ts), the TLS files and allow-lists
 * (src/net/access.ts), the relay's --users-file (src/relay/nats-port.ts). While a SIGHUP is
 * handled, the runner's log routes those events here, and they leave as one event at the
 * end: ok when every part is, the parts' details joined, a failed part first with what was
 * applied nonetheless in `applied`.
 */
import type { NetEvent } from "../net/net-events.ts";

type ReloadEvent = Extract<NetEvent, { type: "reload" }>;

/** A part that had nothing to do says so; the combined line leaves it out. */
const NOTHING = "nothing to reload";

/**
 * Wraps a log so that the `reload` events of one SIGHUP become one. `log` is what the parts
 * are given; `during(work)` runs the SIGHUP's work and writes the combined event.
 */
export class ReloadLine<E extends { readonly type: string }> {
  private parts: ReloadEvent[] | undefined;

  constructor(private readonly write: (event: E) => void) {}

  /** The log to hand to every part: reload events are held while `during` runs. */
  readonly log = (event: E): void => {
    if (this.parts !== undefined && event.type === "reload") {
      this.parts.push(event as unknown as ReloadEvent);
      return;
    }
    this.write(event);
  };

  /** Runs one SIGHUP's `work`, then writes one `reload` event for all its parts. */
  during(work: () => void): void {
    const parts: ReloadEvent[] = [];
    this.parts = parts;
    try {
      work();
    } finally {
      this.parts = undefined;
      if (parts.length > 0) this.write(combine(parts) as unknown as E);
    }
  }
}

/** The parts of one reload as one event (see the module comment). */
export function combine(parts: readonly ReloadEvent[]): ReloadEvent {
  // One cause can fail two parts (a bad --users-file fails the --config check too): once.
  const failed = [...new Set(parts.filter((part) => !part.ok).map((part) => part.detail))];
  const applied = parts
    .filter((part) => part.ok && part.detail !== NOTHING)
    .map((part) => part.detail);
  if (failed.length === 0) {
    return { type: "reload", ok: true, detail: applied.join("; ") || NOTHING };
  }
  return {
    type: "reload",
    ok: false,
    detail: failed.join("; "),
    ...(applied.length > 0 ? { applied: applied.join("; ") } : {}),
  };
}
