/**
 * Recognises a client that speaks the wrong protocol from its first bytes (issue 19 §2): a TLS
 * client on a plaintext port, a seed 003 frame client or an HTTP client on a line port, a line
 * client on a frame port. Pure: no socket, no timer. The listener (listener.ts) feeds it the
 * bytes seen so far, holds them while the answer is `undecided`, and owns the time bound.
 *
 * Each pattern answers, for the bytes so far: a complete match (refuse), still a prefix of
 * one (hold), or ruled out. The connection is refused at the first complete match, held while
 * any pattern is still a prefix, and accepted as soon as every pattern is ruled out. Any
 * first byte that starts no pattern is accepted at once, so an ordinary client is never held:
 *
 * | pattern (port)        | what it must be, byte by byte                                     | held at most |
 * | --------------------- | ----------------------------------------------------------------- | ------------ |
 * | TLS record (both)     | 0x16, 0x03, minor 0x00-0x04, length 1-16384 (RFC 8446 §5.1)       | 4 B          |
 * | HTTP request (both)   | `GET`/`POST`/… SP target SP `HTTP/1.` digit [CR] LF (RFC 9112 §3) | 2 KiB        |
 * | frame (line port)     | totalLength 13 to --max-frame (u32 BE), command 0x01 or 0x02      | 4 B          |
 * | text (frame port)     | 4 printable ASCII bytes (or TAB/CR/LF) read as a totalLength      | 4 B          |
 *
 * The frame pattern follows src/protocol/frame-wire.ts: a client's first frame is a Conn or a
 * Submit, at least MIN_REQUEST_FRAME (13) bytes; a ConnAck or SubmitAck from a client is
 * refused by the relay's decoder anyway. The text pattern refuses only what the relay's frame
 * decoder would refuse too (a totalLength over --max-frame, or a command that is neither Conn
 * nor Submit): it changes the reason, never the outcome, for a frame client.
 *
 * Collateral, on a line port (documented in docs/security.md):
 * - a line whose first bytes form a whole HTTP/1.x request line (`GET /x HTTP/1.1`) is refused;
 * - a first line starting 0x16 0x03 0x00-0x04 with a length 1-16384 is refused as TLS;
 * - a first line starting with a frame header (length 13 to --max-frame, then 0x01 or 0x02)
 *   is refused as a frame: with the default --max-frame (1 MiB) such a line starts 0x00
 *   0x00-0x10. A binary line such as 00 01 02 03 04 passes: 0x04 is no command.
 * - a first chunk that stays a prefix of a frame header or an HTTP request line is held up to
 *   FIRST_BYTES_BOUND_MS and then delivered (see `verdictAtBound`); nothing of a line is
 *   delivered before its newline anyway, so only a line of at most 4 bytes starting 0x00 waits.
 */
import { CONN, MIN_REQUEST_FRAME, readU32, SUBMIT } from "../protocol/frame-wire.ts";
import { AccessRefusal } from "./net-events.ts";

/** What a port speaks, as far as its first bytes go. */
export interface PortProtocol {
  /** `line`: newline-terminated messages; `frame`: seed 003 frames. */
  framing: "line" | "frame";
  /**
   * --max-frame: the largest totalLength a frame may have, in bytes. On a line port it bounds
   * what counts as a frame header; on a frame port, a text length above it is refused.
   */
  maxFrame: number;
}

/**
 * How long the listener holds a connection whose first bytes are still undecided, in ms,
 * counted from its first byte. A real TLS, frame or HTTP client sends its whole hello in one
 * write, so a header still unfinished after a second is a stalled or probing peer.
 */
export const FIRST_BYTES_BOUND_MS = 1000;

/** The longest HTTP request line held to see whether it is one; longer lines are accepted. */
export const MAX_REQUEST_LINE = 2048;

/** Why a connection is refused: the AccessRefusal reasons the listener can decide alone. */
export type FirstBytesRefusal = Exclude<
  AccessRefusal,
  typeof AccessRefusal.AllowFrom | typeof AccessRefusal.Origin
>;

export type FirstBytesVerdict =
  /** Hold the bytes: they are still a prefix of a foreign protocol's opening. */
  | { readonly kind: "undecided" }
  /** Hand the bytes to the mode: they cannot be any pattern's opening. */
  | { readonly kind: "accept" }
  /** Close the connection; `detail` is for the log line and names the likely cause. */
  | { readonly kind: "refuse"; readonly reason: FirstBytesRefusal; readonly detail: string };

