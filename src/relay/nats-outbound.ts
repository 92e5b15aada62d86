/**
 * What one NATS client is sent between two flushes, in order: its deliveries (a `MSG` or
 * `HMSG` head per subscription, the payload, CRLF) and the server's own replies (`PONG`,
 * `+OK`, `-ERR`, `INFO`) in one growing buffer, so a PONG never overtakes an earlier MSG and
 * a read that causes a thousand deliveries costs one write. `take()` hands the bytes over as
 * one Batch for the hub (`offerOwn`), which writes them or copies what the socket did not
 * take into the subscriber's backlog; the buffer is then reused.
 */
import {
  deliveredHeaderSize,
  deliveryPayload,
  msgHeadLength,
  writeMsgHead,
} from "../protocol/nats-encoder.ts";
import type { Batch } from "./batch.ts";

const CR = 13;
const LF = 10;
/** The first buffer; it doubles when a flush needs more and stays that size. */
const INITIAL_BYTES = 16 * 1024;

export class NatsOutbound {
  private out = new Uint8Array(INITIAL_BYTES);
  private length = 0;
  /** Deliveries in the buffer (replies are not messages). */
  private deliveries = 0;
  private readonly batch: Batch = {
    bytes: this.out,
    start: 0,
    length: 0,
    retainable: false,
    tail: new Uint8Array(0),
    tailStart: 0,
    tailLength: 0,
  };

  /** True when something waits for the next flush. */
  get pending(): boolean {
    return this.length > 0;
  }

  /** Deliveries in what `take()` hands over. */
  get messages(): number {
    return this.deliveries;
  }

  /** Appends protocol bytes of the server's own (`PONG`, `+OK`, `-ERR`, `INFO`). */
  append(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.out.set(bytes, at);
    this.length = at + bytes.length;
  }

  /**
   * Appends one delivery to subscription `sid`, as nats-server's client.go msgHeader writes
   * it: HMSG with the headers for a client that announced header support, else MSG with the
   * headers stripped. `headerSize` -1: the message has none.
   */
  appendDelivery(
    subject: Uint8Array,
    sid: Uint8Array,
    reply: Uint8Array | undefined,
    headerSize: number,
    payload: Uint8Array,
    clientHeaders: boolean,
  ): void {
    const body = deliveryPayload(payload, headerSize, clientHeaders);
    const sent = deliveredHeaderSize(headerSize, clientHeaders);
    const head = msgHeadLength(subject, sid, reply, sent, body.length);
    const at = this.reserve(head + body.length + 2);
    const out = this.out;
    let i = writeMsgHead(out, at, subject, sid, reply, sent, body.length);
    out.set(body, i);
    i += body.length;
    out[i] = CR;
    out[i + 1] = LF;
    this.length = i + 2;
    this.deliveries++;
  }

  /**
   * Everything appended since the last take, as one batch (valid until the next append: the
   * receiver copies what it keeps, as Backlog does for a batch that is not retainable).
   */
  take(): Batch {
    const batch = this.batch;
    batch.bytes = this.out;
    batch.length = this.length;
    this.length = 0;
    this.deliveries = 0;
    return batch;
  }

  /** Makes room for `bytes` more; returns where they go. */
  private reserve(bytes: number): number {
    const at = this.length;
    if (at + bytes > this.out.length) {
      let size = this.out.length * 2;
      while (size < at + bytes) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.out.subarray(0, at));
      this.out = grown;
    }
    return at;
  }
}
