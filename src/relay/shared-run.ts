/**
 * Shared runs of the subject router: a run of messages on one subject whose receivers all get
 * the same bytes (plain subscriptions with one sid, no reply, no headers, no queue group, no
 * UNSUB max: a publisher repeating its subject to subscribers that each subscribed first, as
 * sid 1). Each message is encoded once, as `MSG subject sid size`, into a shared buffer; the
 * router hands every receiver the same `[start, end)` of it when the run ends, so a fan-out
 * to N clients costs one encoding, not N.
 *
 * Apart from subject-router.ts because it is an encoder with its own buffer discipline: the
 * buffer is written forward only, a region handed out is never rewritten, and it is reused
 * from its start only when the router says no connection still holds bytes by reference.
 * The router holds one SharedRuns and calls it directly, per message, as it called its own
 * methods before: no closure, no allocation per message.
 */
import { msgHeadLength, writeMsgHead } from "../protocol/nats-encoder.ts";
import { copyRange } from "../util/copy-range.ts";
import type { RoutedMessage, RoutedSubscription, RouteTarget } from "./subject-router.ts";
import type { MatchResult } from "./subscription-index.ts";

const CR = 13;
const LF = 10;

/**
 * Bytes of one shared buffer: room for the runs of two full 512 KiB reads of PUBs. A message
 * that does not fit gets a buffer of its own size.
 */
const SHARED_BUFFER_BYTES = 1024 * 1024;

/** One run: its receivers (`result.plain`), its subject and sid, its region of `buffer`. */
export interface SharedRun<S> {
  readonly result: MatchResult<S>;
  readonly subjectBytes: Uint8Array;
  readonly sidBytes: Uint8Array;
  readonly origin: RouteTarget | undefined;
  /** The router's `changes` when the run began: any SUB, UNSUB or limit change ends it. */
  readonly changes: number;
  readonly buffer: Uint8Array;
  readonly start: number;
  /** Where the run's bytes end in `buffer`; set when it is closed. */
  end: number;
  messages: number;
  /** The last message's payload size and where its head is: the next head, if same size. */
  lastSize: number;
  lastHeadStart: number;
  lastHeadEnd: number;
}

export class SharedRuns<S extends RoutedSubscription> {
  /** The run open now; the router extends it while messages fit it. */
  current: SharedRun<S> | undefined;
  /** Shared runs are encoded here, forward only: a region handed out is never rewritten. */
  private buffer = new Uint8Array(SHARED_BUFFER_BYTES);
  private at = 0;

  /**
   * Begins a run with `message` when its receivers all take the same bytes (and the message
   * has no reply and no headers); false when they do not. `changes`: the router's count of
   * subscription changes now.
   */
  start(
    result: MatchResult<S>,
    message: RoutedMessage,
    origin: RouteTarget | undefined,
    changes: number,
  ): boolean {
    const plain = result.plain;
    if (
      plain.length < 2 ||
      result.queues.length > 0 ||
      message.replyBytes !== undefined ||
      message.headerSize >= 0
    ) {
      return false;
    }
    const first = plain[0] as S;
    const skip = origin !== undefined && !origin.echo ? origin : undefined;
    for (const subscription of plain) {
      const target = subscription.target;
      if (subscription.sid !== first.sid || subscription.max !== 0) return false;
      if (target === skip || !target.accepting || target.filters(message.subject)) return false;
    }
    const run: SharedRun<S> = {
      result,
      subjectBytes: message.subjectBytes,
      sidBytes: first.sidBytes,
      origin,
      changes,
      buffer: this.buffer,
      start: this.at,
      end: this.at,
      messages: 0,
      lastSize: -1,
      lastHeadStart: 0,
      lastHeadEnd: 0,
    };
    if (!this.append(run, message)) {
      // Not enough room left: a fresh buffer (the old one's regions stay with their holders).
      const needed =
        msgHeadLength(message.subjectBytes, first.sidBytes, undefined, -1, message.payload.length) +
        message.payload.length +
        2;
      this.buffer = new Uint8Array(Math.max(SHARED_BUFFER_BYTES, needed));
      this.at = 0;
      return this.start(result, message, origin, changes);
    }
    this.current = run;
    return true;
  }

  /** Encodes `message` as `MSG subject sid size` at the end of the run; false when full. */
  append(run: SharedRun<S>, message: RoutedMessage): boolean {
    const { source, payloadStart, payloadEnd } = message;
    const size = payloadEnd - payloadStart;
    const buffer = run.buffer;
    if (buffer !== this.buffer) return false;
    const at = this.at;
    let i: number;
    if (size === run.lastSize) {
      // The same head as the last message's: copied within the buffer, no encoding.
      const headLength = run.lastHeadEnd - run.lastHeadStart;
      if (at + headLength + size + 2 > buffer.length) return false;
      buffer.copyWithin(at, run.lastHeadStart, run.lastHeadEnd);
      i = at + headLength;
    } else {
      const head = msgHeadLength(run.subjectBytes, run.sidBytes, undefined, -1, size);
      if (at + head + size + 2 > buffer.length) return false;
      i = writeMsgHead(buffer, at, run.subjectBytes, run.sidBytes, undefined, -1, size);
      run.lastSize = size;
    }
    run.lastHeadStart = at;
    run.lastHeadEnd = i;
    // Buffer.prototype.copy takes a range: no view made per message (3x cheaper than set).
    copyRange.call(source, buffer, i, payloadStart, payloadEnd);
    i += size;
    buffer[i] = CR;
    buffer[i + 1] = LF;
    this.at = i + 2;
    run.messages++;
    return true;
  }

  /** Closes the open run (there must be one) and returns it, its `end` set. */
  close(): SharedRun<S> {
    const run = this.current as SharedRun<S>;
    this.current = undefined;
    run.end = this.at;
    return run;
  }

  /** True when some of the buffer was handed out since it was last rewound. */
  get used(): boolean {
    return this.at > 0;
  }

  /** No connection holds any region by reference: the buffer is written from its start again. */
  rewind(): void {
    this.at = 0;
  }
}
