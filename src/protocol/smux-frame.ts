/**
 * The smux wire format (xtaci/smux, protocol versions 1 and 2): frame layout, commands, the
 * rules that end a session, the protocol's defaults and stream IDs, and the encoders.
 * SmuxDecoder (smux-decoder.ts) reads frames; smux-window.ts holds the v2 window arithmetic.
 *
 * Pure: no socket, no timer, no Promise. Sources: xtaci/smux `frame.go`, `mux.go`
 * (`DefaultConfig`, `VerifyConfig`) and `session.go` (`recvLoop`, `OpenStream`) as Debian
 * ships them in golang-github-xtaci-smux-dev 1.5.16, and issue 13. Frames these encoders
 * write were checked byte for byte against what that Go code writes (the tests hold the hex).
 *
 * One frame, every integer little-endian:
 *
 * ```text
 * offset  size  field
 * 0       1     version u8: 1 or 2, fixed for the whole session by both ends' config
 * 1       1     cmd u8: SYN 0 (open), FIN 1 (half-close), PSH 2 (data), NOP 3 (keepalive),
 *               UPD 4 (v2 only: window update)
 * 2       2     length u16: bytes of body that follow the header
 * 4       4     streamId u32: 0 on NOP; client streams odd (3, 5, ...), server streams even
 * 8       n     body: PSH data; UPD `consumed u32 | window u32`; nothing for SYN, FIN, NOP
 * ```
 *
 * Example, v1 PSH on stream 3 carrying "hi": `01 02 02 00 03 00 00 00 68 69`.
 *
 * What a received frame does to the session. The codec applies the fatal rows, in this
 * order, as soon as a header's 8 bytes are in (before any of its body is buffered):
 *
 * ```text
 * received                                  outcome                       code
 * ----------------------------------------  ----------------------------  -----------------------
 * version != the session's version          fatal: close the session      MUX_ERR_BAD_VERSION
 * cmd > 4                                   fatal                         MUX_ERR_UNKNOWN_COMMAND
 * UPD on a v1 session (any length)          fatal                         MUX_ERR_UPD_ON_V1
 * SYN, FIN or NOP with length != 0          fatal                         MUX_ERR_UNEXPECTED_BODY
 * UPD on v2 with length != 8                fatal                         MUX_ERR_BAD_UPD
 * PSH, length 0..65535                      delivered, even when longer than our MaxFrameSize
 *                                           (Go does not check it either; u16 caps it anyway)
 * duplicate SYN                             delivered; the Session ignores it
 * PSH, FIN or UPD for an unknown stream     delivered; the Session ignores it (Go reads a
 *                                           PSH body and drops it, uncharged to its budget)
 * NOP with streamId != 0, SYN with an id    delivered; Go does not look at either, nor do we
 *   of the "wrong" parity or 0
 * ```
 *
 * Ignoring a duplicate SYN or a frame for an unknown stream needs the stream table, so it is
 * the Session's job, not the codec's. Debian's 1.5.16 enforces only the first two fatal rows
 * and reads past the others (it even leaves a SYN/FIN/NOP body unread, misreading the rest of
 * the connection). Issue 13 asks for all five, as newer upstream smux is reported to apply
 * (shared/peers/README.md; not checked here against upstream source).
 */

/** The protocol versions smux speaks. Both ends must be configured with the same one. */
export type SmuxVersion = 1 | 2;

/** The command byte. UPD exists only in version 2. */
export const SmuxCmd = {
  /** Opens a stream (`cmdSYN`). No body. */
  SYN: 0,
  /** Half-closes a stream: the sender writes no more (`cmdFIN`, "EOF mark"). No body. */
  FIN: 1,
  /** Carries stream data (`cmdPSH`). Body: the data, possibly empty. */
  PSH: 2,
  /** Keepalive (`cmdNOP`), sent on stream 0. No body. */
  NOP: 3,
  /** v2 window update (`cmdUPD`). Body: `consumed u32 LE | window u32 LE`. */
  UPD: 4,
} as const;
export type SmuxCmd = (typeof SmuxCmd)[keyof typeof SmuxCmd];

