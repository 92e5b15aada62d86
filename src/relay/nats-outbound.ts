/**
 * What one NATS client is sent between two flushes, in order: its deliveries (a `MSG` or
 * `HMSG` head per subscription, the payload, CRLF) and the server's own replies (`PONG`,
 * `+OK`, `-ERR`, `INFO`) in one growing buffer, so a PONG never overtakes an earlier MSG and
 * a read that causes a thousand deliveries costs one write. `take()` hands the bytes over as
 * one Batch for the hub (`offerOwn`), which writes them or copies what the socket did not
 * take into the subscriber's backlog; the buffer is then reused. Deliveries the router
 * encoded once for many clients (appendShared) are held by reference when nothing else is
 * in between, so a fan-out of one publisher's run costs no copy per client.
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

  /**
   * Deliveries encoded once for many clients (SubjectRouter's shared runs), held by reference
   * while nothing else was appended since the last take: `shared[sharedStart, sharedEnd)`.
   */
  private shared: Uint8Array | undefined;
  private sharedStart = 0;
  private sharedEnd = 0;

  /** True when something waits for the next flush. */
  get pending(): boolean {
    return this.length > 0 || this.shared !== undefined;
  }

  /** Deliveries in what `take()` hands over. */
  get messages(): number {
    return this.deliveries;
  }

  /**
   * Appends `messages` deliveries already encoded in `bytes[start, end)`, a region nobody
   * writes again. Kept by reference while it is all there is (the common case: one write of
   * a shared buffer, no copy); copied behind what came before otherwise.
   */
  appendShared(bytes: Uint8Array, start: number, end: number, messages: number): void {
    this.deliveries += messages;
    if (this.length === 0) {
      if (this.shared === undefined) {
        this.shared = bytes;
        this.sharedStart = start;
        this.sharedEnd = end;
        return;
      }
      if (this.shared === bytes && this.sharedEnd === start) {
        this.sharedEnd = end;
        return;
      }
    }
    this.copyShared();
    const at = this.reserve(end - start);
    this.out.set(bytes.subarray(start, end), at);
    this.length = at + end - start;
  }

  /** Appends protocol bytes of the server's own (`PONG`, `+OK`, `-ERR`, `INFO`). */
  append(bytes: Uint8Array): void {
    this.copyShared();
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
    this.copyShared();
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
    const shared = this.shared;
    if (shared !== undefined) {
      // Only shared deliveries since the last take: handed over by reference.
      batch.bytes = shared;
      batch.start = this.sharedStart;
      batch.length = this.sharedEnd - this.sharedStart;
      batch.retainable = true;
      this.shared = undefined;
    } else {
      batch.bytes = this.out;
      batch.start = 0;
      batch.length = this.length;
      batch.retainable = false;
      this.length = 0;
    }
    this.deliveries = 0;
    return batch;
  }

  /** Something is appended behind held shared bytes: they move into the buffer first. */
  private copyShared(): void {
    const shared = this.shared;
    if (shared === undefined) return;
    this.shared = undefined;
    const length = this.sharedEnd - this.sharedStart;
    const at = this.reserve(length);
    this.out.set(shared.subarray(this.sharedStart, this.sharedEnd), at);
    this.length = at + length;
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
