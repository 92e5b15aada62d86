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
 *   published on `CS.msgs.NODEID` once per read (microtask) or at 64 KiB (subject-outbox.ts).
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
import { NatsPub } from "../protocol/nats-client-ops.ts";
import type {
  RemoteRoutes,
  RoutedMessage,
  RoutedSubscription,
  SubjectRouter,
} from "../relay/subject-router.ts";
import type { MatchResult } from "../relay/subscription-index.ts";
import type { ClusterCounters, ClusterEvent } from "./events.ts";
import type { OutboundLink } from "./outbound.ts";
import { LocalInterest, RemoteInterestTable } from "./remote-interest.ts";
import { type SharedFlow, SubjectOutbox } from "./subject-outbox.ts";
import {
  decodeInterest,
  encodeInterest,
  INTEREST_HEADER_BYTES,
  type InterestEntry,
  InterestKind,
  MAX_NAME_BYTES,
  MessagesReader,
} from "./subject-wire.ts";

/** A node announces itself this often (an empty changes message when nothing changed). */
export const HEARTBEAT_MS = 2000;
/** A node not heard from for this long is forgotten, with all its interest. */
export const NODE_EXPIRY_MS = 3 * HEARTBEAT_MS + 500;
/** How often silent nodes are looked for: one is forgotten at most this late. */
const EXPIRY_SWEEP_MS = 250;
/** The same kind of warning is logged at most this often (the stream's malformed rate). */
const WARN_INTERVAL_MS = 10_000;
/** Interest messages are cut at this many bytes (well below any NATS max_payload). */
const INTEREST_CHUNK_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const NO_QUEUES: readonly string[] = [];

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
  private readonly outbox: SubjectOutbox;
  private readonly received = new Map<string, number>();
  private changes: InterestEntry[] = [];
  private interestSeq = 0;
  private flushQueued = false;
  private subscriptions: Subscription[] = [];
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private expirySweep: ReturnType<typeof setInterval> | undefined;
  /** False while the backplane does not read from NATS: silence then proves nothing. */
  private reading = true;
  /** The message being delivered: the parser's own shape, its payload a view on demand. */
  private readonly message = new NatsPub();
  private readonly lastWarnAt = new Map<string, number>();
  private readonly reader = new MessagesReader();

  constructor(
    private readonly router: SubjectRouter,
    private readonly link: OutboundLink,
    private readonly counters: ClusterCounters,
    flow: SharedFlow,
    private readonly options: SubjectLinkOptions,
    private readonly emit: (event: ClusterEvent) => void,
  ) {
    this.interestSubject = `${options.subject}.interest`;
    this.outbox = new SubjectOutbox(this.table, link, counters, flow, {
      subject: options.subject,
      nodeIdBytes: options.nodeIdBytes,
      scheduleFlush: () => this.scheduleFlush(),
      warn: (message) => this.warn(message),
    });
    // Made at start, before any client subscribes: from now on the router reports every one.
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
    return this.outbox.forward(message, local);
  }

  // ---- Interest ----

  private localChanged(subject: string, queue: string | undefined, added: boolean): void {
    const entry = added ? this.local.added(subject, queue) : this.local.removed(subject, queue);
    if (entry === undefined) return;
    // At most 3 bytes of UTF-8 per UTF-16 unit: only a long subject needs encoding to tell.
    if (subject.length * 3 > MAX_NAME_BYTES && encoder.encode(subject).length > MAX_NAME_BYTES) {
      // Only with --max-control-line past 64 KiB: the channel's u16 lengths cannot carry it.
      this.warnEvery(
        "long_subject",
        `a subscription to a subject of more than ${MAX_NAME_BYTES} bytes is not shared with the other nodes: it receives only what is published on this node`,
      );
      return;
    }
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
      this.warnEvery(
        "malformed",
        `a malformed interest message was dropped (${decoded}; ${this.counters.malformed} malformed so far)`,
      );
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
    this.outbox.forget(node);
    this.table.forget(id);
    this.emit({ type: "cluster_node", source: id, joined: false, reason });
    this.emit({ type: "cluster_interest", source: id, pairs: 0 });
  }

  // ---- Flushing ----

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
    this.outbox.flush();
  }

  // ---- Messages in ----

  private onMessages(data: Uint8Array): void {
    const reader = this.reader;
    const problem = reader.open(data);
    if (problem !== undefined) {
      this.counters.malformed++;
      this.warnEvery(
        "malformed",
        `a malformed message batch was dropped (${problem}; ${this.counters.malformed} malformed so far)`,
      );
      return;
    }
    const source = reader.source;
    const node = this.table.nodes.get(source);
    if (node !== undefined) node.heardAt = performance.now();
    const count = reader.count;
    const expected = this.received.get(source);
    if (expected !== undefined && reader.before > expected) {
      const lost = reader.before - expected;
      this.counters.lost.gap += lost;
      this.emit({ type: "cluster_gap", source, messages: lost });
    } else if (expected !== undefined && reader.before < expected) {
      this.emit({ type: "cluster_source", source, restarted: true });
    }
    this.received.set(source, reader.before + count);
    const c = this.counters;
    c.messagesIn += count;
    c.bytesIn += data.length;
    c.batchesIn++;
    const message = this.message;
    while (reader.next()) {
      // The same subject as the last message keeps the same bytes and string: no decoding,
      // and the router's shared run goes on (it compares the subject by identity).
      message.setSubject(data, reader.subjectStart, reader.subjectEnd);
      message.setReply(
        reader.replyEnd === reader.replyStart
          ? undefined
          : data.subarray(reader.replyStart, reader.replyEnd),
      );
      message.headerSize = reader.headerSize;
      message.setPayload(data, reader.payloadStart, reader.payloadEnd);
      if (reader.queueCount === 0) {
        this.router.routeFromNode(message, NO_QUEUES);
      } else {
        const queues = reader.queues();
        this.router.routeFromNode(message, queues);
        this.checkQueues(message.subject, queues);
      }
    }
    this.router.flushRead();
  }

  /** A queue group this node was chosen for but has no member of now: the message is lost. */
  private checkQueues(subject: string, queues: readonly string[]): void {
    const names = this.router.index.match(subject).queueNames;
    for (const queue of queues) {
      if (names.includes(queue)) continue;
      const lost = ++this.counters.lost.no_member;
      this.warnEvery(
        "no_member",
        `a message on ${subject} for queue group ${queue} found no member here (it left; ${lost} such messages so far)`,
      );
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

  /**
   * A warning of `kind` at most every WARN_INTERVAL_MS (the message carries the running
   * count), so that a program publishing garbage, or a burst of queue messages for a group
   * that just left, cannot flood the log; the counters count every one.
   */
  private warnEvery(kind: string, message: string): void {
    const now = performance.now();
    if (now - (this.lastWarnAt.get(kind) ?? Number.NEGATIVE_INFINITY) < WARN_INTERVAL_MS) return;
    this.lastWarnAt.set(kind, now);
    this.warn(message);
  }
}