/** Bytes of a frame header (`headerSize` in frame.go). */
export const HEADER_SIZE = 8;
/** Bytes of an UPD body (`szCmdUPD`). */
export const UPD_BODY_SIZE = 8;
/** The largest body a header can announce: its length field is a u16. */
export const MAX_FRAME_SIZE_LIMIT = 0xffff;
/** The largest stream ID: the field is a u32. */
export const MAX_STREAM_ID = 0xffff_ffff;

/**
 * Go's `DefaultConfig()` (mux.go), with durations in milliseconds and sizes in bytes.
 * `maxReceiveBuffer` is session-wide: the Session stops reading once that many received
 * bytes wait unread. `maxStreamBuffer` is the window a v2 receiver advertises per stream.
 */
export const SMUX_DEFAULTS = {
  version: 1,
  /** A NOP is sent this often. */
  keepAliveIntervalMs: 10_000,
  /** The session closes after this long without a frame from the peer. */
  keepAliveTimeoutMs: 30_000,
  /** The largest PSH body we send; Go's VerifyConfig allows 1..65535. */
  maxFrameSize: 32_768,
  maxReceiveBuffer: 4 * 1024 * 1024,
  maxStreamBuffer: 64 * 1024,
} as const satisfies {
  version: SmuxVersion;
  keepAliveIntervalMs: number;
  keepAliveTimeoutMs: number;
  maxFrameSize: number;
  maxReceiveBuffer: number;
  maxStreamBuffer: number;
};

/**
 * v2: the window assumed for a peer's stream until its first UPD arrives (frame.go
 * `initialPeerWindow`, "a slow-start"), in bytes. Go's own receivers then advertise
 * their MaxStreamBuffer (64 KiB by default), so the window usually shrinks on the first UPD.
 */
export const INITIAL_PEER_WINDOW = 262_144;

/**
 * Stream IDs (session.go `newSession`, `OpenStream`): each side keeps a counter, starting at
 * 1 on the client and 0 on the server, and adds 2 *before* each use. So a client opens 3, 5,
 * 7, ... and a server 2, 4, 6, ...; ID 1 is never used and 0 only appears on NOP.
 */
export const STREAM_ID_COUNTER_START = { client: 1, server: 0 } as const;

/**
 * The ID a side opens next, given the last one it used (or its counter start), or -1 once
 * the u32 space is spent. Go then refuses to open streams (`ErrGoAway`); so should we.
 * The last IDs are 0xFFFFFFFF for a client and 0xFFFFFFFE for a server.
 */
export function nextStreamId(last: number): number {
  const next = (last + 2) >>> 0;
  // Go's test `sid == sid%2`: the sum wrapped to 0 or 1.
  return next < 2 ? -1 : next;
}

/** True for an ID a client opens (odd), false for a server's (even). */
export function isClientStreamId(streamId: number): boolean {
  return (streamId & 1) === 1;
}

/**
 * Why the decoder ended a session: one code per fatal row of the table above. Stable: logs,
 * metric labels and tests name them.
 */
export const SmuxErrorCode = {
  /** The header's version byte is not the session's version. */
  BadVersion: "MUX_ERR_BAD_VERSION",
  /** The command byte is above 4. */
  UnknownCommand: "MUX_ERR_UNKNOWN_COMMAND",
  /** An UPD arrived on a version 1 session. */
  UpdOnV1: "MUX_ERR_UPD_ON_V1",
  /** A SYN, FIN or NOP announced a body. */
  UnexpectedBody: "MUX_ERR_UNEXPECTED_BODY",
  /** An UPD's body is not exactly 8 bytes. */
  BadUpd: "MUX_ERR_BAD_UPD",
} as const;
export type SmuxErrorCode = (typeof SmuxErrorCode)[keyof typeof SmuxErrorCode];

const COMMAND_NAMES = ["SYN", "FIN", "PSH", "NOP", "UPD"] as const;

/** "PSH", or "cmd 7" for a byte that is no command. For logs and error reasons. */
export function commandName(cmd: number): string {
  return COMMAND_NAMES[cmd] ?? `cmd ${cmd}`;
}

/**
 * Applies the fatal rows of the table to one header, in the table's order. Returns the code
 * of the first rule broken, or null for a header the session must accept. Allocates nothing.
 */
