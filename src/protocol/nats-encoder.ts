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
 * A delivery is the head, the payload (see deliveryPayload) and NATS_CRLF. The heads are written into the caller's buffer at an offset from byte inputs and numbers,
 * digits written directly, so a delivery allocates nothing; the `*Length` functions give the
 * exact byte count first, for sizing. Sizes are integers from 0 to 999,999,999 (a PUB size
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

/** `<subject> <sid> [reply] `: the fields MSG and HMSG share, with their trailing space. */
function writeAddress(
  out: Uint8Array,
  at: number,
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
): number {
  let i = writeBytes(out, at, subject);
  out[i++] = SPACE;
  i = writeBytes(out, i, sid);
  out[i++] = SPACE;
  if (reply !== undefined) {
    i = writeBytes(out, i, reply);
    out[i++] = SPACE;
  }
  return i;
}

function addressLength(subject: Uint8Array, sid: Uint8Array, reply: Uint8Array | undefined) {
  return subject.length + sid.length + 2 + (reply === undefined ? 0 : reply.length + 1);
}

/** Bytes of `MSG <subject> <sid> [reply] <size>\r\n`. */
export function msgHeadLength(
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  size: number,
): number {
  return MSG_PREFIX.length + addressLength(subject, sid, reply) + decimalLength(size) + 2;
}

/**
 * Writes `MSG <subject> <sid> [reply] <size>\r\n` at `out[at]` (client.go msgHeader, no
 * headers) and returns the offset after it. `out` must have msgHeadLength bytes free there.
 */
export function writeMsgHead(
  out: Uint8Array,
  at: number,
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  size: number,
): number {
  let i = writeBytes(out, at, MSG_PREFIX);
  i = writeAddress(out, i, subject, sid, reply);
  i = writeDecimal(out, i, size);
  out[i++] = CR;
  out[i++] = LF;
  return i;
}

/** Bytes of `HMSG <subject> <sid> [reply] <hdr_len> <total_len>\r\n`. */
export function hmsgHeadLength(
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  headerSize: number,
  totalSize: number,
): number {
  const sizes = decimalLength(headerSize) + 1 + decimalLength(totalSize);
  return HMSG_PREFIX.length + addressLength(subject, sid, reply) + sizes + 2;
}

/**
 * Writes `HMSG <subject> <sid> [reply] <hdr_len> <total_len>\r\n` at `out[at]` and returns
 * the offset after it. `out` must have hmsgHeadLength bytes free there.
 */
export function writeHmsgHead(
  out: Uint8Array,
  at: number,
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  headerSize: number,
  totalSize: number,
): number {
  let i = writeBytes(out, at, HMSG_PREFIX);
  i = writeAddress(out, i, subject, sid, reply);
  i = writeDecimal(out, i, headerSize);
  out[i++] = SPACE;
  i = writeDecimal(out, i, totalSize);
  out[i++] = CR;
  out[i++] = LF;
  return i;
}

/**
 * Bytes of the head deliverHead writes for a message published with `headerSize` (-1 for PUB)
 * and `totalSize` bytes of payload, to a subscriber whose CONNECT asked for headers or not.
 */
export function deliveryHeadLength(
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  headerSize: number,
  totalSize: number,
  subscriberHeaders: boolean,
): number {
  if (headerSize <= 0) return msgHeadLength(subject, sid, reply, totalSize);
  if (subscriberHeaders) return hmsgHeadLength(subject, sid, reply, headerSize, totalSize);
  return msgHeadLength(subject, sid, reply, totalSize - headerSize);
}

/**
 * Writes the head nats-server's client.go msgHeader would for this delivery, and returns the
 * offset after it: HMSG when the message has headers (`headerSize > 0`: an HPUB with 0 header
 * bytes goes out as a plain MSG) and the subscriber supports them; MSG with the size of the
 * body alone when it has headers the subscriber cannot take (send deliveryPayload after it);
 * else MSG with the whole size.
 */
export function writeDeliveryHead(
  out: Uint8Array,
  at: number,
  subject: Uint8Array,
  sid: Uint8Array,
  reply: Uint8Array | undefined,
  headerSize: number,
  totalSize: number,
  subscriberHeaders: boolean,
): number {
  if (headerSize <= 0) return writeMsgHead(out, at, subject, sid, reply, totalSize);
  if (subscriberHeaders) {
    return writeHmsgHead(out, at, subject, sid, reply, headerSize, totalSize);
  }
  return writeMsgHead(out, at, subject, sid, reply, totalSize - headerSize);
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
