/**
 * The encoding of the backplane's subject channel (issue 21), version 1: how nodes tell each
 * other which NATS subjects their clients subscribe to (interest), and how a node hands
 * another node the messages its clients should receive. Pure: bytes in, bytes out, no I/O.
 *
 * It plays the part of nats-server's route protocol (server/route.go: `RS+ account subject
 * [queue]`, `RS- …` and `RMSG account subject [reply] [| queues] size`), carried as NATS
 * messages on subjects under `--cluster-subject` instead of a connection of its own. Every
 * integer is big-endian.
 *
 * Interest (subject `CS.interest`, to every node):
 *
 * ```text
 * offset  size  field
 * 0       1     version u8 = 1
 * 1       1     kind u8: 1 snapshot, 2 changes, 3 hello (a snapshot that asks every other
 *               node for its own snapshot), 4 bye (the node leaves; no entries)
 * 2       8     node id
 * 10      4     seq u32: interest messages this node sent before this one (a receiver that
 *               sees a jump asks for a snapshot: it missed changes)
 * 14      4     count u32: entries
 * 18      n     count entries: op u8 (1 add, 0 remove) | subjectLength u16 | queueLength u16 |
 *               subject | queue (queueLength 0: a plain subscription)
 * ```
 *
 * Messages (subject `CS.msgs.NODEID`, to one node: the one whose id ends the subject):
 *
 * ```text
 * offset  size  field
 * 0       1     version u8 = 1
 * 1       1     flags u8 = 0
 * 2       8     source node id
 * 10      8     before u64: messages the source sent to this node before this batch
 * 18      4     count u32 (at least 1)
 * 22      n     count entries: subjectLength u16 | replyLength u16 | queueCount u8 |
 *               headerSize i32 (-1: no headers) | payloadLength u32 | subject | reply |
 *               queueCount × (length u16 | queue) | payload (headers, then body)
 * ```
 *
 * A message goes to every plain subscription of the receiving node that matches its subject,
 * and to one member of each queue group it names (the sender chose this node for them).
 */
import { readU32, writeU32 } from "../protocol/frame-codec.ts";
import { copyRange } from "../util/copy-range.ts";
import { nodeIdText, readHeader, sourceText, writeHeader } from "./wire.ts";

export const SUBJECT_WIRE_VERSION = 1;
export const INTEREST_HEADER_BYTES = 18;
export const MESSAGES_HEADER_BYTES = 22;
/** Fixed bytes of one message entry before its subject. */
export const MESSAGE_ENTRY_FIXED = 13;
/** The longest subject, reply or queue name the channel carries (u16 lengths). */
export const MAX_NAME_BYTES = 0xffff;

export const InterestKind = { snapshot: 1, changes: 2, hello: 3, bye: 4 } as const;
export type InterestKind = (typeof InterestKind)[keyof typeof InterestKind];

/** One interest entry: a (subject, queue) pair a node gained (add) or lost. */
export interface InterestEntry {
  readonly add: boolean;
  readonly subject: string;
  /** Undefined for a plain subscription. */
  readonly queue: string | undefined;
}

