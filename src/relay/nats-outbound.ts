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
import { type Batch, emptyBatch } from "./batch.ts";

/** A region of a buffer that nobody writes again. */
interface Region {
  bytes: Uint8Array;
  start: number;
  end: number;
}

const EMPTY = new Uint8Array(0);

function emptyRegion(): Region {
  return { bytes: EMPTY, start: 0, end: 0 };
}

const CR = 13;
const LF = 10;
/** The first buffer; it doubles when a flush needs more and stays that size. */
const INITIAL_BYTES = 16 * 1024;

export class NatsOutbound {
  private out = new Uint8Array(INITIAL_BYTES);
  private length = 0;
  /** Deliveries in the buffer (replies are not messages). */
  private deliveries = 0;
  private readonly batch: Batch = emptyBatch();

  /**
   * Deliveries encoded once for many clients (SubjectRouter's shared runs), held by reference
   * while nothing else was appended since the last take: at most two regions (a run that
   * went on into the router's next buffer), `shared[0]` then `shared[1]`.
   */
  private readonly shared: [Region, Region] = [emptyRegion(), emptyRegion()];
  private sharedCount = 0;

  /** True when something waits for the next flush. */
  get pending(): boolean {
    return this.length > 0 || this.sharedCount > 0;
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
      const count = this.sharedCount;
      const last = count > 0 ? (this.shared[count - 1] as Region) : undefined;
      if (last !== undefined && last.bytes === bytes && last.end === start) {
        last.end = end;
        return;
      }
      if (count < 2) {
        const region = this.shared[count] as Region;
        region.bytes = bytes;
        region.start = start;
        region.end = end;
        this.sharedCount = count + 1;
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
    if (this.sharedCount > 0) {
      // Only shared deliveries since the last take: handed over by reference, in two parts
      // at most (the Batch's bytes and tail).
      const [first, second] = this.shared;
      batch.bytes = first.bytes;
      batch.start = first.start;
      batch.length = first.end - first.start;
      batch.retainable = true;
      const two = this.sharedCount === 2;
      batch.tail = two ? second.bytes : EMPTY;
      batch.tailStart = two ? second.start : 0;
      batch.tailLength = two ? second.end - second.start : 0;
      this.sharedCount = 0;
    } else {
      batch.bytes = this.out;
      batch.start = 0;
      batch.length = this.length;
      batch.retainable = false;
      batch.tail = EMPTY;
      batch.tailStart = 0;
      batch.tailLength = 0;
      this.length = 0;
    }
    this.deliveries = 0;
    return batch;
  }

  /** Something is appended behind held shared bytes: they move into the buffer first. */
  private copyShared(): void {
    const count = this.sharedCount;
    if (count === 0) return;
    this.sharedCount = 0;
    for (let i = 0; i < count; i++) {
      const { bytes, start, end } = this.shared[i] as Region;
      const at = this.reserve(end - start);
      this.out.set(bytes.subarray(start, end), at);
      this.length = at + end - start;
    }
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