export function headerViolation(
  sessionVersion: SmuxVersion,
  version: number,
  cmd: number,
  length: number,
): SmuxErrorCode | null {
  if (version !== sessionVersion) return SmuxErrorCode.BadVersion;
  if (cmd > SmuxCmd.UPD) return SmuxErrorCode.UnknownCommand;
  if (cmd === SmuxCmd.PSH) return null;
  if (cmd === SmuxCmd.UPD) {
    if (sessionVersion === 1) return SmuxErrorCode.UpdOnV1;
    return length === UPD_BODY_SIZE ? null : SmuxErrorCode.BadUpd;
  }
  return length === 0 ? null : SmuxErrorCode.UnexpectedBody;
}

/** The header fields of the frame that broke a rule, and where it began. */
export interface SmuxBadHeader {
  readonly version: number;
  readonly cmd: number;
  readonly length: number;
  readonly streamId: number;
  /** Byte offset of the header in everything the decoder was fed. */
  readonly offset: number;
}

/**
 * A protocol violation: the session must close, with `reason` in its log line. `code` is
 * one of SmuxErrorCode; `header` is the offending frame's header. The Session adds the peer.
 */
export class SmuxProtocolError extends Error {
  override readonly name = "SmuxProtocolError";
  /** A human reason, e.g. "UPD body of 4 bytes (must be 8)". */
  readonly reason: string;

  constructor(
    readonly code: SmuxErrorCode,
    readonly sessionVersion: SmuxVersion,
    readonly header: SmuxBadHeader,
  ) {
    const reason = describeViolation(code, sessionVersion, header);
    super(`${code}: ${reason} (stream ${header.streamId}, byte ${header.offset})`);
    this.reason = reason;
  }
}

function describeViolation(code: SmuxErrorCode, session: SmuxVersion, h: SmuxBadHeader): string {
  switch (code) {
    case SmuxErrorCode.BadVersion:
      return `version ${h.version} on a version ${session} session`;
    case SmuxErrorCode.UnknownCommand:
      return `unknown command ${h.cmd}`;
    case SmuxErrorCode.UpdOnV1:
      return "UPD (window update) on a version 1 session";
    case SmuxErrorCode.UnexpectedBody:
      return `${commandName(h.cmd)} with a body of ${byteCount(h.length)} (must be empty)`;
    case SmuxErrorCode.BadUpd:
      return `UPD body of ${byteCount(h.length)} (must be ${UPD_BODY_SIZE})`;
  }
}

function byteCount(n: number): string {
  return n === 1 ? "1 byte" : `${n} bytes`;
}

const EMPTY = new Uint8Array(0);

/**
 * Writes one 8-byte header into `out` at `offset` and returns the offset after it. Any
 * version and cmd byte may be written (tests build hostile frames with it); the body is the
 * caller's to write. Throws RangeError for a field out of range or too little room in `out`:
 * a Uint8Array would drop out-of-bounds writes silently.
 */
export function writeHeader(
  out: Uint8Array,
  offset: number,
  version: number,
  cmd: number,
  length: number,
  streamId: number,
): number {
  checkInteger("version", version, 0xff);
  checkInteger("cmd", cmd, 0xff);
  checkInteger("length", length, MAX_FRAME_SIZE_LIMIT);
  checkInteger("streamId", streamId, MAX_STREAM_ID);
  if (!(offset >= 0 && offset + HEADER_SIZE <= out.length)) {
    throw new RangeError(`no room for a header at ${offset} in ${out.length} bytes`);
  }
  out[offset] = version;
  out[offset + 1] = cmd;
  out[offset + 2] = length & 0xff;
  out[offset + 3] = length >>> 8;
  writeU32(out, offset + 4, streamId);
  return offset + HEADER_SIZE;
}

/**
 * Writes a v2 UPD frame (16 bytes: header and body) at `offset`; returns the offset after it.
 * `consumed`: every byte of the stream the writer of this frame has read so far, mod 2^32.
 * `window`: the bytes it is willing to hold for the stream (Go sends its MaxStreamBuffer).
 */
export function writeUpd(
  out: Uint8Array,
  offset: number,
  streamId: number,
  consumed: number,
  window: number,
): number {
  checkInteger("consumed", consumed, 0xffff_ffff);
  checkInteger("window", window, 0xffff_ffff);
  if (offset + HEADER_SIZE + UPD_BODY_SIZE > out.length) {
    throw new RangeError(`no room for an UPD frame at ${offset} in ${out.length} bytes`);
  }
  const body = writeHeader(out, offset, 2, SmuxCmd.UPD, UPD_BODY_SIZE, streamId);
  writeU32(out, body, consumed);
  writeU32(out, body + 4, window);
  return body + UPD_BODY_SIZE;
}

