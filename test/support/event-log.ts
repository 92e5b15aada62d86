/**
 * An event log for tests: keeps every event a mode emits and resolves waiters on the first
 * matching one, past or future, so tests wait on events, never on sleeps. Forward's EventLog
 * and the tunnel's TunnelLog are this for their event types.
 */

type Of<E extends { type: string }, T extends E["type"]> = Extract<E, { type: T }>;

export class TypedEventLog<E extends { type: string }> {
  readonly events: E[] = [];
  private waiters: { test: (event: E) => boolean; resolve: (event: E) => void }[] = [];

  /** @param defaultTimeoutMs how long waitFor waits by default; undefined: no limit. */
  constructor(private readonly defaultTimeoutMs?: number) {}

  /** Give this to the mode as its event listener. */
  readonly listener = (event: E): void => {
    this.events.push(event);
    const pending = this.waiters;
    this.waiters = [];
    for (const waiter of pending) {
      if (waiter.test(event)) waiter.resolve(event);
      else this.waiters.push(waiter);
    }
  };

  /**
   * The first event of `type` matching `test`, past or future. Rejects after `timeoutMs`
   * (when given, or the log's default) naming the type it waited for.
   */
  waitFor<T extends E["type"]>(
    type: T,
    test: (event: Of<E, T>) => boolean = () => true,
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<Of<E, T>> {
    const matches = (event: E) => event.type === type && test(event as Of<E, T>);
    const seen = this.events.find(matches);
    if (seen) return Promise.resolve(seen as Of<E, T>);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => reject(new Error(`timed out waiting for a ${type} event`)), timeoutMs);
      this.waiters.push({
        test: matches,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as Of<E, T>);
        },
      });
    });
  }

  /** Every event of `type` so far, in order. */
  of<T extends E["type"]>(type: T): Of<E, T>[] {
    return this.events.filter((event) => event.type === type) as Of<E, T>[];
  }
}