/** A decoded interest message. `source` is the node id as 16 hex digits. */
export interface InterestMessage {
  readonly kind: InterestKind;
  readonly source: string;
  readonly seq: number;
  readonly entries: InterestEntry[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one interest message. @throws RangeError when a subject or queue is too long. */
export function encodeInterest(
  kind: InterestKind,
  nodeId: Uint8Array,
  seq: number,
  entries: readonly InterestEntry[],
): Uint8Array {
  const names: Uint8Array[] = [];
  let size = INTEREST_HEADER_BYTES;
  for (const entry of entries) {
    const subject = encoder.encode(entry.subject);
    const queue = encoder.encode(entry.queue ?? "");
    if (subject.length > MAX_NAME_BYTES || queue.length > MAX_NAME_BYTES) {
      throw new RangeError(`subject or queue longer than ${MAX_NAME_BYTES} bytes`);
    }
    names.push(subject, queue);
    size += 5 + subject.length + queue.length;
  }
  const out = new Uint8Array(size);
  out[0] = SUBJECT_WIRE_VERSION;
  out[1] = kind;
  out.set(nodeId, 2);
  writeU32(out, 10, seq >>> 0);
  writeU32(out, 14, entries.length);
  let at = INTEREST_HEADER_BYTES;
  for (let i = 0; i < entries.length; i++) {
    const subject = names[2 * i] as Uint8Array;
    const queue = names[2 * i + 1] as Uint8Array;
    out[at] = (entries[i] as InterestEntry).add ? 1 : 0;
    writeU16(out, at + 1, subject.length);
    writeU16(out, at + 3, queue.length);
    out.set(subject, at + 5);
    out.set(queue, at + 5 + subject.length);
    at += 5 + subject.length + queue.length;
  }
  return out;
}

/** Decodes an interest message, or says why it is not one (dropped and counted as malformed). */
export function decodeInterest(bytes: Uint8Array): InterestMessage | string {
  if (bytes.length < INTEREST_HEADER_BYTES) return "short";
  if (bytes[0] !== SUBJECT_WIRE_VERSION) return "version";
  const kind = bytes[1] as number;
  if (kind < InterestKind.snapshot || kind > InterestKind.bye) return "kind";
  const count = readU32(bytes, 14);
  const entries: InterestEntry[] = [];
  let at = INTEREST_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 5 > bytes.length) return "entry_length";
    const op = bytes[at] as number;
    if (op > 1) return "entry_op";
    const subjectLength = readU16(bytes, at + 1);
    const queueLength = readU16(bytes, at + 3);
    const end = at + 5 + subjectLength + queueLength;
    if (end > bytes.length || subjectLength === 0) return "entry_length";
    const subject = decoder.decode(bytes.subarray(at + 5, at + 5 + subjectLength));
    const queue =
      queueLength === 0 ? undefined : decoder.decode(bytes.subarray(at + 5 + subjectLength, end));
    entries.push({ add: op === 1, subject, queue });
    at = end;
  }
  if (at !== bytes.length) return "entry_count";
  return {
    kind: kind as InterestKind,
    source: nodeIdText(bytes, 2),
    seq: readU32(bytes, 10),
    entries,
  };
}

/** Bytes one message entry takes. */
export function messageEntryBytes(
  subject: Uint8Array,
  reply: Uint8Array | undefined,
  queues: readonly Uint8Array[],
  payloadLength: number,
): number {
  let size = MESSAGE_ENTRY_FIXED + subject.length + (reply?.length ?? 0) + payloadLength;
  for (const queue of queues) size += 2 + queue.length;
  return size;
}

/**
 * Writes one message entry at `out[at…)` (the caller made room: messageEntryBytes) with the
 * payload copied from `source[payloadStart, payloadEnd)`. Returns the offset after it.
 */
export function writeMessageEntry(
  out: Uint8Array,
  at: number,
  subject: Uint8Array,
  reply: Uint8Array | undefined,
  queues: readonly Uint8Array[],
  headerSize: number,
  source: Uint8Array,
  payloadStart: number,
  payloadEnd: number,
): number {
  const replyLength = reply?.length ?? 0;
  const payloadLength = payloadEnd - payloadStart;
  writeU16(out, at, subject.length);
  writeU16(out, at + 2, replyLength);
  out[at + 4] = queues.length;
  writeU32(out, at + 5, headerSize < 0 ? 0xffffffff : headerSize);
  writeU32(out, at + 9, payloadLength);
  let i = at + MESSAGE_ENTRY_FIXED;
  out.set(subject, i);
  i += subject.length;
  if (reply !== undefined) {
    out.set(reply, i);
    i += replyLength;
  }
  for (const queue of queues) {
    writeU16(out, i, queue.length);
    out.set(queue, i + 2);
    i += 2 + queue.length;
  }
  copyRange.call(source, out, i, payloadStart, payloadEnd);
  return i + payloadLength;
}

/**
 * Writes a messages header at `out[0..22)`: the stream channel's batch header (wire.ts), the
 * same 22 bytes, counting messages sent to one node instead of to all.
 */
export const writeMessagesHeader = writeHeader;

/**
 * Reads a batch of messages without allocating per message: `open` checks the whole batch
 * (nothing of a malformed batch is delivered), then each `next` sets the fields below to the
 * next entry's offsets in `bytes`. One reader is reused for every batch.
 */
export class MessagesReader {
  bytes: Uint8Array = new Uint8Array(0);
  /** The sending node's id (16 hex digits), its count before this batch, and the entries. */
  source = "";
  before = 0;
  count = 0;
  subjectStart = 0;
  subjectEnd = 0;
  replyStart = 0;
  replyEnd = 0;
  queueCount = 0;
  queuesStart = 0;
  /** Bytes of NATS headers at the start of the payload, or -1 for none. */
  headerSize = -1;
  payloadStart = 0;
  payloadEnd = 0;
  private at = 0;

