/**
 * Loss attribution: for every subscriber connection and every publisher, which numbered
 * messages it should have received, which it did, and why each missing one is missing.
 *
 * What the relay owes a subscriber S, per publisher P (README, "Wire protocol"): every
 * message P published while S was connected, in order, once. The edges of "while S was
 * connected" are fuzzy to a client, so the soak only holds the relay to what it can prove:
 *
 *   seq:  sentAtConnect .. freeThrough | ........ owed ........ | ...... tail ...... sentAtEnd
 *         "joined late": stamped before  stamped after the relay   after the last message
 *         the relay logged OPEN (+slack), logged OPEN, or after     seen: "left" or "cut"
 *         never seen                     the first message seen    (owed too for a drained
 *                                                                  leave: S read until it
 *                                                                  had all sent before it)
 *
 * - Once S has seen one message from P, it was registered: every later message of P up to
 *   the last one S saw is owed, and so is every message stamped after OPEN.
 * - Owed messages that are missing can only be DROP episodes the relay logged for S (policy
 *   drop). Whatever the DROP lines do not cover is unaccounted.
 * - The tail is "left" when S left on its own, "cut" when the relay closed S and logged
 *   reason=slow_consumer or write_timeout. A close S did not ask for without such a line is
 *   unaccounted, and so is its tail.
 * - A message seen twice or out of order, or a line that does not parse, is unaccounted.
 *
 * The owed range starts at a timestamp comparison: our publishers stamp each batch with
 * Date.now() just before writing it, and the relay stamps OPEN with new Date() just before
 * registering the subscriber, in the same synchronous call. A message stamped later than
 * OPEN + JOIN_SLACK_MS was written, so read by the relay, after S was registered.
 */

/** Covers the ms truncation of both stamps and the microseconds between the relay's OPEN log
 * line and its registering the subscriber. */
export const JOIN_SLACK_MS = 2;

/** What one subscriber saw of one publisher's numbered stream. */
export class StreamRecord {
  firstSeen = 0;
  lastSeen = 0;
  received = 0;
  /** Seqs skipped between firstSeen and lastSeen, and in how many runs. */
  gapMessages = 0;
  gaps = 0;
  /** Seqs at or below lastSeen: a duplicate or a reordering. The relay must never do it. */
  disorder = 0;

  observe(seq: number): void {
    this.received++;
    if (this.lastSeen === 0) {
      this.firstSeen = seq;
    } else if (seq <= this.lastSeen) {
      this.disorder++;
      return;
    } else if (seq > this.lastSeen + 1) {
      this.gapMessages += seq - this.lastSeen - 1;
      this.gaps++;
    }
    this.lastSeen = seq;
  }
}

/** How a subscriber connection ended, from the client's side. */
export type SessionEnding =
  /** It asked to leave, read until it had every message sent before that, then closed. */
  | "drained"
  /** It closed at once (FIN) with messages possibly in flight. */
  | "left"
  /** It reset the connection (RST), vanishing with messages possibly queued for it. */
  | "reset"
  /** The relay closed it. */
  | "cut";

/** One subscriber connection as the soak client saw it. */
export interface SubscriberSession {
  id: number;
  slow: boolean;
  /** 127.0.0.1:localPort, as the relay logs it. */
  peer: string;
  /** Which connection from this peer it was, 0-based (ports come back in long runs). */
  peerOccurrence: number;
  ending: SessionEnding;
  /** Per publisher id. */
  streams: ReadonlyMap<number, StreamRecord>;
  /** Per publisher id: the last seq sent when the client connected. */
  sentAtConnect: ReadonlyMap<number, number>;
  /** Per publisher id: the last seq sent when it asked to leave or saw the relay close it. */
  sentAtEnd: ReadonlyMap<number, number>;
  /** Lines that were not `pubId,seq,stamp,...` messages. */
  malformedLines: number;
}

/** A publisher's side: its id and when it stamped each seq. */
export interface PublisherHistory {
  id: number;
  /** The highest seq stamped at or before `ms` (0 if none). */
  lastSeqStampedBy(ms: number): number;
}

/** What the relay logged about the connection, as far as accounting needs it. */
export interface RelayView {
  openMs: number;
  closeReason: string | undefined;
  closeDroppedBytes: number;
  dropMessages: number;
}

export const CUT_REASONS: ReadonlySet<string> = new Set(["slow_consumer", "write_timeout"]);

export interface SessionAccount {
  session: SubscriberSession;
  received: number;
  /** In flight when it connected, before the relay registered it: never owed. */
  joinedLate: number;
  /** After its last message when it left on its own. */
  leftInFlight: number;
  /** After its last message when the relay cut it; `cutReason` says why. */
  cut: number;
  cutReason: string | undefined;
  /** Owed but dropped by the relay in logged DROP episodes. */
  dropped: number;
  unaccounted: number;
  /** The relay's CLOSE line: bytes of its backlog dropped with the connection (information). */
  relayDroppedBytes: number;
  /** One sentence per unaccounted finding. */
  problems: string[];
}

