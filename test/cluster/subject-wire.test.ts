/**
 * The subject channel's encoding (src/cluster/subject-wire.ts): exact bytes of the examples in
 * docs/cluster.md, round trips, and every truncation of a valid message refused as malformed
 * (a NATS message arrives whole, so a cut is damage, never a split to wait on).
 */
import { describe, expect, test } from "bun:test";
import {
  decodeInterest,
  decodeMessages,
  encodeInterest,
  InterestKind,
  MESSAGES_HEADER_BYTES,
  messageEntryBytes,
  writeMessageEntry,
  writeMessagesHeader,
} from "../../src/cluster/subject-wire.ts";
import { parseNodeId } from "../../src/cluster/wire.ts";

const node = parseNodeId("0123456789abcdef");
const text = (s: string) => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes).toString("hex").replace(/(..)/g, "$1 ").trim();

/** A batch of `entries` as the sender builds it. */
function batch(
  before: number,
  entries: {
    subject: string;
    reply?: string;
    queues?: string[];
    headerSize?: number;
    payload: string;
  }[],
): Uint8Array {
  const parts = entries.map((e) => ({
    subject: text(e.subject),
    reply: e.reply === undefined ? undefined : text(e.reply),
    queues: (e.queues ?? []).map(text),
    headerSize: e.headerSize ?? -1,
    payload: text(e.payload),
  }));
  let size = MESSAGES_HEADER_BYTES;
  for (const p of parts) size += messageEntryBytes(p.subject, p.reply, p.queues, p.payload.length);
  const out = new Uint8Array(size);
  let at = MESSAGES_HEADER_BYTES;
  for (const p of parts) {
    at = writeMessageEntry(
      out,
      at,
      p.subject,
      p.reply,
      p.queues,
      p.headerSize,
      p.payload,
      0,
      p.payload.length,
    );
  }
  writeMessagesHeader(out, node, before, parts.length);
  return out;
}

describe("interest messages", () => {
  test("the documented example, byte for byte, and back", () => {
    const bytes = encodeInterest(InterestKind.changes, node, 7, [
      { add: true, subject: "orders.*", queue: undefined },
      { add: false, subject: "jobs", queue: "w" },
    ]);
    expect(hex(bytes)).toBe(
      "01 02 01 23 45 67 89 ab cd ef 00 00 00 07 00 00 00 02 " +
        "01 00 08 00 00 6f 72 64 65 72 73 2e 2a " +
        "00 00 04 00 01 6a 6f 62 73 77",
    );
    expect(decodeInterest(bytes)).toEqual({
      kind: InterestKind.changes,
      source: "0123456789abcdef",
      seq: 7,
      entries: [
        { add: true, subject: "orders.*", queue: undefined },
        { add: false, subject: "jobs", queue: "w" },
      ],
    });
  });

  test("every truncation and a trailing byte are malformed, never a throw", () => {
    const bytes = encodeInterest(InterestKind.hello, node, 0, [
      { add: true, subject: "a.>", queue: "q" },
    ]);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(typeof decodeInterest(bytes.subarray(0, cut))).toBe("string");
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(decodeInterest(longer)).toBe("entry_count");
    const badVersion = bytes.slice();
    badVersion[0] = 2;
    expect(decodeInterest(badVersion)).toBe("version");
    const badKind = bytes.slice();
    badKind[1] = 9;
    expect(decodeInterest(badKind)).toBe("kind");
  });
});

describe("message batches", () => {
  test("the documented example, byte for byte", () => {
    const bytes = batch(5, [{ subject: "a.b", reply: "r", queues: ["q"], payload: "hi" }]);
    expect(hex(bytes)).toBe(
      "01 00 01 23 45 67 89 ab cd ef 00 00 00 00 00 00 00 05 00 00 00 01 " +
        "00 03 00 01 01 ff ff ff ff 00 00 00 02 61 2e 62 72 00 01 71 68 69",
    );
  });

  test("round trip: subjects, replies, headers, queue names, payloads", () => {
    const bytes = batch(2 ** 40 + 3, [
      { subject: "a.b", payload: "x" },
      { subject: "svc", reply: "_INBOX.1", headerSize: 12, payload: "NATS/1.0\r\n\r\nbody" },
      { subject: "jobs", queues: ["w1", "w2"], payload: "" },
    ]);
    const decoded = decodeMessages(bytes);
    if (typeof decoded === "string") throw new Error(decoded);
    expect(decoded.source).toBe("0123456789abcdef");
    expect(decoded.before).toBe(2 ** 40 + 3);
    const shown = decoded.entries.map((e) => ({
      subject: e.subject,
      reply: e.replyBytes === undefined ? undefined : Buffer.from(e.replyBytes).toString(),
      queues: e.queues,
      headerSize: e.headerSize,
      payload: Buffer.from(bytes.subarray(e.payloadStart, e.payloadEnd)).toString(),
    }));
    expect(shown).toEqual([
      { subject: "a.b", reply: undefined, queues: [], headerSize: -1, payload: "x" },
      {
        subject: "svc",
        reply: "_INBOX.1",
        queues: [],
        headerSize: 12,
        payload: "NATS/1.0\r\n\r\nbody",
      },
      { subject: "jobs", reply: undefined, queues: ["w1", "w2"], headerSize: -1, payload: "" },
    ]);
  });

  test("every truncation, a trailing byte, a bad header are malformed, never a throw", () => {
    const bytes = batch(0, [
      { subject: "a", reply: "b", queues: ["q"], payload: "xyz" },
      { subject: "c", payload: "w" },
    ]);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(typeof decodeMessages(bytes.subarray(0, cut))).toBe("string");
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(decodeMessages(longer)).toBe("entry_count");
    const flags = bytes.slice();
    flags[1] = 1;
    expect(decodeMessages(flags)).toBe("flags");
    const empty = bytes.slice(0, MESSAGES_HEADER_BYTES);
    empty[21] = 0;
    expect(decodeMessages(empty)).toBe("empty");
  });
});
