/**
 * NATS subjects across the cluster (issue 21): the backplane's second channel, beside the
 * line/frame stream (outbound.ts, inbound.ts). It does for the NATS port what nats-server's
 * routes do (server/route.go), over the backplane's own NATS connection:
 *
 * - Interest. Each node announces the (subject, queue) pairs its NATS clients subscribe to,
 *   once per pair (the first subscription adds it, the last one's leaving removes it), on
 *   `CS.interest` (CS: --cluster-subject). On every (re)connect it sends a hello: its whole
 *   interest, asking every other node for theirs. A receiver that sees a jump in a node's
 *   interest count asks again. Nodes that leave say bye; a node not heard from for
 *   NODE_EXPIRY_MS (it announces itself every HEARTBEAT_MS) is forgotten.
 * - Messages. A message published here (by a NATS client, or a line/frame publisher through
 *   the stream bridge) goes, besides local delivery, to every other node with a matching
 *   plain subscription, and to one node for each queue group that has no member here, the
 *   group's name attached (route.go's RMSG `| queue`): so each group gets it exactly once
 *   cluster-wide, a local member first. Each node's messages are batched per destination and
 *   published on `CS.msgs.NODEID` once per read (microtask) or at 64 KiB.
 * - A node delivers what it receives to its own NATS subscriptions only (the stream channel
 *   carries what line and frame subscribers get), never sending it on.
 *
 * Loss is counted as on the stream channel (events.ts LostCause): `not_connected` by the
 * sender (its count not advanced), `gap` by the receiver (per sender, from `before`), and
 * `no_member` when a queue group this node was chosen for has no member here any more.
 * Because interest travels on the same connection, and NATS keeps one connection's order,
 * a node always learns of a subscription before any reply that subscription's owner
 * publishes afterwards: request/reply works across nodes, and no-responders is answered only
 * when no node has interest.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type {
  RemoteRoutes,
  RoutedMessage,
  RoutedSubscription,
  SubjectRouter,
} from "../relay/subject-router.ts";
import type { MatchResult } from "../relay/subscription-index.ts";
import type { ClusterCounters, ClusterEvent } from "./events.ts";
import type { DropCause, OutboundLink } from "./outbound.ts";
import { LocalInterest, RemoteInterestTable, type RemoteNode } from "./remote-interest.ts";
import {
  decodeInterest,
  decodeMessages,
  encodeInterest,
  INTEREST_HEADER_BYTES,
  type InterestEntry,
  InterestKind,
  MAX_NAME_BYTES,
  MESSAGES_HEADER_BYTES,
  messageEntryBytes,
  writeMessageEntry,
  writeMessagesHeader,
} from "./subject-wire.ts";

/** A node announces itself this often (an empty changes message when nothing changed). */
export const HEARTBEAT_MS = 2000;
/** A node not heard from for this long is forgotten, with all its interest. */
export const NODE_EXPIRY_MS = 3 * HEARTBEAT_MS + 500;
/** How often silent nodes are looked for: one is forgotten at most this late. */
const EXPIRY_SWEEP_MS = 250;
/** Interest messages are cut at this many bytes (well below any NATS max_payload). */
const INTEREST_CHUNK_BYTES = 64 * 1024;
/** A destination's batch is published at once past this many bytes. */
const FLUSH_AT_BYTES = 64 * 1024;

const encoder = new TextEncoder();
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One destination's batch being built, and its count for `before`. */
interface Outgoing {
  readonly node: RemoteNode;
  readonly subject: string;
  buffer: Uint8Array;
  at: number;
  count: number;
  /** Messages sent to this node so far (`before` of the next batch). */
  sent: number;
  /** The queue groups chosen for this node, for the message being forwarded. */
  queues: Uint8Array[];
  /** Set to the router's message stamp when this node is a target of the current message. */
  stamp: number;
}

