/**
 * The bridge between the line/frame stream and NATS subjects (issue 20). Line and frame
 * publishers publish to one literal subject (`--subject`); line and frame subscribers receive
 * the subjects `--sub-subject` matches (default: `--subject`). Across the bridge:
 *
 * - line/frame -> NATS: each message goes to the NATS subscriptions of `--subject`. A line
 *   travels without its `\n` (or `\r\n`); a frame's payload travels as it is, and its 8-byte ID
 *   in the header `Bun-Relay-Frame-Id` (HMSG) for clients that take headers (the others get a
 *   plain MSG: nats-server strips headers for them too). A message larger than --max-payload
 *   is not given to NATS subscribers, and is counted (`messagesTooLargeForNats`).
 * - NATS -> line/frame: a NATS message on a subject `--sub-subject` matches is appended to the
 *   hub's batches like a line publisher's: its body (headers dropped) plus `\n` for line
 *   subscribers (a body holding `\n` is skipped for them and counted in NotLines, as frame
 *   payloads are), and a Submit frame with a relay-assigned ID for frame subscribers.
 *
 * With no NATS subscription on `--subject`, line and frame publishers keep their zero-copy path:
 * publishers ask `natsInterest` once per read, which the subscription index answers from its
 * cache.
 */
import { BODY_OFFSET, ID_BYTES, SUBMIT } from "../protocol/frame-codec.ts";
import { writeHeader } from "../protocol/frame-encoder.ts";
import { FrameIdCounter } from "../protocol/frame-id.ts";
import { type Hub, WireFormat } from "./hub.ts";
import type { RelayOptions } from "./options.ts";
import { type RoutedMessage, type RoutedSubscription, SubjectRouter } from "./subject-router.ts";
import { matches } from "./subjects.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The header that carries a seed 003 frame's ID to NATS clients that take headers. */
export const FRAME_ID_HEADER = "Bun-Relay-Frame-Id";

const encoder = new TextEncoder();
const NEWLINE = 10;
/** `NATS/1.0\r\nBun-Relay-Frame-Id: ` and the `\r\n\r\n` after the ID. */
const HEADER_HEAD = encoder.encode(`NATS/1.0\r\n${FRAME_ID_HEADER}: `);
const HEADER_TAIL = encoder.encode("\r\n\r\n");
/** Subjects remembered as matching --sub-subject or not, at most this many. */
const MATCH_CACHE_MAX = 1024;

/** The frame ID as header text: itself when printable ASCII, else `0x` and 16 hex digits. */
function writeIdText(out: Uint8Array, at: number, bytes: Uint8Array, idStart: number): number {
  let printable = true;
  for (let i = 0; i < ID_BYTES; i++) {
    const b = bytes[idStart + i] as number;
    if (b < 0x21 || b > 0x7e) printable = false;
  }
  if (printable) {
    out.set(bytes.subarray(idStart, idStart + ID_BYTES), at);
    return at + ID_BYTES;
  }
  const hex = `0x${Buffer.from(bytes.subarray(idStart, idStart + ID_BYTES)).toString("hex")}`;
  out.set(encoder.encode(hex), at);
  return at + hex.length;
}

export class StreamBridge {
  readonly subjectBytes: Uint8Array;
  /** --sub-subject matches --subject: line/frame publishers reach line/frame subscribers. */
  readonly streamLocal: boolean;
  private readonly ids = new FrameIdCounter();
  private readonly matchCache = new Map<string, boolean>();
  /** One reused routed message and its header scratch (the router's receivers copy). */
  private readonly message: Mutable<RoutedMessage>;
  private scratch = new Uint8Array(256);

  constructor(
    private readonly hub: Hub,
    private readonly router: SubjectRouter,
    readonly subject: string,
    readonly subSubject: string,
    private readonly maxPayload: number,
  ) {
    this.subjectBytes = encoder.encode(subject);
    this.streamLocal = matches(subSubject, subject);
    this.message = {
      subject,
      subjectBytes: this.subjectBytes,
      replyBytes: undefined,
      headerSize: -1,
      payload: this.scratch,
      source: this.scratch,
      payloadStart: 0,
      payloadEnd: 0,
    };
  }

  /** True when some NATS subscription matches --subject: publishers then split per message. */
  get natsInterest(): boolean {
    return this.router.hasInterest(this.subject);
  }

