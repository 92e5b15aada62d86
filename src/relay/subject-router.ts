/**
 * Routes a message by its subject to the NATS subscriptions that match it (plain ones, and one
 * member of each queue group), the way nats-server's client.go processMsgResults does. The
 * router knows no wire format: it asks the subscription index (subscription-index.ts) who gets
 * the subject, and tells each receiving connection to queue one delivery; each connection
 * writes its own `MSG` head per subscription. Connections that received something are kept in
 * a list and flushed once, at the end of the read that caused it (nats-server's `pcd` and
 * flushClients), so one read costs one write per receiving socket.
 */
import { pickMember, QueueCursors } from "./queue-pick.ts";
import { SubscriptionIndex } from "./subscription-index.ts";

/** One message as it is routed: views the receivers copy from before the call returns. */
export interface RoutedMessage {
  subject: string;
  subjectBytes: Uint8Array;
  replyBytes: Uint8Array | undefined;
  /** Bytes of NATS headers at the start of `payload` (HPUB), or -1 for none. */
  headerSize: number;
  /** Headers (if any) then body. */
  payload: Uint8Array;
}

/** What the router needs of a connection that holds subscriptions. */
export interface RouteTarget {
  /**
   * Queues one delivery of `message` to `subscription`. Returns false when it was not taken
   * (the connection is closing), so a queue group tries its next member.
   */
  deliver(subscription: RoutedSubscription, message: RoutedMessage): boolean;
  /** Writes what `deliver` queued since the last flush (one write). */
  flushOutbound(): void;
  /** Set by the router while the target waits in its flush list. */
  flushPending: boolean;
  /** The CONNECT option `echo`: false keeps its own messages from its subscriptions. */
  readonly echo: boolean;
}

/** A subscription in the index. */
export interface RoutedSubscription {
  readonly target: RouteTarget;
  readonly subject: string;
  readonly queue: string | undefined;
}

export class SubjectRouter<S extends RoutedSubscription = RoutedSubscription> {
  readonly index = new SubscriptionIndex<S>();
  private readonly cursors = new QueueCursors();
  private pending: RouteTarget[] = [];

  /** Subscriptions of every connection. */
  get subscriptions(): number {
    return this.index.count;
  }

  add(subscription: S): void {
    this.index.insert(subscription, subscription.subject, subscription.queue);
  }

  remove(subscription: S): void {
    this.index.remove(subscription, subscription.subject, subscription.queue);
  }

  /** True when some subscription matches `subject` (cheap once the subject is cached). */
  hasInterest(subject: string): boolean {
    return this.index.hasInterest(subject);
  }

  /**
   * Delivers `message` to every matching plain subscription and one member of each queue
   * group, skipping `origin`'s own subscriptions when it set echo false. Returns the number
   * of deliveries (0: nobody had interest, for no-responders).
   */
  route(message: RoutedMessage, origin: RouteTarget | undefined): number {
    const result = this.index.match(message.subject);
    let deliveries = 0;
    const skip = origin !== undefined && !origin.echo ? origin : undefined;
    for (const subscription of result.plain) {
      if (subscription.target === skip) continue;
      if (this.deliverTo(subscription, message)) deliveries++;
    }
    const queues = result.queues;
    for (let g = 0; g < queues.length; g++) {
      const group = queues[g] as readonly S[];
      const name = result.queueNames[g] as string;
      const first = this.cursors.next(name);
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

  /** Writes every connection that received something since the last flush. */
  flush(): void {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const target of pending) {
      target.flushPending = false;
      target.flushOutbound();
    }
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