/**
 * Attributes every message of every publisher to one cause for one subscriber connection.
 * `relay` is undefined when the relay never logged an OPEN for it.
 */
export function accountSession(
  session: SubscriberSession,
  publishers: readonly PublisherHistory[],
  relay: RelayView | undefined,
): SessionAccount {
  const account: SessionAccount = {
    session,
    received: 0,
    joinedLate: 0,
    leftInFlight: 0,
    cut: 0,
    cutReason: undefined,
    dropped: 0,
    unaccounted: 0,
    relayDroppedBytes: relay?.closeDroppedBytes ?? 0,
    problems: [],
  };
  const problem = (count: number, text: string) => {
    account.unaccounted += count;
    account.problems.push(text);
  };
  if (relay === undefined) problem(0, `no OPEN line for ${session.peer}`);

  const cutLogged = relay?.closeReason !== undefined && CUT_REASONS.has(relay.closeReason);
  if (session.ending === "cut") {
    if (cutLogged) account.cutReason = relay?.closeReason;
    else problem(0, `closed by the relay with reason=${relay?.closeReason ?? "(no CLOSE line)"}`);
  }

  let owedMissing = 0;
  for (const publisher of publishers) {
    const stream = session.streams.get(publisher.id) ?? new StreamRecord();
    const sentAtConnect = session.sentAtConnect.get(publisher.id) ?? 0;
    const sentAtEnd = session.sentAtEnd.get(publisher.id) ?? 0;
    account.received += stream.received;
    if (stream.disorder > 0) {
      problem(
        stream.disorder,
        `${stream.disorder} duplicate or reordered from publisher ${publisher.id}`,
      );
    }

    const freeThrough = relay
      ? publisher.lastSeqStampedBy(relay.openMs + JOIN_SLACK_MS)
      : Math.max(sentAtConnect, stream.firstSeen - 1);
    const seen = stream.received > 0;
    const drained = session.ending === "drained";
    // The seqs before the first one seen (all of them up to sentAtEnd when none was seen).
    const headEnd = seen ? stream.firstSeen - 1 : sentAtEnd;
    account.joinedLate += Math.max(0, Math.min(freeThrough, headEnd) - sentAtConnect);
    const headAfterJoin = Math.max(0, headEnd - freeThrough);
    let tail = 0;
    if (seen) {
      // Once one message arrived, S was registered: the relay owed it everything P sent
      // after its join, up to its last message (or up to its leave, for a drained leave).
      owedMissing += headAfterJoin + stream.gapMessages;
      const afterLast = Math.max(0, sentAtEnd - stream.lastSeen);
      if (drained) owedMissing += afterLast;
      else tail = afterLast;
    } else if (drained) {
      owedMissing += headAfterJoin;
    } else {
      tail = headAfterJoin;
    }
    if (session.ending === "cut") {
      if (cutLogged) account.cut += tail;
      else if (tail > 0)
        problem(tail, `${tail} from publisher ${publisher.id} after an unlogged cut`);
    } else {
      account.leftInFlight += tail;
    }
  }

  const droppable = relay?.dropMessages ?? 0;
  account.dropped = Math.min(owedMissing, droppable);
  const uncovered = owedMissing - account.dropped;
  if (uncovered > 0) {
    problem(
      uncovered,
      `${uncovered} owed messages missing (DROP lines cover ${droppable}; ending=${session.ending})`,
    );
  }
  if (session.malformedLines > 0) {
    problem(session.malformedLines, `${session.malformedLines} lines that are not soak messages`);
  }
  return account;
}

/** Totals over all connections, by cause. */
export interface LossTotals {
  sessions: number;
  received: number;
  joinedLate: number;
  leftInFlight: number;
  cut: number;
  cutBySlowConsumer: number;
  cutByWriteTimeout: number;
  dropped: number;
  unaccounted: number;
}

export function sumAccounts(accounts: readonly SessionAccount[]): LossTotals {
  const totals: LossTotals = {
    sessions: accounts.length,
    received: 0,
    joinedLate: 0,
    leftInFlight: 0,
    cut: 0,
    cutBySlowConsumer: 0,
    cutByWriteTimeout: 0,
    dropped: 0,
    unaccounted: 0,
  };
  for (const a of accounts) {
    totals.received += a.received;
    totals.joinedLate += a.joinedLate;
    totals.leftInFlight += a.leftInFlight;
    totals.cut += a.cut;
    if (a.cutReason === "slow_consumer") totals.cutBySlowConsumer++;
    if (a.cutReason === "write_timeout") totals.cutByWriteTimeout++;
    totals.dropped += a.dropped;
    totals.unaccounted += a.unaccounted;
  }
  return totals;
}
