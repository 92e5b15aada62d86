/**
 * The load a soak holds on the relay, on a timeline:
 *
 *   t=0        publishers connect; `subscribers` regular subscribers connect
 *   every 2 ms each publisher sends what its rate says is due (open-loop)
 *   every 1 s  one regular subscriber joins and the oldest one leaves, in turn drained,
 *              at once (FIN) or vanishing (RST)
 *   t=3 s, then every `slowEvery` s: a slow subscriber joins, reads for a second, stops
 *              reading until the relay's backlog for it builds up, stays paused a while
 *              longer (alternately past --write-timeout and not), reads again if the relay
 *              kept it, and leaves drained
 *   t=duration the wind-down: publishers flush and close, every subscriber still connected
 *              reads until it has every message and leaves
 *
 * Everything is bounded: each leave and the publishers' flush have a timeout.
 */
import type { SoakOptions } from "./args.ts";
import { SoakPublisher } from "./publisher.ts";
import { type LeaveStyle, SoakSubscriber } from "./subscriber.ts";

const PUMP_INTERVAL_MS = 2;
const CHURN_INTERVAL_MS = 1000;
const FIRST_SLOW_AT_MS = 3000;
/** A slow subscriber reads normally this long before it stops. */
const SLOW_READS_FIRST_MS = 1000;
/** After it reads again, it stays this long before leaving. */
const SLOW_STAYS_AFTER_MS = 2000;
/** How often a paused slow subscriber looks at the relay's backlog (STATS comes each second). */
const SLOW_WATCH_INTERVAL_MS = 250;
const MAX_SLOW_PAUSE_MS = 60_000;
/** Past this many failed steps the rest are not listed: the first ones say what happened. */
const MAX_PROBLEMS = 20;
const LEAVE_STYLES: readonly LeaveStyle[] = ["drained", "left", "reset"];

export interface SlowOutcome {
  /** Told to stay paused past --write-timeout once the relay's backlog built up. */
  long: boolean;
  /** How long it did not read (until it read again, was cut, or the run ended). */
  pausedSec: number;
  /** The relay's backlog reached half --max-pending while it was paused. */
  backlogSeen: boolean;
  /** The relay closed it before the backlog showed in a STATS line. */
  cutWhilePaused: boolean;
}

export interface ScenarioProgress {
  elapsedSec: number;
  connected: number;
  sessions: number;
  published: number;
}