const UNDECIDED: FirstBytesVerdict = { kind: "undecided" };
const ACCEPT: FirstBytesVerdict = { kind: "accept" };

/** One pattern's answer for the bytes so far: ruled out, still a prefix, or complete. */
const Match = { No: 0, Prefix: 1, Yes: 2 } as const;
type Match = (typeof Match)[keyof typeof Match];

/** RFC 8446 §5.1: TLSPlaintext.length must not exceed 2^14. */
const MAX_TLS_RECORD = 16_384;
const TLS_HANDSHAKE = 0x16;
const TLS_HEADER_BYTES = 5;
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const TAB = 0x09;

/** RFC 9110 §9 methods, each with the space that ends it, as bytes. */
const METHODS = [
  "GET",
  "POST",
  "PUT",
  "HEAD",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "CONNECT",
  "TRACE",
].map((method) => new TextEncoder().encode(`${method} `));
const HTTP_VERSION = new TextEncoder().encode("HTTP/1.");

/**
 * Classifies the first bytes a client sent (everything so far, in order) for a port speaking
 * `port`. Deterministic in the bytes: the same bytes give the same answer however they were
 * split into reads, except that `undecided` turns into a decision as more arrive.
 */
export function classifyFirstBytes(bytes: Uint8Array, port: PortProtocol): FirstBytesVerdict {
  const tls = tlsRecord(bytes);
  if (tls === Match.Yes) {
    return refuse(
      AccessRefusal.TlsClient,
      "a TLS ClientHello on a plaintext port: this port has no --tls-cert",
    );
  }
  const http = httpRequestLine(bytes);
  if (http === Match.Yes) {
    const method = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(SPACE)));
    const speaks = port.framing === "line" ? "newline-terminated lines" : "seed 003 frames";
    return refuse(
      AccessRefusal.HttpClient,
      `looks like HTTP (a ${method} request line): this port speaks ${speaks}, not HTTP`,
    );
  }
  const own = port.framing === "line" ? frameHeader(bytes, port.maxFrame) : textLength(bytes, port);
  // A more specific pattern that is still possible decides first (text on a frame port may
  // still become an HTTP request line).
  if (tls === Match.Prefix || http === Match.Prefix) return UNDECIDED;
  if (own === Match.Yes) return port.framing === "line" ? frameRefusal(bytes) : textRefusal(bytes);
  return own === Match.Prefix ? UNDECIDED : ACCEPT;
}

/**
 * The decision for bytes still `undecided` when the bound passed (`ended` "bound") or the peer
 * finished sending (FIN or reset, "peer_closed"): nothing more will come to settle them.
 * - Refused (first_bytes_timeout): a prefix of a TLS record header (any port), or of a text
 *   length on a frame port. A TLS client sends its whole record header at once, and a frame
 *   port's decoder could never make a frame of text; the detail names the likely cause.
 * - Accepted: on a line port, a prefix of a frame header or of an HTTP request line. A line
 *   client may well start with a short message that begins like one (`\0\n`, `GET /x` with no
 *   newline yet), and it is no frame or HTTP client until the whole header says so.
 */
export function verdictAtBound(
  bytes: Uint8Array,
  port: PortProtocol,
  ended: "bound" | "peer_closed" = "bound",
): FirstBytesVerdict {
  const decided = classifyFirstBytes(bytes, port);
  if (decided.kind !== "undecided") return decided;
  const then =
    ended === "bound"
      ? `then nothing more within ${FIRST_BYTES_BOUND_MS / 1000} s`
      : "then the peer closed";
  if (tlsRecord(bytes) === Match.Prefix) {
    return refuse(
      AccessRefusal.FirstBytesTimeout,
      `${bytes.length} B of a TLS record header, ${then}: a TLS client on a plaintext port?`,
    );
  }
  if (port.framing === "frame") {
    return refuse(
      AccessRefusal.FirstBytesTimeout,
      `${bytes.length} B of text where a frame header was due, ${then}: is this a line client? This port speaks seed 003 frames`,
    );
  }
  return ACCEPT;
}

function refuse(reason: FirstBytesRefusal, detail: string): FirstBytesVerdict {
  return { kind: "refuse", reason, detail };
}

/** A TLS record header carrying a handshake (a ClientHello is a client's first record). */
function tlsRecord(bytes: Uint8Array): Match {
  const n = bytes.length;
  if (n === 0 || bytes[0] !== TLS_HANDSHAKE) return Match.No;
  if (n >= 2 && bytes[1] !== 0x03) return Match.No;
  if (n >= 3 && (bytes[2] as number) > 0x04) return Match.No;
  if (n >= 4 && (bytes[3] as number) << 8 > MAX_TLS_RECORD) return Match.No;
  if (n < TLS_HEADER_BYTES) return Match.Prefix;
  const length = ((bytes[3] as number) << 8) | (bytes[4] as number);
  return length >= 1 && length <= MAX_TLS_RECORD ? Match.Yes : Match.No;
}

