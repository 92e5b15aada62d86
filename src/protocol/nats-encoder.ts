/**
 * What a NATS server sends to a client (core NATS, nats-server 2.9), as pure encoders: INFO,
 * +OK, PING, PONG, -ERR (texts in nats-errors.ts), and the hot one, the MSG / HMSG head
 * written per subscriber in front of each delivered payload. No socket, no timer.
 *
 * Wire forms, from nats-server 2.9.10 server/client.go:
 *
 * ```text
 * INFO {json} \r\n                                  generateClientInfoJSON (note the space)
 * +OK\r\n   PING\r\n   PONG\r\n                      okProto, pingProto, pongProto
 * -ERR '<text>'\r\n                                 errProto
 * MSG <subject> <sid> [reply] <size>\r\n            msgHeader
 * HMSG <subject> <sid> [reply] <hdr_len> <total_len>\r\n
 * ```
 *
 * A delivery is the head, the payload and NATS_CRLF:
 *
 * ```ts
 * const body = deliveryPayload(msg.payload, msg.headerSize, subscriber.headers);
 * const hdr = deliveredHeaderSize(msg.headerSize, subscriber.headers);
 * at = writeMsgHead(out, at, msg.subjectBytes, sid, msg.replyBytes, hdr, body.length);
 * ```
 *
 * Heads are written into the caller's buffer at an offset from byte inputs and numbers, the
 * digits directly, so writing one allocates nothing (deliveryPayload makes one view, only when
 * it cuts headers); msgHeadLength gives the exact byte count first, for sizing. Sizes are integers from 0 to 999,999,999 (a PUB size
 * has at most 9 digits); they are not checked here.
 */

const encoder = new TextEncoder();
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const ZERO = 0x30;
/** "MSG " and "HMSG ". */
const MSG_PREFIX = encoder.encode("MSG ");
const HMSG_PREFIX = encoder.encode("HMSG ");
/**
 * Below this many bytes a loop copies faster than TypedArray.set (mitata, Bun 1.4.5: 7x at 3
 * bytes, 1.6x at 15; set wins from about 32).
 */
const LOOP_COPY_BELOW = 16;

/** `\r\n`: what follows each delivered payload (and ends every line). Shared: never write into it. */
export const NATS_CRLF = encoder.encode("\r\n");
/** `+OK\r\n`: the verbose acknowledgement (client.go okProto). Shared: never write into it. */
export const NATS_OK = encoder.encode("+OK\r\n");
/** `PING\r\n` (client.go pingProto). Shared: never write into it. */
export const NATS_PING = encoder.encode("PING\r\n");
/** `PONG\r\n` (client.go pongProto). Shared: never write into it. */
export const NATS_PONG = encoder.encode("PONG\r\n");

/**
 * `INFO <json> \r\n` for `info` (JSON.stringify'd), byte for byte as nats-server writes it:
 * generateClientInfoJSON joins "INFO", the JSON and CRLF with spaces, so a space precedes the
 * CRLF. Clients parse both forms.
 */
export function encodeInfo(info: object): Uint8Array {
  return encoder.encode(`INFO ${JSON.stringify(info)} \r\n`);
}

/**
 * `-ERR '<text>'\r\n` (client.go errProto), for texts outside NATS_ERR, such as nats-server's
 * `Permissions Violation for Publish to "<subject>"`. NATS_ERR entries carry theirs ready.
 */
export function encodeErr(text: string): Uint8Array {
  return encoder.encode(`-ERR '${text}'\r\n`);
}

/** How many decimal digits `n` (an integer from 0 to 999,999,999) is written with. */
export function decimalLength(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10_000) return 4;
  if (n < 100_000) return 5;
  if (n < 1_000_000) return 6;
  if (n < 10_000_000) return 7;
  if (n < 100_000_000) return 8;
  return 9;
}

/** Writes `n` (0 to 999,999,999) in decimal at `out[at]`; returns the offset after it. */
export function writeDecimal(out: Uint8Array, at: number, n: number): number {
  const end = at + decimalLength(n);
  let rest = n;
  for (let i = end - 1; i >= at; i--) {
    const next = Math.floor(rest / 10);
    out[i] = ZERO + rest - next * 10;
    rest = next;
  }
  return end;
}

function writeBytes(out: Uint8Array, at: number, bytes: Uint8Array): number {
  const length = bytes.length;
  if (length < LOOP_COPY_BELOW) {
    for (let i = 0; i < length; i++) out[at + i] = bytes[i] as number;
  } else {
    out.set(bytes, at);
  }
  return at + length;
}

/**
 * Bytes of the head writeMsgHead writes: `MSG <subject> <sid> [reply] <size>\r\n` when
 * `headerSize` is negative, else `HMSG <subject> <sid> [reply] <headerSize> <size>\r\n`.
 */
export function msgHeadLength(
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  headerSize: number,
  size: number,
): number {
  const address = subject.length + sid.length + 2 + (reply === undefined ? 0 : reply.length + 1);
  const sizes =
    headerSize < 0 ? decimalLength(size) : decimalLength(headerSize) + 1 + decimalLength(size);
  return (headerSize < 0 ? MSG_PREFIX : HMSG_PREFIX).length + address + sizes + 2;
}

/**
 * Writes `MSG <subject> <sid> [reply] <size>\r\n` (`headerSize` negative) or
 * `HMSG <subject> <sid> [reply] <headerSize> <size>\r\n` at `out[at]`, as client.go msgHeader
 * does, and returns the offset after it. `out` must have msgHeadLength bytes free there.
 * For a delivery, take `headerSize` from deliveredHeaderSize and `size` from the length of
 * deliveryPayload: that is nats-server's choice between HMSG, MSG and MSG with headers cut.
 */
export function writeMsgHead(
  out: Uint8Array,
  at: number,
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  headerSize: number,
  size: number,
): number {
  let i = writeBytes(out, at, headerSize < 0 ? MSG_PREFIX : HMSG_PREFIX);
  i = writeBytes(out, i, subject);
  out[i++] = SPACE;
  i = writeBytes(out, i, sid);
  out[i++] = SPACE;
  if (reply !== undefined) {
    i = writeBytes(out, i, reply);
    out[i++] = SPACE;
  }
  if (headerSize >= 0) {
    i = writeDecimal(out, i, headerSize);
    out[i++] = SPACE;
  }
  i = writeDecimal(out, i, size);
  out[i++] = CR;
  out[i++] = LF;
  return i;
}

/**
 * The `headerSize` of the head a subscriber gets for a message published with `headerSize`
 * (NatsPub.headerSize, -1 for PUB): the same when the message has headers and the subscriber
 * asked for them in CONNECT, else -1 (a MSG). As client.go msgHeader: a message has headers
 * only when `hdr > 0`, so an HPUB with 0 header bytes goes out as a plain MSG.
 */
export function deliveredHeaderSize(headerSize: number, subscriberHeaders: boolean): number {
  return headerSize > 0 && subscriberHeaders ? headerSize : -1;
}

/**
 * The bytes to send after the head for this delivery: the whole payload, or for a message
 * with headers to a subscriber without header support, the body alone (headers stripped, as
 * nats-server does: client.go deliverMsg sends `msg[c.pa.hdr:]`). A view, no copy.
 */
export function deliveryPayload(
  payload: Uint8Array,
  headerSize: number,
  subscriberHeaders: boolean,
): Uint8Array {
  return headerSize > 0 && !subscriberHeaders ? payload.subarray(headerSize) : payload;
}