/** The flow control this channel shares with the stream channel (outbound.ts). */
export interface SharedFlow {
  /** NATS is too far behind and the policy lets nobody wait: batches are dropped. */
  readonly dropping: boolean;
  /** `bytes` were handed to the NATS client. */
  countPublished(bytes: number): void;
  /** Counts (and reports, per episode) messages this node drops itself. */
  drop(cause: DropCause, messages: number, batches: number): void;
  /** Reports the episode of `cause` now (a `cluster_dropped` event), if any. */
  endEpisode(cause: DropCause): void;
}

export interface SubjectLinkOptions {
  /** --cluster-subject: the channel's subjects are `CS.interest` and `CS.msgs.NODEID`. */
  subject: string;
  nodeId: string;
  nodeIdBytes: Uint8Array;
}

/** The subject channel of one node; see the module comment. */
export class SubjectLink implements RemoteRoutes {
  readonly table = new RemoteInterestTable();
  private readonly local = new LocalInterest();
  private readonly interestSubject: string;
  private readonly outgoing = new Map<RemoteNode, Outgoing>();
  private readonly received = new Map<string, number>();
  private changes: InterestEntry[] = [];
  private interestSeq = 0;
  private flushQueued = false;
  private stamp = 0;
  private targets: Outgoing[] = [];
  private readonly cursors = new WeakMap<object, number>();
  private readonly queueNames = new Map<string, Uint8Array>();
  private subscriptions: Subscription[] = [];
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private expirySweep: ReturnType<typeof setInterval> | undefined;
  /** False while the backplane does not read from NATS: silence then proves nothing. */
  private reading = true;
  private readonly message: Mutable<RoutedMessage>;

  constructor(
    private readonly router: SubjectRouter,
    private readonly link: OutboundLink,
    private readonly counters: ClusterCounters,
    private readonly flow: SharedFlow,
    private readonly options: SubjectLinkOptions,
    private readonly emit: (event: ClusterEvent) => void,
  ) {
    this.interestSubject = `${options.subject}.interest`;
    const empty = new Uint8Array(0);
    this.message = {
      subject: "",
      subjectBytes: empty,
      replyBytes: undefined,
      headerSize: -1,
      payload: empty,
      source: empty,
      payloadStart: 0,
      payloadEnd: 0,
    };
    for (const subscription of router.index.match(">").plain) {
      this.local.added(subscription.subject, subscription.queue);
    }
    router.remote = this;
    router.interestListener = (subject, queue, added) => this.localChanged(subject, queue, added);
  }

  /** The first connection: subscribes to the channel (`connected` announces this node). */
  start(nc: NatsConnection): void {
    this.subscriptions = [
      nc.subscribe(this.interestSubject, {
        callback: (_e, m) => this.guard(() => this.onInterest(m.data)),
      }),
      nc.subscribe(`${this.options.subject}.msgs.${this.options.nodeId}`, {
        callback: (_e, m) => this.guard(() => this.onMessages(m.data)),
      }),
    ];
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.expirySweep = setInterval(() => this.forgetSilentNodes(), EXPIRY_SWEEP_MS);
  }

  /** Every (re)connect: whatever was missed meanwhile, everyone tells everyone again. */
  connected(): void {
    this.hearAllNow();
    this.sendInterest(InterestKind.hello, this.local.snapshot());
  }

  /**
   * The backplane stops (true) or resumes (false) reading from NATS (Backplane.holdInput).
   * Other nodes' announcements then wait in NATS: nobody is forgotten meanwhile, and each gets
   * a full NODE_EXPIRY_MS again when reading resumes.
   */
  inputHeld(held: boolean): void {
    this.reading = !held;
    if (!held) this.hearAllNow();
  }

  private hearAllNow(): void {
    const now = performance.now();
    for (const node of this.table.nodes.values()) node.heardAt = now;
  }

