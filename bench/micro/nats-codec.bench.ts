/**
 * The NATS port's hot paths (issue 20): src/protocol/nats-parser.ts reading a publisher's
 * `PUB foo 80\r\n<80 B>\r\n` stream, and src/protocol/nats-encoder.ts writing the
 * `MSG <subject> <sid> <size>\r\n` head each subscriber gets. No sockets. Divide a per-chunk
 * time by the messages per chunk in the group title for a per-message cost.
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import type { NatsClientHandler, NatsPub } from "../../src/protocol/nats-client-ops.ts";
import { msgHeadLength, writeMsgHead } from "../../src/protocol/nats-encoder.ts";
import { NatsParser } from "../../src/protocol/nats-parser.ts";

const PAYLOAD_BYTES = 80;
const ONE_PUB = new TextEncoder().encode(
  `PUB foo ${PAYLOAD_BYTES}\r\n${"x".repeat(PAYLOAD_BYTES)}\r\n`,
);
const PUBS_PER_64K = Math.floor((64 * 1024) / ONE_PUB.length);
const PUBS_64K = new Uint8Array(PUBS_PER_64K * ONE_PUB.length);
for (let i = 0; i < PUBS_PER_64K; i++) PUBS_64K.set(ONE_PUB, i * ONE_PUB.length);
/** The same bytes as 1460-byte reads: control lines and payloads straddle chunks. */
const PUBS_1460: Uint8Array[] = [];
for (let at = 0; at < PUBS_64K.length; at += 1460) PUBS_1460.push(PUBS_64K.slice(at, at + 1460));

/** Counts messages and payload bytes, as a relay's handler would touch them. */
class Counting implements NatsClientHandler {
  messages = 0;
  bytes = 0;
  connect(): void {}
  pub(msg: NatsPub): void {
    this.messages++;
    this.bytes += msg.payload.length + msg.subject.length;
  }
  sub(): void {}
  unsub(): void {}
  ping(): void {}
  pong(): void {}
  error(error: Error): void {
    throw error;
  }
}

group(`NATS parsing: 64 KiB read, ${PUBS_PER_64K} x PUB foo ${PAYLOAD_BYTES}`, () => {
  summary(() => {
    bench("NatsParser.push, one 64 KiB chunk", () => {
      const handler = new Counting();
      new NatsParser(handler).push(PUBS_64K);
      do_not_optimize(handler.messages);
    });
    bench("NatsParser.push, same bytes as 1460 B reads (carry-over)", () => {
      const handler = new Counting();
      const parser = new NatsParser(handler);
      for (const piece of PUBS_1460) parser.push(piece);
      do_not_optimize(handler.messages);
    });
  });
});

const SUBJECT = new TextEncoder().encode("foo");
const SID = new TextEncoder().encode("1");
const REPLY = new TextEncoder().encode("_INBOX.9Ud3bQnaHdkT0ZWX3WkI5K.1");
const out = new Uint8Array(PUBS_PER_64K * msgHeadLength(SUBJECT, SID, REPLY, -1, PAYLOAD_BYTES));

group(`NATS MSG heads: ${PUBS_PER_64K} heads into one buffer`, () => {
  bench("writeMsgHead, MSG foo 1 80", () => {
    let at = 0;
    for (let i = 0; i < PUBS_PER_64K; i++)
      at = writeMsgHead(out, at, SUBJECT, SID, undefined, -1, PAYLOAD_BYTES);
    do_not_optimize(at);
  });
  bench("writeMsgHead, with a 31-byte reply", () => {
    let at = 0;
    for (let i = 0; i < PUBS_PER_64K; i++)
      at = writeMsgHead(out, at, SUBJECT, SID, REPLY, -1, PAYLOAD_BYTES);
    do_not_optimize(at);
  });
});
