/**
 * Which member of a queue group gets a message. The index returns every member of each group
 * (MatchResult.queues); the hub delivers each message to exactly one of them.
 *
 * nats-server picks a random starting member per message (client.go processMsgResults) and,
 * when that member cannot take it (closed, or a permission or loop check fails), tries the
 * next ones in order. We pick round-robin per queue group name instead: as even over time as
 * random, deterministic (a test can assert which member gets which message), and it costs no
 * random number. The counter is per group NAME, not per match result, because a result is
 * rebuilt whenever a subscription changes and a per-result counter would restart at member 0
 * each time (biasing member 0 under churn); and not global, because a global counter shared
 * by many subjects can hit the same member every time (two subjects published alternately
 * would send every message of a two-member group to one member).
 *
 * Hub usage, per message and per group `i` of `result`:
 * ```ts
 * const members = result.queues[i];
 * const first = cursors.next(result.queueNames[i]);
 * for (let k = 0; k < members.length; k++) {
 *   if (deliverTo(pickMember(members, first + k))) break; // skip a member that cannot take it
 * }
 * ```
 */

/**
 * Member `n` of `group`, wrapping around: `group[n % group.length]`. `n` is a non-negative
 * integer (a counter); `group` is not empty (the index never returns an empty group).
 */
export function pickMember<S>(group: readonly S[], n: number): S {
  return group[n % group.length] as S;
}

/** Above this many distinct queue names, QueueCursors forgets them all (see `next`). */
export const QUEUE_CURSORS_MAX = 4096;

/**
 * One round-robin counter per queue group name. Pure state, no timer. Bounded: when more
 * than QUEUE_CURSORS_MAX names have been seen, every counter restarts at 0 (names come from
 * peers, so the map must not grow forever; a restart only shifts whom the next message goes
 * to).
 */
export class QueueCursors {
  private readonly counters = new Map<string, number>();

  /** The counter for `name`, then advances it: 0, 1, 2, ... (wraps at 2^31). */
  next(name: string): number {
    const n = this.counters.get(name);
    if (n === undefined) {
      if (this.counters.size >= QUEUE_CURSORS_MAX) this.counters.clear();
      this.counters.set(name, 1);
      return 0;
    }
    this.counters.set(name, (n + 1) & 0x7fffffff);
    return n;
  }

  /** Names with a counter now (at most QUEUE_CURSORS_MAX). */
  get size(): number {
    return this.counters.size;
  }
}
