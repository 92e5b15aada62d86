/**
 * The subject channel's way out (subject-link.ts): which other nodes a message published here
 * goes to, and their batches. For each message the router routes (subject-router.ts,
 * `RemoteRoutes.forward`), the nodes with a matching plain subscription each get it, and so
 * does one node per queue group with no member here, chosen in turn among the nodes with
 * members, the group's name attached (nats-server's route.go RMSG `| queue`). Each
 * destination's messages gather in one buffer (subject-wire.ts entries) published as one NATS
 * message on `CS.msgs.NODEID` when the link flushes (a microtask after the read that routed
 * them) or at once past FLUSH_AT_BYTES.
 *
 * Nothing here is per message beyond the entry's bytes: the targets list, the queue names'
 * bytes and each destination's buffer are reused; a publish copies out only the bytes used.
 */
import type { RoutedMessage, RoutedSubscription } from "../relay/subject-router.ts";
import type { MatchResult } from "../relay/subscription-index.ts";
import type { ClusterCounters } from "./events.ts";
import type { DropCause, OutboundLink } from "./outbound.ts";
import type { RemoteInterestTable, RemoteNode } from "./remote-interest.ts";
import {
  MESSAGES_HEADER_BYTES,
  messageEntryBytes,
  writeMessageEntry,
  writeMessagesHeader,
} from "./subject-wire.ts";

/** A destination's batch is published at once past this many bytes. */
const FLUSH_AT_BYTES = 64 * 1024;
/** Queue names whose bytes are kept (a cache; cleared when full). */
const QUEUE_NAMES_KEPT = 4096;

const encoder = new TextEncoder();

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
  readonly queues: Uint8Array[];
  /** The forward() call that last made this node a target (so each is added once). */
  stamp: number;
}

export interface SubjectOutboxOptions {
  /** --cluster-subject: destination `node` is published to `CS.msgs.<node id>`. */
  subject: string;
  nodeIdBytes: Uint8Array;
  /** Asks the link for a flush soon (a microtask): a batch has messages. */
  scheduleFlush(): void;
  warn(message: string): void;
}

/** The batches of one node to the others; see the module comment. */
export class SubjectOutbox {
  private readonly outgoing = new Map<RemoteNode, Outgoing>();
  private readonly targets: Outgoing[] = [];
  private stamp = 0;
  /** Round-robin position per remote queue group (its member list as the index returns it). */
  private readonly cursors = new WeakMap<object, number>();
  private readonly queueNames = new Map<string, Uint8Array>();
  /** The destination of the last target() call. */
  private last: Outgoing | undefined;

  constructor(
    private readonly table: RemoteInterestTable,
    private readonly link: OutboundLink,
    private readonly counters: ClusterCounters,
    private readonly flow: SharedFlow,
    private readonly options: SubjectOutboxOptions,
  ) {}

  /**
   * Adds `message` to the batch of every node that should get it (see the module comment);
   * `local` is this node's own match, whose queue groups need no other node. Returns the
   * number of nodes.
   */
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
      const member = group[turn % group.length] as (typeof group)[number];
      this.target(member.node, stamp).queues.push(this.queueBytes(name));
    }
    for (const out of targets) this.append(out, message);
    return targets.length;
  }

  /** Publishes every batch that has messages. */
  flush(): void {
    for (const out of this.outgoing.values()) if (out.count > 0) this.publish(out);
  }

  /** `node` was forgotten: its batch goes (what it held is not sent). */
  forget(node: RemoteNode): void {
    this.outgoing.delete(node);
    if (this.last?.node === node) this.last = undefined;
  }

  private target(node: RemoteNode, stamp: number): Outgoing {
    // Most messages go to the node the last one went to: no map lookup for them.
    const last = this.last;
    let out = last !== undefined && last.node === node ? last : this.outgoing.get(node);
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
    this.last = out;
    if (out.stamp !== stamp) {
      out.stamp = stamp;
      out.queues.length = 0;
      this.targets.push(out);
    }
    return out;
  }

  /** A queue name's bytes, encoded once. */
  private queueBytes(name: string): Uint8Array {
    let bytes = this.queueNames.get(name);
    if (bytes === undefined) {
      if (this.queueNames.size >= QUEUE_NAMES_KEPT) this.queueNames.clear();
      bytes = encoder.encode(name);
      this.queueNames.set(name, bytes);
    }
    return bytes;
  }

  private append(out: Outgoing, message: RoutedMessage): void {
    const { subjectBytes, replyBytes, source, payloadStart, payloadEnd } = message;
    const size = messageEntryBytes(subjectBytes, replyBytes, out.queues, payloadEnd - payloadStart);
    if (out.at + size > out.buffer.length) {
      if (out.count > 0) this.publish(out);
      // A message larger than the buffer gets one of its own size, for this batch only.
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
    else this.options.scheduleFlush();
  }

  /** Publishes `out`'s batch (a copy of the bytes used) or drops it, counted. */
  private publish(out: Outgoing): void {
    const nc = this.link.nc;
    const count = out.count;
    writeMessagesHeader(out.buffer, this.options.nodeIdBytes, out.sent, count);
    const bytes = out.buffer.slice(0, out.at);
    if (out.buffer.length > FLUSH_AT_BYTES) out.buffer = new Uint8Array(FLUSH_AT_BYTES);
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
    try {
      nc.publish(out.subject, bytes);
    } catch (error) {
      this.flow.drop("not_connected", count, 1);
      this.options.warn(`publish failed: ${(error as Error).message}`);
      return;
    }
    out.sent += count;
    const c = this.counters;
    c.messagesOut += count;
    c.bytesOut += bytes.length;
    c.batchesOut++;
    this.flow.countPublished(bytes.length);
  }
}
