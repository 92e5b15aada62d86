/**
 * Extra subscribers the main thread holds beside the counted ones (never counted in the
 * results), each of one kind:
 *
 * - `idle`: reads and discards (connection-count scenario);
 * - `stalled`: pauses reading at once, so the kernel buffers fill, then the relay's backlog;
 * - `slow-reader`: reads at most a given rate, pausing after each chunk for chunk/rate s;
 * - `pausing`: reads normally but stops reading for 100 ms every second.
 *
 * Each remembers its local port (the relay logs it as the peer's port, so the relay's CLOSE
 * line can be matched to it) and when the connection ended without the bench ending it, when
 * the client can see that (a paused socket may not notice until it reads again).
 */
import { epochMs } from "./clock.ts";
import { NATS_CONNECT, NATS_SUB } from "./nats.ts";

export type ExtraKind = "idle" | "stalled" | "slow-reader" | "pausing";

/** `pausing`: the reading pattern. */
export const PAUSE_EVERY_MS = 1000;
export const PAUSE_FOR_MS = 100;

export interface ExtraSubscriber {
  kind: ExtraKind;
  /** Local port of the connection: the port in the relay's log lines about it. */
  port: number;
  /** Epoch ms at which the connection ended (by the relay or an error); undefined while open. */
  closedAtMs: number | undefined;
  /** Bytes read so far. */
  bytes: number;
  end(): void;
}

/**
 * A reading budget of `bytesPerSec`: after each chunk the reader stays paused until the
 * chunk is paid for. Unused time is not saved up, so the rate is a ceiling, never a burst.
 * Pure (times are passed in) so it is tested without a socket.
 */
export class ReadPacer {
  private busyUntilMs = Number.NEGATIVE_INFINITY;

  constructor(readonly bytesPerSec: number) {
    if (!(bytesPerSec > 0)) throw new RangeError(`rate must be > 0, got ${bytesPerSec}`);
  }

  /** A chunk of `bytes` was read at `nowMs`: how many ms to stay paused from now. */
  take(bytes: number, nowMs: number): number {
    const start = Math.max(nowMs, this.busyUntilMs);
    this.busyUntilMs = start + (bytes / this.bytesPerSec) * 1000;
    return this.busyUntilMs - nowMs;
  }
}

export interface ExtraEndpoint {
  host: string;
  port: number;
  protocol: "line" | "nats";
}

/** Opens one extra subscriber of `kind`; `bytesPerSec` is for `slow-reader`. */
export async function connectExtra(
  endpoint: ExtraEndpoint,
  kind: ExtraKind,
  bytesPerSec = 0,
): Promise<ExtraSubscriber> {
  let ending = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!ending) run();
    }, ms);
    timers.add(timer);
  };
  const pacer = kind === "slow-reader" ? new ReadPacer(bytesPerSec) : undefined;
  const record: ExtraSubscriber = {
    kind,
    port: 0,
    closedAtMs: undefined,
    bytes: 0,
    end() {
      ending = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      socket.end();
    },
  };
  const closed = () => {
    if (!ending) record.closedAtMs ??= epochMs();
  };
  const socket = await Bun.connect({
    hostname: endpoint.host,
    port: endpoint.port,
    socket: {
      open(s) {
        if (endpoint.protocol === "nats") {
          s.write(NATS_CONNECT, 0, NATS_CONNECT.length);
          s.write(NATS_SUB, 0, NATS_SUB.length);
        }
        if (kind === "stalled") s.pause();
      },
      data(s, chunk) {
        record.bytes += chunk.length;
        if (pacer !== undefined) {
          const waitMs = pacer.take(chunk.length, epochMs());
          s.pause();
          later(waitMs, () => s.resume());
        }
      },
      end: closed,
      close: closed,
      error: closed,
    },
  });
  record.port = socket.localPort;
  if (kind === "pausing") {
    const cycle = () => {
      socket.pause();
      later(PAUSE_FOR_MS, () => socket.resume());
      later(PAUSE_EVERY_MS, cycle);
    };
    later(PAUSE_EVERY_MS - PAUSE_FOR_MS, cycle);
  }
  return record;
}

/** Connections to open at once when adding many extra subscribers (the relay's backlog is 512). */
const CONNECT_BATCH = 200;

/** Opens `count` extra subscribers of `kind`, a batch at a time. */
export async function connectExtras(
  endpoint: ExtraEndpoint,
  count: number,
  kind: ExtraKind,
  bytesPerSec = 0,
): Promise<ExtraSubscriber[]> {
  const out: ExtraSubscriber[] = [];
  for (let done = 0; done < count; done += CONNECT_BATCH) {
    const batch = Math.min(CONNECT_BATCH, count - done);
    out.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () => connectExtra(endpoint, kind, bytesPerSec)),
      )),
    );
  }
  return out;
}