  /** Checks `bytes` whole and rewinds to its first entry; returns why it is malformed, if it is. */
  open(bytes: Uint8Array): string | undefined {
    const header = readHeader(bytes);
    if (typeof header === "string") return header;
    let at = MESSAGES_HEADER_BYTES;
    for (let i = 0; i < header.count; i++) {
      if (at + MESSAGE_ENTRY_FIXED > bytes.length) return "entry_length";
      const subjectLength = readU16(bytes, at);
      const replyLength = readU16(bytes, at + 2);
      const queueCount = bytes[at + 4] as number;
      const rawHeaderSize = readU32(bytes, at + 5);
      const payloadLength = readU32(bytes, at + 9);
      let next = at + MESSAGE_ENTRY_FIXED + subjectLength + replyLength;
      if (subjectLength === 0 || next > bytes.length) return "entry_length";
      for (let q = 0; q < queueCount; q++) {
        if (next + 2 > bytes.length) return "entry_length";
        const length = readU16(bytes, next);
        if (length === 0 || next + 2 + length > bytes.length) return "entry_length";
        next += 2 + length;
      }
      if (rawHeaderSize !== 0xffffffff && rawHeaderSize > payloadLength) return "entry_length";
      if (next + payloadLength > bytes.length) return "entry_length";
      at = next + payloadLength;
    }
    if (at !== bytes.length) return "entry_count";
    this.bytes = bytes;
    this.source = sourceText(header.source);
    this.before = header.before;
    this.count = header.count;
    this.at = MESSAGES_HEADER_BYTES;
    return undefined;
  }

  /** Moves to the next entry of the batch `open` checked; false after the last. */
  next(): boolean {
    const bytes = this.bytes;
    const at = this.at;
    if (at >= bytes.length) return false;
    const rawHeaderSize = readU32(bytes, at + 5);
    this.subjectStart = at + MESSAGE_ENTRY_FIXED;
    this.subjectEnd = this.subjectStart + readU16(bytes, at);
    this.replyStart = this.subjectEnd;
    this.replyEnd = this.replyStart + readU16(bytes, at + 2);
    this.queueCount = bytes[at + 4] as number;
    this.queuesStart = this.replyEnd;
    let i = this.replyEnd;
    for (let q = 0; q < this.queueCount; q++) i += 2 + readU16(bytes, i);
    this.headerSize = rawHeaderSize === 0xffffffff ? -1 : rawHeaderSize;
    this.payloadStart = i;
    this.payloadEnd = i + readU32(bytes, at + 9);
    this.at = this.payloadEnd;
    return true;
  }

  /** The queue groups named by the current entry (decoded: a rare path). */
  queues(): string[] {
    const names: string[] = [];
    let i = this.queuesStart;
    for (let q = 0; q < this.queueCount; q++) {
      const length = readU16(this.bytes, i);
      names.push(decoder.decode(this.bytes.subarray(i + 2, i + 2 + length)));
      i += 2 + length;
    }
    return names;
  }
}

/** One decoded message entry (decodeMessages): views into the batch. */
export interface MessageEntry {
  subject: string;
  subjectBytes: Uint8Array;
  replyBytes: Uint8Array | undefined;
  queues: string[];
  headerSize: number;
  payloadStart: number;
  payloadEnd: number;
}

/** A checked batch of messages: its header and entries. */
export interface MessagesBatch {
  readonly source: string;
  readonly before: number;
  readonly entries: MessageEntry[];
}

/**
 * Decodes a batch whole into objects, or says why it is not one: MessagesReader's result as
 * data, for tests and tools (the relay reads with MessagesReader itself).
 */
export function decodeMessages(bytes: Uint8Array): MessagesBatch | string {
  const reader = new MessagesReader();
  const problem = reader.open(bytes);
  if (problem !== undefined) return problem;
  const entries: MessageEntry[] = [];
  while (reader.next()) {
    const subjectBytes = bytes.subarray(reader.subjectStart, reader.subjectEnd);
    entries.push({
      subject: decoder.decode(subjectBytes),
      subjectBytes,
      replyBytes:
        reader.replyEnd === reader.replyStart
          ? undefined
          : bytes.subarray(reader.replyStart, reader.replyEnd),
      queues: reader.queues(),
      headerSize: reader.headerSize,
      payloadStart: reader.payloadStart,
      payloadEnd: reader.payloadEnd,
    });
  }
  return { source: reader.source, before: reader.before, entries };
}

function writeU16(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 8;
  out[at + 1] = value & 0xff;
}

function readU16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}
