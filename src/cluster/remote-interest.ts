/**
 * What the other nodes of the cluster subscribe to: for each node, the (subject, queue) pairs
 * its NATS clients hold, as that node announced them (subject-wire.ts interest messages), in
 * one subscription index so that a published subject finds every interested node at once.
 *
 * nats-server keeps the same per route: the remote subscriptions a route's RS+/RS- built
 * (server/route.go, `processRemoteSub`), in the account's sublist beside the local ones. A
 * node is one entry per pair, however many of its clients share the pair; the node itself
 * picks the subscription (and the queue member) when the message arrives.
 */
import { SubscriptionIndex } from "../relay/subscription-index.ts";
import type { InterestEntry } from "./subject-wire.ts";

/** One pair one node holds: what the index stores. */
export interface RemoteInterest {
  readonly node: RemoteNode;
  readonly subject: string;
  readonly queue: string | undefined;
}

/** One other node as this node knows it. */
export interface RemoteNode {
  /** 16 hex digits. */
  readonly id: string;
  /** Its pairs, keyed `subject queue` (a space cannot appear in either). */
  readonly pairs: Map<string, RemoteInterest>;
  /** The seq of its last interest message (a jump means changes were missed). */
  lastSeq: number;
  /** performance.now() of the last message heard from it (interest or messages). */
  heardAt: number;
}

function pairKey(subject: string, queue: string | undefined): string {
  return queue === undefined ? subject : `${subject} ${queue}`;
}

/** The interest of every other node; see the module comment. */
export class RemoteInterestTable {
  readonly index = new SubscriptionIndex<RemoteInterest>();
  readonly nodes = new Map<string, RemoteNode>();

  /** Pairs held by all nodes together. */
  get pairs(): number {
    return this.index.count;
  }

  /** The node `id`, created when first heard from. */
  node(id: string): RemoteNode {
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = { id, pairs: new Map(), lastSeq: -1, heardAt: performance.now() };
      this.nodes.set(id, node);
    }
    return node;
  }

  /** A snapshot: `node` holds exactly `entries` (every one an add) from now. */
  replace(node: RemoteNode, entries: readonly InterestEntry[]): void {
    const keep = new Set<string>();
    for (const entry of entries) {
      const key = pairKey(entry.subject, entry.queue);
      keep.add(key);
      if (!node.pairs.has(key)) this.add(node, key, entry);
    }
    for (const [key, interest] of node.pairs) {
      if (!keep.has(key)) this.remove(node, key, interest);
    }
  }

  /** Changes: each entry adds or removes one pair of `node`. */
  apply(node: RemoteNode, entries: readonly InterestEntry[]): void {
    for (const entry of entries) {
      const key = pairKey(entry.subject, entry.queue);
      const held = node.pairs.get(key);
      if (entry.add && held === undefined) this.add(node, key, entry);
      else if (!entry.add && held !== undefined) this.remove(node, key, held);
    }
  }

  /** The node left (bye), or was not heard from for too long: all its interest goes. */
  forget(id: string): boolean {
    const node = this.nodes.get(id);
    if (node === undefined) return false;
    for (const [key, interest] of node.pairs) this.remove(node, key, interest);
    this.nodes.delete(id);
    return true;
  }

  private add(node: RemoteNode, key: string, entry: InterestEntry): void {
    const interest: RemoteInterest = { node, subject: entry.subject, queue: entry.queue };
    node.pairs.set(key, interest);
    this.index.insert(interest, entry.subject, entry.queue);
  }

  private remove(node: RemoteNode, key: string, interest: RemoteInterest): void {
    node.pairs.delete(key);
    this.index.remove(interest, interest.subject, interest.queue);
  }
}

/**
 * The local side: how many local subscriptions hold each (subject, queue) pair, so that only
 * the first and the last of a pair are announced (nats-server sends RS+ and RS- the same way:
 * once per subject and queue, not per client).
 */
export class LocalInterest {
  private readonly counts = new Map<string, { entry: InterestEntry; count: number }>();

  /** Pairs held. */
  get size(): number {
    return this.counts.size;
  }

  /** A local subscription arrived; returns the entry to announce, if it is the pair's first. */
  added(subject: string, queue: string | undefined): InterestEntry | undefined {
    const key = pairKey(subject, queue);
    const held = this.counts.get(key);
    if (held !== undefined) {
      held.count++;
      return undefined;
    }
    const entry: InterestEntry = { add: true, subject, queue };
    this.counts.set(key, { entry, count: 1 });
    return entry;
  }

  /** A local subscription left; returns the entry to announce, if it was the pair's last. */
  removed(subject: string, queue: string | undefined): InterestEntry | undefined {
    const key = pairKey(subject, queue);
    const held = this.counts.get(key);
    if (held === undefined) return undefined;
    if (--held.count > 0) return undefined;
    this.counts.delete(key);
    return { add: false, subject, queue };
  }

  /** Every pair held, as adds (a snapshot). */
  snapshot(): InterestEntry[] {
    return [...this.counts.values()].map((held) => held.entry);
  }
}