/**
 * A seed 003 request frame's header: totalLength in [13, maxFrame], then Conn or Submit. With
 * fewer than 4 length bytes, a prefix while some completion of them lies in that range.
 */
function frameHeader(bytes: Uint8Array, maxFrame: number): Match {
  const n = bytes.length;
  if (n === 0) return Match.No;
  if (n < 4) {
    let low = 0;
    for (let i = 0; i < 4; i++) low = low * 256 + (i < n ? (bytes[i] as number) : 0);
    const high = low + 256 ** (4 - n) - 1;
    return low <= maxFrame && high >= MIN_REQUEST_FRAME ? Match.Prefix : Match.No;
  }
  const length = readU32(bytes, 0);
  if (length < MIN_REQUEST_FRAME || length > maxFrame) return Match.No;
  if (n === 4) return Match.Prefix;
  return bytes[4] === CONN || bytes[4] === SUBMIT ? Match.Yes : Match.No;
}

function frameRefusal(bytes: Uint8Array): FirstBytesVerdict {
  const command = bytes[4] === CONN ? "Conn" : "Submit";
  return refuse(
    AccessRefusal.FrameClient,
    `looks like a seed 003 frame (${command}, totalLength ${readU32(bytes, 0)}): is the client set to --framing line? This port speaks newline-terminated lines`,
  );
}

function isText(byte: number): boolean {
  return (byte >= SPACE && byte < 0x7f) || byte === TAB || byte === CR || byte === LF;
}

/**
 * On a frame port: a totalLength made of printable text that the frame decoder would refuse
 * (over --max-frame, or followed by a byte that is no request command).
 */
function textLength(bytes: Uint8Array, port: PortProtocol): Match {
  const n = bytes.length;
  if (n === 0) return Match.No;
  for (let i = 0; i < 4 && i < n; i++) if (!isText(bytes[i] as number)) return Match.No;
  if (n < 4) return Match.Prefix;
  if (readU32(bytes, 0) > port.maxFrame) return Match.Yes;
  if (n === 4) return Match.Prefix;
  return bytes[4] === CONN || bytes[4] === SUBMIT ? Match.No : Match.Yes;
}

function textRefusal(bytes: Uint8Array): FirstBytesVerdict {
  const text = JSON.stringify(String.fromCharCode(...bytes.subarray(0, 4)));
  return refuse(
    AccessRefusal.LineClient,
    `looks like text (totalLength ${readU32(bytes, 0)} from ${text}): is this a line client? This port speaks seed 003 frames`,
  );
}

/**
 * `METHOD SP request-target SP HTTP/1.x [CR] LF` (RFC 9112 §3), the target being one or more
 * visible ASCII bytes. A prefix while the bytes so far could still become one, up to
 * MAX_REQUEST_LINE bytes.
 */
function httpRequestLine(bytes: Uint8Array): Match {
  const n = bytes.length;
  if (n === 0 || n > MAX_REQUEST_LINE) return Match.No;
  let at = -1;
  for (const method of METHODS) {
    const shared = Math.min(n, method.length);
    if (!startsWith(bytes, method, 0, shared)) continue;
    if (n <= method.length) return Match.Prefix;
    at = method.length;
    break;
  }
  if (at === -1) return Match.No;
  const targetStart = at;
  while (at < n && (bytes[at] as number) > SPACE && (bytes[at] as number) < 0x7f) at++;
  if (at === n) return Match.Prefix;
  if (bytes[at] !== SPACE || at === targetStart) return Match.No;
  at++;
  const shared = Math.min(n - at, HTTP_VERSION.length);
  if (!startsWith(bytes, HTTP_VERSION, at, shared)) return Match.No;
  at += HTTP_VERSION.length;
  if (at >= n) return Match.Prefix;
  const digit = bytes[at] as number;
  if (digit < 0x30 || digit > 0x39) return Match.No;
  at++;
  if (at < n && bytes[at] === CR) at++;
  if (at >= n) return Match.Prefix;
  return bytes[at] === LF ? Match.Yes : Match.No;
}

/** Whether `bytes[at, at + count)` equals `expected[0, count)`. */
function startsWith(bytes: Uint8Array, expected: Uint8Array, at: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}