  /**
   * A line publisher's message `bytes[start, end)` to NATS: the line splitter already took
   * its `\n`, and the `\r` of a `\r\n`, off (so a line subscriber and a NATS subscriber get
   * the same content).
   */
  fromLine(bytes: Uint8Array, start: number, end: number): void {
    if (this.tooLarge(end - start)) return;
    const message = this.message;
    message.headerSize = -1;
    message.payload = bytes.subarray(start, end);
    message.source = bytes;
    message.payloadStart = start;
    message.payloadEnd = end;
    this.router.route(message, undefined);
  }

  /**
   * A frame publisher's Submit to NATS: payload `bytes[payloadStart, end)`, its ID at
   * `bytes[idStart]`, sent in the Bun-Relay-Frame-Id header.
   */
  fromFrame(bytes: Uint8Array, idStart: number, payloadStart: number, end: number): void {
    const length = end - payloadStart;
    const room = HEADER_HEAD.length + 2 + 2 * ID_BYTES + HEADER_TAIL.length;
    if (this.tooLarge(room + length)) return;
    if (this.scratch.length < room + length) {
      this.scratch = new Uint8Array(Math.max(room + length, this.scratch.length * 2));
    }
    const out = this.scratch;
    out.set(HEADER_HEAD, 0);
    let at = writeIdText(out, HEADER_HEAD.length, bytes, idStart);
    out.set(HEADER_TAIL, at);
    at += HEADER_TAIL.length;
    const headerSize = at;
    out.set(bytes.subarray(payloadStart, end), at);
    const message = this.message;
    message.headerSize = headerSize;
    message.payload = out.subarray(0, at + length);
    message.source = out;
    message.payloadStart = 0;
    message.payloadEnd = at + length;
    this.router.route(message, undefined);
  }

  /**
   * A NATS message to the line and frame subscribers, when its subject matches --sub-subject.
   * Returns 1 when it was handed to the stream (some line or frame subscriber reads it), 0
   * when not (for no-responders).
   */
  fromNats(message: RoutedMessage): number {
    const hub = this.hub;
    const lineReaders = hub.readers[WireFormat.Line] > 0;
    const frameReaders = hub.readers[WireFormat.Frame] > 0;
    // Readers first: a NATS-only relay pays two array reads per PUB here, no lookup.
    if (!lineReaders && !frameReaders) return 0;
    if (!this.streamMatches(message.subject)) return 0;
    const body =
      message.headerSize > 0 ? message.payload.subarray(message.headerSize) : message.payload;
    if (lineReaders) {
      if (body.indexOf(NEWLINE) !== -1) {
        hub.counters.messagesNotLines++;
      } else {
        const lines = hub.batches[WireFormat.Line];
        const at = lines.reserve(body.length + 1);
        const out = lines.scratchBuffer();
        out.set(body, at);
        out[at + body.length] = NEWLINE;
        lines.commit(body.length + 1);
        lines.messages++;
      }
    }
    if (frameReaders) {
      const frames = hub.batches[WireFormat.Frame];
      const offset = frames.reserve(BODY_OFFSET + body.length);
      const out = frames.scratchBuffer();
      const at = this.ids.write(out, writeHeader(out, offset, SUBMIT, ID_BYTES + body.length));
      out.set(body, at);
      frames.commit(BODY_OFFSET + body.length);
      frames.messages++;
    }
    hub.publish(0); // schedules the delivery; the NATS connection counted the message
    return 1;
  }

  private tooLarge(bytes: number): boolean {
    if (bytes <= this.maxPayload) return false;
    this.hub.counters.messagesTooLargeForNats++;
    return true;
  }

  private streamMatches(subject: string): boolean {
    let match = this.matchCache.get(subject);
    if (match === undefined) {
      if (this.matchCache.size >= MATCH_CACHE_MAX) this.matchCache.clear();
      match = matches(this.subSubject, subject);
      this.matchCache.set(subject, match);
    }
    return match;
  }
}

/**
 * A subject router for `hub`, joined to the line/frame stream: the hub flushes the router at
 * each delivery, and a StreamBridge carries the stream to and from subjects (`--subject`,
 * `--sub-subject`). Used by the NATS port, and by the status page's tail without one.
 */
export function routerOfStream<S extends RoutedSubscription>(
  hub: Hub,
  config: Pick<RelayOptions, "subject" | "subSubject" | "maxPayload">,
): SubjectRouter<S> {
  // No backlog anywhere means no bytes of the router's shared buffer are kept by anyone.
  const router = new SubjectRouter<S>(() => hub.pendingBytes === 0);
  hub.afterDeliver = () => router.flush();
  hub.bridge = new StreamBridge(
    hub,
    router as unknown as SubjectRouter,
    config.subject,
    config.subSubject ?? config.subject,
    config.maxPayload,
  );
  return router;
}
