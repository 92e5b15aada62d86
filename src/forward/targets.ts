/**
 * The upstream targets of `forward`: which one a new client goes to (round-robin or
 * least-connections), and which ones are marked down after a refusal or a connect timeout.
 *
 * A target that fails is marked down for a backoff that doubles with each consecutive failure
 * (1 s, 2 s, 4 s … capped at 30 s). Failures that overlap in time count once: a dial that
 * started before the last counted failure was recorded learned nothing newer, so its failure
 * does not count again (the 8 parallel dials of `--pool 8` to a dead target are one failure,
 * 1 s, not eight, 30 s). While another target is up, a down one is skipped until
 * its backoff ends; one success clears the count. Being marked down never refuses a client by
 * itself: when every target left to try is down, the one whose backoff ends first is tried
 * anyway, so a lone target is always tried. An upstream that comes back (it started after the
 * forwarder, or restarted) therefore gets the very next client instead of a refusal for up to
 * 30 s; like nginx, which never marks a group's only server down. Pure bookkeeping: no sockets.
 */
import { ErrorCode, RelayError } from "../errors.ts";
import { hostNameProblem } from "../net/host-name.ts";

export const BALANCE_POLICIES = ["round-robin", "least-conn"] as const;
export type BalancePolicy = (typeof BALANCE_POLICIES)[number];

export const FIRST_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 30_000;

/** One `--to host:port`. */
export class Target {
  /** Pipes currently open to this target (least-conn counts these). */
  active = 0;
  /** Consecutive failures; 0 when the target is up. */
  failures = 0;
  /** performance.now() before which the target is skipped while another target is up. */
  downUntil = 0;
  /** performance.now() when the last counted failure was recorded; -Infinity before any. */
  lastFailureAt = Number.NEGATIVE_INFINITY;
  readonly label: string;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    this.label = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }

  isDown(now: number): boolean {
    return this.downUntil > now;
  }
}

/** Parses `host:port` or `[v6]:port`. Throws a plain Error with the reason. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`'${text}' is not host:port (examples: 10.0.0.5:80, [::1]:8080)`);
  }
  const host = (match[1] ?? match[2]) as string;
  const problem = hostNameProblem(host);
  if (problem !== undefined) throw new Error(`'${text}': the host ${problem}`);
  return { host, port };
}

/** What `TargetSet.markDown` made of one failed dial. */
export interface FailureVerdict {
  /** False when the dial overlapped the last counted failure: nothing changed. */
  counted: boolean;
  /** True when this failure took the target from up to down (the one TARGET_DOWN line). */
  wentDown: boolean;
  /** Milliseconds until the target's backoff ends (0 when it already has). */
  retryInMs: number;
}

export class TargetSet {
  private cursor = 0;

  constructor(
    readonly targets: readonly Target[],
    readonly balance: BalancePolicy,
  ) {
    if (targets.length === 0) {
      throw new RelayError(ErrorCode.NoTarget, "forward needs at least one --to host:port");
    }
  }

  /**
   * The next target for a client, never one it already tried. Targets that are up come first,
   * in balance order. When every target left is marked down, the one whose backoff ends first
   * is returned anyway: a down mark is a guess from past failures, and only a dial tells
   * whether the upstream is back. Undefined once every target was tried: the caller closes
   * the client.
   */
  pick(tried: ReadonlySet<Target>, now: number): Target | undefined {
    const count = this.targets.length;
    let best: Target | undefined;
    let bestIndex = 0;
    let soonest: Target | undefined;
    let soonestIndex = 0;
    for (let step = 0; step < count; step++) {
      const index = (this.cursor + step) % count;
      const target = this.targets[index] as Target;
      if (tried.has(target)) continue;
      if (target.isDown(now)) {
        if (soonest === undefined || target.downUntil < soonest.downUntil) {
          soonest = target;
          soonestIndex = index;
        }
        continue;
      }
      if (this.balance === "round-robin") {
        best = target;
        bestIndex = index;
        break;
      }
      if (best === undefined || target.active < best.active) {
        best = target;
        bestIndex = index;
      }
    }
    if (best === undefined) {
      best = soonest;
      bestIndex = soonestIndex;
    }
    // Start the next search after this one, so ties rotate.
    if (best !== undefined) this.cursor = (bestIndex + 1) % count;
    return best;
  }

  /**
   * Records the failure of a dial that started at `startedAt` and failed at `now` (both
   * performance.now() ms). It counts, doubling the backoff, unless the dial started before the
   * last counted failure was recorded: dials in flight together (a pool's parallel dials,
   * clients arriving together) fail for one cause, and counting each would take the backoff
   * from 1 s to 30 s in a millisecond. The backoff steers pick to other targets and feeds the
   * logs, the metrics and the pool's refill delay; it refuses no client.
   */
  markDown(target: Target, startedAt: number, now: number): FailureVerdict {
    if (startedAt < target.lastFailureAt) {
      return { counted: false, wentDown: false, retryInMs: Math.max(0, target.downUntil - now) };
    }
    target.failures++;
    target.lastFailureAt = now;
    const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (target.failures - 1), MAX_BACKOFF_MS);
    target.downUntil = now + backoff;
    return { counted: true, wentDown: target.failures === 1, retryInMs: backoff };
  }

  /** Records a success. Returns true when the target had been marked down. */
  markUp(target: Target): boolean {
    const wasDown = target.failures > 0;
    target.failures = 0;
    target.downUntil = 0;
    return wasDown;
  }

  /** Targets not marked down right now (the stats line and the targets gauge). */
  upCount(now: number): number {
    return this.targets.filter((target) => !target.isDown(now)).length;
  }
}
