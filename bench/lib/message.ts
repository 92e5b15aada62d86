/**
 * The article's bench message: `pubId,seq,timestampNs,` padded with `x` to
 * exactly `msgSize` bytes, the last of which is `\n`. The timestamp is epoch
 * nanoseconds (19 digits today), like Go's `time.Now().UnixNano()`, so our
 * client and the article's Go client are interchangeable against any relay.
 *
 * Epoch nanoseconds exceed 2^53, so they are never held in one number: the
 * encoder writes whole milliseconds then six digits of sub-millisecond
 * nanoseconds, and the decoder reads the digits back into fractional epoch
 * milliseconds. Both work on bytes in place, with no string or BigInt per
 * message.
 */

export const NEWLINE = 10;
const COMMA = 44;
const DIGIT_0 = 48;
const PAD = 120; // 'x'

/** The smallest msg-size the Go client accepts (it clamps smaller values up). */
export const MIN_MSG_SIZE = 16;

/** Writes the decimal digits of a non-negative integer at `pos`; returns the end. */
function writeUint(buf: Uint8Array, pos: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = pos + digits - 1; i >= pos; i--) {
    buf[i] = DIGIT_0 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return pos + digits;
}

/**
 * The digits of the last stamp encoded. A batch stamps all its messages with
 * the same time, so the 19 digits are computed once per batch, not per message.
 */
const stampCache = { ms: Number.NaN, digits: new Uint8Array(32), length: 0 };

function cacheStamp(stampMs: number): void {
  const wholeMs = Math.floor(stampMs);
  const subMsNs = Math.min(999_999, Math.floor((stampMs - wholeMs) * 1_000_000));
  let at = writeUint(stampCache.digits, 0, wholeMs);
  // Six zero-padded digits of nanoseconds within the millisecond.
  let rest = subMsNs;
  for (let i = at + 5; i >= at; i--) {
    stampCache.digits[i] = DIGIT_0 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  at += 6;
  stampCache.ms = stampMs;
  stampCache.length = at;
}

/** Length of the `pubId,seq,timestampNs,` prefix, to size buffers before writing. */
export function prefixLength(pubId: number, seq: number, stampMs: number): number {
  return String(pubId).length + String(seq).length + String(Math.floor(stampMs)).length + 6 + 3;
}

/**
 * Encodes one message at `pos` and returns the position after its newline.
 * When the prefix does not fit `msgSize`, the message is the prefix plus the
 * newline, as in the Go client (it only pads, never truncates).
 * `buf` must have room for `max(msgSize, prefixLength + 1)` bytes.
 */
export function encodeMessage(
  buf: Uint8Array,
  pos: number,
  pubId: number,
  seq: number,
  stampMs: number,
  msgSize: number,
): number {
  let at = writeUint(buf, pos, pubId);
  buf[at++] = COMMA;
  at = writeUint(buf, at, seq);
  buf[at++] = COMMA;
  if (stampMs !== stampCache.ms) cacheStamp(stampMs);
  const digits = stampCache.digits;
  // A byte loop: for 19 bytes it beats set(subarray()), which allocates a view per message.
  for (let i = 0, n = stampCache.length; i < n; i++) buf[at++] = digits[i] as number;
  buf[at++] = COMMA;
  const end = pos + msgSize - 1;
  if (at < end) {
    buf.fill(PAD, at, end);
    at = end;
  }
  buf[at++] = NEWLINE;
  return at;
}

/**
 * Fields of the last line given to `decodeLine`. One shared record, reused, so
 * the subscriber's hot loop allocates nothing per message.
 */
export const decoded = { pubId: 0, seq: 0, stampMs: 0 };

/**
 * Reads `pubId,seq,timestampNs,` from `line[start, end)` (newline excluded)
 * into `decoded`. Returns false when the line does not start with three
 * comma-terminated decimal fields; the padding is never looked at.
 */
export function decodeLine(line: Uint8Array, start: number, end: number): boolean {
  let at = start;
  let pubId = 0;
  let digits = 0;
  for (; at < end; at++) {
    const c = line[at] as number;
    if (c === COMMA) break;
    if (c < DIGIT_0 || c > DIGIT_0 + 9) return false;
    pubId = pubId * 10 + (c - DIGIT_0);
    digits++;
  }
  if (at >= end || digits === 0) return false;
  at++;
  let seq = 0;
  digits = 0;
  for (; at < end; at++) {
    const c = line[at] as number;
    if (c === COMMA) break;
    if (c < DIGIT_0 || c > DIGIT_0 + 9) return false;
    seq = seq * 10 + (c - DIGIT_0);
    digits++;
  }
  if (at >= end || digits === 0) return false;
  at++;
  // The timestamp: all but the last six digits are whole milliseconds.
  const stampStart = at;
  for (; at < end; at++) {
    const c = line[at] as number;
    if (c === COMMA) break;
    if (c < DIGIT_0 || c > DIGIT_0 + 9) return false;
  }
  const stampDigits = at - stampStart;
  if (at >= end || stampDigits <= 6) return false;
  let wholeMs = 0;
  const msEnd = at - 6;
  for (let i = stampStart; i < msEnd; i++) wholeMs = wholeMs * 10 + ((line[i] as number) - DIGIT_0);
  let subMsNs = 0;
  for (let i = msEnd; i < at; i++) subMsNs = subMsNs * 10 + ((line[i] as number) - DIGIT_0);
  decoded.pubId = pubId;
  decoded.seq = seq;
  decoded.stampMs = wholeMs + subMsNs / 1_000_000;
  return true;
}
