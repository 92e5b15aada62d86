/**
 * Routes a message by its subject to the NATS subscriptions that match it (plain ones, and one
 * member of each queue group), the way nats-server's client.go processMsgResults does. The
 * router knows no wire format: it asks the subscription index (subscription-index.ts) who gets
 * the subject, and tells each receiving connection to queue one delivery; each connection
 * writes its own `MSG` head per subscription. Connections that received something are kept in
 * a list and flushed once, at the end of the read that caused it (nats-server's `pcd` and
 * flushClients), so one read costs one write per receiving socket. Messages whose receivers
 * all get the same bytes are encoded once, in shared runs (shared-run.ts).
 */
import { pickMember } from "./queue-pick.ts";
import { SharedRuns } from "./shared-run.ts";
import { type MatchResult, SubscriptionIndex } from "./subscription-index.ts";

const _CR = 13;
const _LF = 10;

/** One message as it is routed: views the receivers copy from before the call returns. */
export interface RoutedMessage {
  subject: string;
  subjectBytes: Uint8Array;
  replyBytes: Uint8Array | undefined;
  /** Bytes of NATS headers at the start of `payload` (HPUB), or -1 for none. */
  headerSize: number;
  /** Headers (if any) then body. */
  readonly payload: Uint8Array;
  /** The same bytes as `source[payloadStart, payloadEnd)`, for copies that make no view. */
  readonly source: Uint8Array;
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

/** What the router needs of a connection that holds subscriptions. */
export interface RouteTarget {
  /**
   * Queues one delivery of `message` to `subscription`. Returns false when it was not taken
   * (the connection is closing), so a queue group tries its next member.
   */
  deliver(subscription: RoutedSubscription, message: RoutedMessage): boolean;
  /**
   * Queues `messages` deliveries the router encoded once for several connections, in
   * `bytes[start, end)` (never written again). False when the connection takes nothing more.
   */
  deliverShared(bytes: Uint8Array, start: number, end: number, messages: number): boolean;
  /** False once it takes nothing more (closing, cut): a shared run does not include it. */
  readonly accepting: boolean;
  /**
   * True when it would drop a message on `subject` (its user's subscribe-deny filter,
   * nats-permissions.ts): `deliver` refuses it, and no shared run includes it.
   */
  filters(subject: string): boolean;
  /** Writes what `deliver` queued since the last flush (one write). */
  flushOutbound(): void;
  /** Set by the router while the target waits in its flush list. */
  flushPending: boolean;
  /** The CONNECT option `echo`: false keeps its own messages from its subscriptions. */
  readonly echo: boolean;
}

/**
 * The other nodes of a cluster (src/cluster/subject-link.ts): what the router asks so that a
 * message published here reaches their subscriptions too.
 */
export interface RemoteRoutes {
  /** True when some other node has a subscription matching `subject`. */
  hasInterest(subject: string): boolean;
  /**
   * Hands `message` to every other node with a matching plain subscription, and to one node
   * for each queue group that has no member here (`local`: this node's match; nats-server
   * prefers a local member the same way). Returns the number of nodes it went to.
   */
  forward(message: RoutedMessage, local: MatchResult<RoutedSubscription>): number;
}

/** Told when the first or the last subscription of a (subject, queue) pair comes or goes. */
export type InterestListener = (subject: string, queue: string | undefined, added: boolean) => void;

/** A subscription in the index. */
export interface RoutedSubscription {
  readonly target: RouteTarget;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  readonly sidBytes: Uint8Array;
  /** UNSUB max (0: none); a subscription with one is never part of a shared run. */
  readonly max: number;
  /** Messages delivered to it (a shared run adds its count when it ends). */
  delivered: number;
}

/** A read that leaves at most this many receivers to write is flushed at once (flushRead). */
const FLUSH_AT_ONCE_TARGETS = 16;

export class SubjectRouter<S extends RoutedSubscription = RoutedSubscription> {
  readonly index = new SubscriptionIndex<S>();
  /**
   * Round-robin position per queue group, keyed by the group's member list as the index
   * returns it: one name used on several subjects (a service's `q` everywhere) is one group
   * per subject, each with its own turn. A changed group is a new list: it starts at a random
   * member (queue-pick.ts says why).
   */
  private readonly cursors = new WeakMap<readonly S[], number>();
  private pending: RouteTarget[] = [];
  /** Shared runs: messages encoded once for several receivers (shared-run.ts). */
  private readonly runs = new SharedRuns<S>();
  /** Bumped by every change of subscriptions, so a shared run never outlives one. */
  private changes = 0;
  /** With --cluster: the other nodes' subscriptions and the way to them. */
  remote: RemoteRoutes | undefined;
  /** With --cluster: told of every subscription added or removed (interest announcements). */
  interestListener: InterestListener | undefined;

  /**
   * @param nothingRetained asked after each flush: true when no connection keeps any bytes
   * by reference (no backlog anywhere), so the shared buffer may be written again from its
   * start instead of a new one being allocated.
   */
  constructor(private readonly nothingRetained: () => boolean = () => false) {}

  /** Subscriptions of every connection. */
  get subscriptions(): number {
    return this.index.count;
  }