  /** Shutdown: says bye, stops announcing, no longer routes to other nodes. */
  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.expirySweep);
    this.flushOutgoing();
    this.sendInterest(InterestKind.bye, []);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.router.remote = undefined;
    this.router.interestListener = undefined;
  }

  /** Other nodes heard from, and the (subject, queue) pairs they hold. */
  get remoteNodes(): number {
    return this.table.nodes.size;
  }

  // ---- RemoteRoutes (asked by the router for each message published here) ----

  hasInterest(subject: string): boolean {
    return this.table.index.hasInterest(subject);
  }

  forward(message: RoutedMessage, local: MatchResult<RoutedSubscription>): number {
    const remote = this.table.index.match(message.subject);
    const plain = remote.plain;
    const groups = remote.queues;
    if (plain.length === 0 && groups.length === 0) return 0;
    const stamp = ++this.stamp;
    const targets = this.targets;
    targets.length = 0;
    for (let i = 0; i < plain.length; i++) {
      this.target((plain[i] as (typeof plain)[number]).node, stamp);
    }
    for (let g = 0; g < groups.length; g++) {
      const name = remote.queueNames[g] as string;
      if (local.queueNames.includes(name)) continue; // a member here takes it
      const group = groups[g] as (typeof groups)[number];
      const turn = this.cursors.get(group) ?? Math.floor(Math.random() * group.length);
      this.cursors.set(group, (turn + 1) & 0x7fffffff);
      const chosen = this.target(
        (group[turn % group.length] as (typeof group)[number]).node,
        stamp,
      );
      chosen.queues.push(this.queueBytes(name));
    }
    for (const out of targets) this.append(out, message);
    return targets.length;
  }

  /** A queue name's bytes, encoded once. */
  private queueBytes(name: string): Uint8Array {
    let bytes = this.queueNames.get(name);
    if (bytes === undefined) {
      if (this.queueNames.size >= 4096) this.queueNames.clear();
      bytes = encoder.encode(name);
      this.queueNames.set(name, bytes);
    }
    return bytes;
  }

  // ---- Interest ----

  private localChanged(subject: string, queue: string | undefined, added: boolean): void {
    const entry = added ? this.local.added(subject, queue) : this.local.removed(subject, queue);
    if (entry === undefined) return;
    if (encoder.encode(subject).length > MAX_NAME_BYTES) return; // cannot be announced
    this.changes.push(entry);
    this.scheduleFlush();
  }

  /**
   * Publishes `entries` as one interest message, or as several of at most INTEREST_CHUNK_BYTES
   * (a snapshot of 100,000 subscriptions is megabytes, past NATS's max_payload): the first
   * carries `kind` (a snapshot or hello replaces the receiver's view), the rest are changes
   * that add to it, in order.
   */
  private sendInterest(kind: InterestKind, entries: readonly InterestEntry[]): void {
    const nc = this.link.nc;
    if (this.link.state !== "connected" || nc === undefined) return;
    let first = 0;
    let chunkKind: InterestKind = kind;
    do {
      let end = first;
      let bytes = INTEREST_HEADER_BYTES;
      while (end < entries.length) {
        const entry = entries[end] as InterestEntry;
        // At most 3 bytes of UTF-8 per UTF-16 unit: never past the bound.
        const size = 5 + 3 * (entry.subject.length + (entry.queue?.length ?? 0));
        if (end > first && bytes + size > INTEREST_CHUNK_BYTES) break;
        bytes += size;
        end++;
      }
      const chunk = first === 0 && end === entries.length ? entries : entries.slice(first, end);
      try {
        nc.publish(
          this.interestSubject,
          encodeInterest(chunkKind, this.options.nodeIdBytes, this.interestSeq, chunk),
        );
        this.interestSeq++;
      } catch (error) {
        this.warn(`interest could not be published: ${(error as Error).message}`);
        return;
      }
      chunkKind = InterestKind.changes;
      first = end;
    } while (first < entries.length);
  }

  private beat(): void {
    this.flushOutgoing();
    this.sendInterest(InterestKind.changes, []);
  }

  /** Forgets the nodes not heard from for NODE_EXPIRY_MS, while this node can hear them. */
  private forgetSilentNodes(): void {
    if (!this.reading || this.link.state !== "connected") return;
    const now = performance.now();
    for (const node of [...this.table.nodes.values()]) {
      if (now - node.heardAt > NODE_EXPIRY_MS) this.forgetNode(node.id, "not heard from");
    }
  }

  private onInterest(data: Uint8Array): void {
    const decoded = decodeInterest(data);
    if (typeof decoded === "string") {
      this.counters.malformed++;
      this.warn(`a malformed interest message was dropped (${decoded})`);
      return;
    }
    if (decoded.source === this.options.nodeId) return;
    if (decoded.kind === InterestKind.bye) {
      this.forgetNode(decoded.source, "left");
      return;
    }
    const known = this.table.nodes.has(decoded.source);
    const node = this.table.node(decoded.source);
    node.heardAt = performance.now();
    const missed = node.lastSeq >= 0 && decoded.seq !== node.lastSeq + 1;
    node.lastSeq = decoded.seq;
    if (decoded.kind === InterestKind.changes) {
      this.table.apply(node, decoded.entries);
      if (missed || !known) {
        // Changes were lost (or we never had its snapshot): ask everyone for their interest.
        this.sendInterest(InterestKind.hello, this.local.snapshot());
      }
    } else {
      this.table.replace(node, decoded.entries);
      if (decoded.kind === InterestKind.hello) {
        this.sendInterest(InterestKind.snapshot, this.local.snapshot());
      }
    }
    if (!known) this.emit({ type: "cluster_node", source: node.id, joined: true, reason: "" });
    this.emit({ type: "cluster_interest", source: node.id, pairs: node.pairs.size });
  }

  private forgetNode(id: string, reason: string): void {
    const node = this.table.nodes.get(id);
    if (node === undefined) return;
    this.outgoing.delete(node);
    this.table.forget(id);
    this.emit({ type: "cluster_node", source: id, joined: false, reason });
    this.emit({ type: "cluster_interest", source: id, pairs: 0 });
  }

  // ---- Messages out ----

  private target(node: RemoteNode, stamp: number): Outgoing {
    let out = this.outgoing.get(node);
    if (out === undefined) {
      out = {
        node,
        subject: `${this.options.subject}.msgs.${node.id}`,
        buffer: new Uint8Array(FLUSH_AT_BYTES),
        at: MESSAGES_HEADER_BYTES,
        count: 0,
        sent: 0,
        queues: [],
        stamp: 0,
      };
      this.outgoing.set(node, out);
    }
    if (out.stamp !== stamp) {
      out.stamp = stamp;
      out.queues.length = 0;
      this.targets.push(out);
    }
    return out;
  }

  private append(out: Outgoing, message: RoutedMessage): void {
    const { subjectBytes, replyBytes, source, payloadStart, payloadEnd } = message;
    const size = messageEntryBytes(subjectBytes, replyBytes, out.queues, payloadEnd - payloadStart);
    if (out.at + size > out.buffer.length) {
      if (out.count > 0) this.publish(out);
      if (MESSAGES_HEADER_BYTES + size > out.buffer.length) {
        out.buffer = new Uint8Array(MESSAGES_HEADER_BYTES + size);
      }
    }
    out.at = writeMessageEntry(
      out.buffer,
      out.at,
      subjectBytes,
      replyBytes,
      out.queues,
      message.headerSize,
      source,
      payloadStart,
      payloadEnd,
    );
    out.count++;
    if (out.at >= FLUSH_AT_BYTES) this.publish(out);
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flushQueuedNow);
  }

  private readonly flushQueuedNow = (): void => {
    this.flushQueued = false;
    this.guard(() => this.flushOutgoing());
  };

  private flushOutgoing(): void {
    if (this.changes.length > 0) {
      const changes = this.changes;
      this.changes = [];
      this.sendInterest(InterestKind.changes, changes);
    }
    for (const out of this.outgoing.values()) if (out.count > 0) this.publish(out);
  }

  /** Publishes `out`'s batch (handing its buffer to the client) or drops it, counted. */
  private publish(out: Outgoing): void {
    const nc = this.link.nc;
    const count = out.count;
    const bytes = out.buffer.subarray(0, out.at);
    out.buffer = new Uint8Array(Math.max(FLUSH_AT_BYTES, out.buffer.length >>> 1));
    out.at = MESSAGES_HEADER_BYTES;
    out.count = 0;
    if (this.link.state !== "connected" || nc === undefined) {
      this.flow.drop("not_connected", count, 1);
      return;
    }
    if (this.flow.dropping) {
      this.flow.drop("slow_nats", count, 1);
      return;
    }
    if (bytes.length > this.link.maxPayload) {
      // One message (a batch past 64 KiB holds one) that NATS would refuse: reported at once.
      this.flow.drop("too_large", count, 1);
      this.flow.endEpisode("too_large");
      return;
    }
    writeMessagesHeader(bytes, this.options.nodeIdBytes, out.sent, count);
    try {
      nc.publish(out.subject, bytes);
    } catch (error) {
      this.flow.drop("not_connected", count, 1);
      this.warn(`publish failed: ${(error as Error).message}`);
      return;
    }
    out.sent += count;
    const c = this.counters;
    c.messagesOut += count;
    c.bytesOut += bytes.length;
    c.batchesOut++;
    this.flow.countPublished(bytes.length);
  }

  // ---- Messages in ----

  private onMessages(data: Uint8Array): void {
    const batch = decodeMessages(data);
    if (typeof batch === "string") {
      this.counters.malformed++;
      this.warn(`a malformed message batch was dropped (${batch})`);
      return;
    }
    const node = this.table.nodes.get(batch.source);
    if (node !== undefined) node.heardAt = performance.now();
    const count = batch.entries.length;
    const expected = this.received.get(batch.source);
    if (expected !== undefined && batch.before > expected) {
      const lost = batch.before - expected;
      this.counters.lost.gap += lost;
      this.emit({ type: "cluster_gap", source: batch.source, messages: lost });
    } else if (expected !== undefined && batch.before < expected) {
      this.emit({ type: "cluster_source", source: batch.source, restarted: true });
    }
    this.received.set(batch.source, batch.before + count);
    const c = this.counters;
    c.messagesIn += count;
    c.bytesIn += data.length;
    c.batchesIn++;
    const message = this.message;
    message.source = data;
    for (const entry of batch.entries) {
      message.subject = entry.subject;
      message.subjectBytes = entry.subjectBytes;
      message.replyBytes = entry.replyBytes;
      message.headerSize = entry.headerSize;
      message.payloadStart = entry.payloadStart;
      message.payloadEnd = entry.payloadEnd;
      message.payload = data.subarray(entry.payloadStart, entry.payloadEnd);
      this.router.routeFromNode(message, entry.queues);
      if (entry.queues.length > 0) this.checkQueues(entry.subject, entry.queues);
    }
    this.router.flushRead();
  }

  /** A queue group this node was chosen for but has no member of now: the message is lost. */
  private checkQueues(subject: string, queues: readonly string[]): void {
    const names = this.router.index.match(subject).queueNames;
    for (const queue of queues) {
      if (names.includes(queue)) continue;
      this.counters.lost.no_member++;
      this.warn(`a message on ${subject} for queue group ${queue} found no member here (it left)`);
    }
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.warn(`subject channel: ${(error as Error).message}`);
    }
  }

  private warn(message: string): void {
    this.emit({ type: "cluster_warning", message });
  }
}