/**
 * Bytes `writePshFrames` needs for a payload of `payloadLength` bytes: the payload plus one
 * header per frame of at most `maxFrameSize` bytes. 0 for an empty payload (no frame).
 */
export function pshFramesSize(
  payloadLength: number,
  maxFrameSize: number = SMUX_DEFAULTS.maxFrameSize,
): number {
  checkFrameSize(maxFrameSize);
  return payloadLength + Math.ceil(payloadLength / maxFrameSize) * HEADER_SIZE;
}

/**
 * Writes `payload[start, end)` into `out` at `offset` as PSH frames of at most
 * `maxFrameSize` body bytes each, headers and data interleaved, and returns the offset after
 * the last frame. Several streams' writes can so be laid out in one buffer and leave in one
 * socket write. An empty range writes nothing, as Go's `Stream.Write` sends nothing for an
 * empty write. Size `out` with `pshFramesSize`; throws RangeError if it is too small or
 * `maxFrameSize` is outside 1..65535.
 */
export function writePshFrames(
  out: Uint8Array,
  offset: number,
  version: SmuxVersion,
  streamId: number,
  payload: Uint8Array,
  start = 0,
  end: number = payload.length,
  maxFrameSize: number = SMUX_DEFAULTS.maxFrameSize,
): number {
  if (!(start >= 0 && start <= end && end <= payload.length)) {
    throw new RangeError(`bad payload range [${start}, ${end}) of ${payload.length} bytes`);
  }
  const needed = pshFramesSize(end - start, maxFrameSize);
  if (!(offset >= 0 && offset + needed <= out.length)) {
    throw new RangeError(`PSH frames need ${needed} bytes at ${offset} in ${out.length}`);
  }
  let at = offset;
  for (let from = start; from < end; from += maxFrameSize) {
    const to = Math.min(from + maxFrameSize, end);
    at = writeHeader(out, at, version, SmuxCmd.PSH, to - from, streamId);
    out.set(payload.subarray(from, to), at);
    at += to - from;
  }
  return at;
}

/**
 * One frame in a fresh buffer: header plus `body` as given. No rule of the table is
 * applied, so tests can build hostile frames too; sessions use the named encoders below.
 */
export function encodeFrame(
  version: number,
  cmd: number,
  streamId: number,
  body: Uint8Array = EMPTY,
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + body.length);
  writeHeader(out, 0, version, cmd, body.length, streamId);
  out.set(body, HEADER_SIZE);
  return out;
}

/** SYN: opens `streamId`. 8 bytes. */
export function encodeSyn(version: SmuxVersion, streamId: number): Uint8Array {
  return encodeFrame(version, SmuxCmd.SYN, streamId);
}

/** FIN: the sender will write no more on `streamId`. 8 bytes. */
export function encodeFin(version: SmuxVersion, streamId: number): Uint8Array {
  return encodeFrame(version, SmuxCmd.FIN, streamId);
}

/** NOP on stream 0, the keepalive. 8 bytes. */
export function encodeNop(version: SmuxVersion): Uint8Array {
  return encodeFrame(version, SmuxCmd.NOP, 0);
}

/** One PSH frame carrying all of `data` (at most 65535 bytes; may be empty). */
export function encodePsh(version: SmuxVersion, streamId: number, data: Uint8Array): Uint8Array {
  return encodeFrame(version, SmuxCmd.PSH, streamId, data);
}

/** A v2 UPD frame, 16 bytes; see writeUpd for `consumed` and `window`. */
export function encodeUpd(streamId: number, consumed: number, window: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + UPD_BODY_SIZE);
  writeUpd(out, 0, streamId, consumed, window);
  return out;
}

/** Reads a u32 LE at `at`; the caller guarantees 4 bytes are there. */
export function readU32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = value >>> 24;
}

function checkInteger(name: string, value: number, max: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
}

function checkFrameSize(maxFrameSize: number): void {
  if (!(Number.isInteger(maxFrameSize) && maxFrameSize >= 1 && maxFrameSize <= 0xffff)) {
    throw new RangeError(`maxFrameSize must be an integer in 1..65535, got ${maxFrameSize}`);
  }
}
