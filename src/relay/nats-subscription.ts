/**
 * A NATS client's subscriptions: one SUB as the subscription index and the router hold it
 * (NatsSubscription), and the set of one connection's, by sid (NatsSubscriptions), with the
 * SUB/UNSUB rules nats-server applies to them (server/client.go processSubEx, processUnsub).
 * Apart from nats-connection.ts because the set's bookkeeping never runs per message: only
 * a subscription reaching its UNSUB max leaves it from the delivery path.
 */
import { NATS_ERR, type NatsErr } from "../protocol/nats-errors.ts";
import type { NatsConnection, NatsHost } from "./nats-connection.ts";
import type { RoutedSubscription } from "./subject-router.ts";
import { hasValidStructure, matches } from "./subjects.ts";

const encoder = new TextEncoder();

/** A SUB of one connection: its sid (and its bytes, for MSG heads), queue and UNSUB max. */
export class NatsSubscription implements RoutedSubscription {
  readonly sidBytes: Uint8Array;
  /** UNSUB max: the subscription ends after this many deliveries; 0: no limit. */
  max = 0;
  delivered = 0;

  constructor(
    readonly target: NatsConnection,
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
  ) {
    this.sidBytes = encoder.encode(sid);
  }
}

/** One connection's subscriptions by sid, kept in step with the host's router. */
export class NatsSubscriptions {
  private readonly bySid = new Map<string, NatsSubscription>();

  constructor(
    private readonly owner: NatsConnection,
    private readonly host: Pick<NatsHost, "router" | "config">,
  ) {}

  get size(): number {
    return this.bySid.size;
  }

  values(): IterableIterator<NatsSubscription> {
    return this.bySid.values();
  }

  /**
   * SUB, once its permissions passed: returns the error to send (an invalid subject or queue,
   * over --max-subscriptions), "added", or "sid_in_use" for a sid already in use (nats-server
   * ignores that SUB, with no +OK).
   */
  add(subject: string, queue: string | undefined, sid: string): NatsErr | "added" | "sid_in_use" {
    if (!hasValidStructure(subject) || (queue !== undefined && !hasValidStructure(queue))) {
      return NATS_ERR.invalidSubject;
    }
    const max = this.host.config.maxSubscriptions;
    if (max > 0 && this.bySid.size >= max) return NATS_ERR.maxSubscriptions;
    if (this.bySid.has(sid)) return "sid_in_use";
    const subscription = new NatsSubscription(this.owner, subject, queue, sid);
    this.bySid.set(sid, subscription);
    this.host.router.add(subscription);
    return "added";
  }

  /**
   * UNSUB: with a `max` above what the subscription already got, it ends after `max`
   * deliveries in all; otherwise now. An unknown sid is no error (nats-server).
   */
  unsub(sid: string, max: number | undefined): void {
    const subscription = this.bySid.get(sid);
    if (subscription === undefined) return;
    if (max !== undefined && max > subscription.delivered) {
      subscription.max = max;
      this.host.router.changed(); // no shared run may include it now
    } else {
      this.remove(subscription);
    }
  }

  /** Ends `subscription` (idempotent: a sid reused since is left alone). */
  remove(subscription: NatsSubscription): void {
    if (this.bySid.get(subscription.sid) !== subscription) return;
    this.bySid.delete(subscription.sid);
    this.host.router.remove(subscription);
  }

  /** Ends every subscription (the connection closed). */
  clear(): void {
    for (const subscription of this.bySid.values()) this.host.router.remove(subscription);
    this.bySid.clear();
  }

  /** The first plain (not queue) subscription matching `reply`: where no-responders goes. */
  forReply(reply: string): NatsSubscription | undefined {
    for (const subscription of this.bySid.values()) {
      if (subscription.queue === undefined && matches(subscription.subject, reply)) {
        return subscription;
      }
    }
    return undefined;
  }
}