export class Scenario {
  readonly publishers: SoakPublisher[] = [];
  /** Every subscriber connection of the run, in order of joining. */
  readonly subscribers: SoakSubscriber[] = [];
  /** Steps of the load that failed, e.g. a subscriber that could not connect. */
  readonly problems: string[] = [];
  /** One per slow subscriber started. */
  readonly slowOutcomes: SlowOutcome[] = [];
  private readonly regulars: SoakSubscriber[] = [];
  private readonly leaving: Promise<void>[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly peerCounts = new Map<string, number>();
  private nextSubscriberId = 1;
  private leaves = 0;
  private startedAt = 0;
  private running = false;

  constructor(
    private readonly options: SoakOptions,
    private readonly ports: { pub: number; sub: number },
    /** The relay's backlog for all subscribers, from its latest STATS line. */
    private readonly relayPendingBytes: () => number,
  ) {}

  /** A leave waits for a drain at most this long: past it, the missing messages are reported. */
  get leaveTimeoutMs(): number {
    return (this.options.writeTimeout + 5) * 1000;
  }

  /** The last seq each publisher has sent. */
  readonly sentNow = (): Map<number, number> =>
    new Map(this.publishers.map((p) => [p.id, p.lastSent]));

  progress(): ScenarioProgress {
    return {
      elapsedSec: (performance.now() - this.startedAt) / 1000,
      connected: this.subscribers.filter((s) => s.isOpen).length,
      sessions: this.subscribers.length,
      published: this.publishers.reduce((sum, p) => sum + p.lastSent, 0),
    };
  }

  /**
   * Runs the load for `options.duration` seconds, calls `onLoadEnded`, then winds down.
   * The wind-down is not load: RSS samples taken during it would pull a fitted trend down.
   */
  async run(onLoadEnded: () => void = () => {}): Promise<void> {
    const { options } = this;
    for (let id = 1; id <= options.publishers; id++) {
      this.publishers.push(
        await SoakPublisher.connect(this.ports.pub, id, options.msgSize, options.rate),
      );
    }
    for (let i = 0; i < options.subscribers; i++) {
      this.regulars.push(await this.join(false));
    }
    this.startedAt = performance.now();
    this.running = true;
    const pump = setInterval(() => {
      for (const publisher of this.publishers) publisher.pump();
    }, PUMP_INTERVAL_MS);
    const churn = setInterval(() => this.guard("churn", this.churn()), CHURN_INTERVAL_MS);
    if (options.slowEvery > 0) {
      this.every(FIRST_SLOW_AT_MS, options.slowEvery * 1000, () =>
        this.guard("slow subscriber", this.slowOne()),
      );
    }

    await Bun.sleep(options.duration * 1000);
    this.running = false;
    clearInterval(churn);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    onLoadEnded();
    await this.windDown(pump);
  }

  private async windDown(pump: ReturnType<typeof setInterval>): Promise<void> {
    clearInterval(pump);
    // Publishers first: their FIN makes the relay deliver everything they sent.
    await Promise.all(this.publishers.map((p) => p.finish(this.leaveTimeoutMs)));
    await Promise.all(this.leaving);
    await Promise.all(
      this.subscribers.filter((s) => s.isOpen).map((s) => s.leave("drained", this.leaveTimeoutMs)),
    );
  }

  private async join(slow: boolean): Promise<SoakSubscriber> {
    const subscriber = await SoakSubscriber.connect(
      this.ports.sub,
      this.nextSubscriberId++,
      slow,
      this.sentNow,
    );
    const seen = this.peerCounts.get(subscriber.peer) ?? 0;
    subscriber.peerOccurrence = seen;
    this.peerCounts.set(subscriber.peer, seen + 1);
    this.subscribers.push(subscriber);
    return subscriber;
  }

  /** One joins, the oldest leaves: the population stays at `options.subscribers`. */
  private async churn(): Promise<void> {
    const joined = await this.join(false);
    if (!this.running) {
      this.leaving.push(joined.leave("drained", this.leaveTimeoutMs));
      return;
    }
    this.regulars.push(joined);
    // A regular the relay cut (the soak fell behind) has already gone: drop it from the list.
    for (let i = this.regulars.length - 1; i >= 0; i--) {
      if (!(this.regulars[i] as SoakSubscriber).isOpen) this.regulars.splice(i, 1);
    }
    while (this.regulars.length > this.options.subscribers) {
      const oldest = this.regulars.shift() as SoakSubscriber;
      const style = LEAVE_STYLES[this.leaves++ % LEAVE_STYLES.length] as LeaveStyle;
      this.leaving.push(oldest.leave(style, this.leaveTimeoutMs));
    }
  }

  /**
   * A subscriber that stops reading until the relay has to act. How long that takes depends
   * on the kernel: loopback socket buffers autotune to megabytes, which fill at the load's
   * byte rate before the relay's own backlog starts. So the pause is not a fixed time: it
   * lasts until the relay's STATS line shows a backlog of half --max-pending (or the relay
   * cuts it), then, alternately:
   * - long: WRITE_TIMEOUT + 2 s more, so the relay must cut it (slow_consumer, or
   *   write_timeout when the policy keeps the backlog at the bound);
   * - short: 1 s more, then it reads again (policy drop: a drop episode it survives; block:
   *   publishers held a moment; disconnect: usually cut already).
   * A pause that gets no reaction in MAX_SLOW_PAUSE_MS ends anyway and is reported.
   */
  private async slowOne(): Promise<void> {
    const long = this.slowOutcomes.length % 2 === 0;
    const outcome: SlowOutcome = { long, pausedSec: 0, backlogSeen: false, cutWhilePaused: false };
    this.slowOutcomes.push(outcome);
    const slow = await this.join(true);
    this.after(SLOW_READS_FIRST_MS, () => {
      slow.pause();
      const pausedAt = performance.now();
      const watch = () => {
        outcome.pausedSec = (performance.now() - pausedAt) / 1000;
        if (!slow.isOpen) {
          outcome.cutWhilePaused = true;
          return;
        }
        const reacting = this.relayPendingBytes() >= this.options.maxPending / 2;
        if (!reacting && outcome.pausedSec * 1000 < MAX_SLOW_PAUSE_MS) {
          this.after(SLOW_WATCH_INTERVAL_MS, watch);
          return;
        }
        outcome.backlogSeen = reacting;
        const more = long ? (this.options.writeTimeout + 2) * 1000 : 1000;
        this.after(more, () => {
          outcome.pausedSec = (performance.now() - pausedAt) / 1000;
          slow.resume();
          this.after(SLOW_STAYS_AFTER_MS, () => {
            this.leaving.push(slow.leave("drained", this.leaveTimeoutMs));
          });
        });
      };
      this.after(SLOW_WATCH_INTERVAL_MS, watch);
    });
  }

  /** A step that fails (the relay refused a connection, or is gone) is a finding, not a crash. */
  private guard(what: string, step: Promise<void>): void {
    step.catch((error: unknown) => {
      if (this.problems.length < MAX_PROBLEMS) {
        this.problems.push(`${what}: ${(error as Error).message ?? String(error)}`);
      }
    });
  }

  private after(delayMs: number, action: () => void): void {
    if (!this.running) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.running) action();
    }, delayMs);
    this.timers.add(timer);
  }

  private every(firstMs: number, intervalMs: number, action: () => void): void {
    this.after(firstMs, () => {
      action();
      this.every(intervalMs, intervalMs, action);
    });
  }
}