  add(subscription: S): void {
    this.endRun();
    this.changes++;
    this.index.insert(subscription, subscription.subject, subscription.queue);
    this.interestListener?.(subscription.subject, subscription.queue, true);
  }

  remove(subscription: S): void {
    this.endRun();
    this.changes++;
    if (this.index.remove(subscription, subscription.subject, subscription.queue)) {
      this.interestListener?.(subscription.subject, subscription.queue, false);
    }
  }

  /** A subscription's limit (UNSUB max) changed: no shared run may include it from now. */
  changed(): void {
    this.endRun();
    this.changes++;
  }

  /**
   * True when some subscription, here or on another node of the cluster, matches `subject`
   * (cheap once the subject is cached).
   */
  hasInterest(subject: string): boolean {
    return this.index.hasInterest(subject) || (this.remote?.hasInterest(subject) ?? false);
  }

  /**
   * Delivers `message` to every matching plain subscription and one member of each queue
   * group, skipping `origin`'s own subscriptions when it set echo false, and with --cluster
   * hands it to the other nodes that have interest. Returns the number of deliveries plus
   * the nodes it went to (0: nobody anywhere had interest, for no-responders).
   */
  route(message: RoutedMessage, origin: RouteTarget | undefined): number {
    const result = this.index.match(message.subject);
    const remote = this.remote;
    const forwarded = remote === undefined ? 0 : remote.forward(message, result);
    return forwarded + this.deliverLocal(result, message, origin, undefined);
  }

  /**
   * A message another node of the cluster sent here: to every matching plain subscription,
   * and to one member of each queue group in `queues` (the sender chose this node for them).
   * Never forwarded again.
   */
  routeFromNode(message: RoutedMessage, queues: readonly string[]): number {
    return this.deliverLocal(this.index.match(message.subject), message, undefined, queues);
  }

  private deliverLocal(
    result: MatchResult<S>,
    message: RoutedMessage,
    origin: RouteTarget | undefined,
    onlyQueues: readonly string[] | undefined,
  ): number {
    const runs = this.runs;
    const run = runs.current;
    if (run !== undefined) {
      if (
        run.result === result &&
        run.subjectBytes === message.subjectBytes &&
        run.origin === origin &&
        run.changes === this.changes &&
        message.replyBytes === undefined &&
        message.headerSize < 0 &&
        runs.append(run, message)
      ) {
        return result.plain.length;
      }
      this.endRun();
    }
    if (
      (onlyQueues === undefined || onlyQueues.length === 0) &&
      runs.start(result, message, origin, this.changes)
    ) {
      return result.plain.length;
    }
    let deliveries = 0;
    const skip = origin !== undefined && !origin.echo ? origin : undefined;
    for (const subscription of result.plain) {
      if (subscription.target === skip) continue;
      if (this.deliverTo(subscription, message)) deliveries++;
    }
    const queues = result.queues;
    for (let g = 0; g < queues.length; g++) {
      if (onlyQueues !== undefined && !onlyQueues.includes(result.queueNames[g] as string))
        continue;
      const group = queues[g] as readonly S[];
      const first = this.cursors.get(group) ?? Math.floor(Math.random() * group.length);
      this.cursors.set(group, (first + 1) & 0x7fffffff);
      // One member per group: the next in turn that takes it (nats-server moves on too).
      for (let k = 0; k < group.length; k++) {
        const member = pickMember(group, first + k);
        if (member.target === skip) continue;
        if (this.deliverTo(member, message)) {
          deliveries++;
          break;
        }
      }
    }
    return deliveries;
  }

  /**
   * Hands a shared run to its receivers. Called before anything else is queued for a
   * connection (its own replies), so its output keeps the order of the wire.
   */
  endRun(): void {
    if (this.runs.current === undefined) return;
    const run = this.runs.close();
    for (const subscription of run.result.plain) {
      const target = subscription.target;
      if (target.deliverShared(run.buffer, run.start, run.end, run.messages)) {
        subscription.delivered += run.messages;
        this.markPending(target);
      }
    }
  }

  /**
   * The end of one client's read: few receivers are written now (the fan-out case: one write
   * each, as soon as possible); many (a publisher cycling through a thousand subjects, each
   * with its own subscriber) wait for the end of the event-loop turn, so the small outputs of
   * several reads leave in one write per receiver instead of one per read.
   */
  flushRead(): void {
    if (this.pending.length <= FLUSH_AT_ONCE_TARGETS) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
  }

  private flushScheduled = false;
  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Writes every connection that received something since the last flush. */
  flush(): void {
    this.endRun();
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const target of pending) {
      target.flushPending = false;
      target.flushOutbound();
    }
    // Everything written, nothing queued by reference: the shared buffer is free again.
    if (this.runs.used && this.nothingRetained()) this.runs.rewind();
  }

  /** Puts `target` on the flush list (once). */
  markPending(target: RouteTarget): void {
    if (target.flushPending) return;
    target.flushPending = true;
    this.pending.push(target);
  }

  private deliverTo(subscription: S, message: RoutedMessage): boolean {
    const target = subscription.target;
    if (!target.deliver(subscription, message)) return false;
    this.markPending(target);
    return true;
  }
}
