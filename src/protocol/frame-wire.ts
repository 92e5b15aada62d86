/**
 * The framed wire format of seed 003 ("基于 TCP 的通信服务端", sections 深入协议字段, 建立 Frame
 * 抽象 and 建立 Packet 抽象) as issue 12 adopts it: the constants, the two command code sets,
 * and the coded errors the decoder reports. No I/O here; the decoder and the encoders build on it.
 *
 * Every integer is big-endian (the seed's `binary.BigEndian`). One frame, byte by byte:
 *
 * ```text
 * offset  size  field
 * 0       4     totalLength u32: the whole frame, these 4 bytes included
 * 4       1     commandID u8
 * 5       8     ID: the request's serial number, echoed by its ack (opaque bytes;
 *               the seed's clients write 8 ASCII digits, "%08d")
 * 13      n     Conn (0x01): optional auth token (our extension, issue 12); n may be 0
 *               Submit (0x02): payload; n may be 0
 * 13      1     ConnAck / SubmitAck: result u8, 0 success, 1 failure (whatever the cause)
 * ```
 *
 * So a Conn or Submit frame is at least 13 bytes and an ack exactly 14. Example, Submit with
 * ID "00000001" and payload "hi": `00 00 00 0f 02 30 30 30 30 30 30 30 31 68 69`.
 *
 * The ack codes differ between the seed's protocol table (ConnAck 0x81, SubmitAck 0x82) and
 * its Go code, whose second `const` block restarts `iota` at 0x80 (ConnAck 0x80, SubmitAck
 * 0x81 on the wire). Issue 12 defaults to the table and offers `--frame-codes article` so the
 * article's own client works unchanged; see FRAME_CODES.
 */

/** Bytes of the totalLength field. */
export const LENGTH_BYTES = 4;
/** Bytes of totalLength plus commandID: what the decoder needs to judge a frame. */
export const HEADER_BYTES = 5;
/** Bytes of a request's ID (seed 003: `pktBody[:8]`). */
export const ID_BYTES = 8;
/** Offset of the ID from the start of a frame. */
export const ID_OFFSET = HEADER_BYTES;
/** Offset of a Conn token or Submit payload (or an ack's result byte) from the frame start. */
export const BODY_OFFSET = HEADER_BYTES + ID_BYTES;
/** The shortest Conn or Submit frame: header and ID, empty token or payload. */
export const MIN_REQUEST_FRAME = BODY_OFFSET;
/** The size of every ConnAck and SubmitAck frame: header, ID, result. */
export const ACK_FRAME_BYTES = BODY_OFFSET + 1;
/** The largest totalLength a u32 can carry; a --max-frame above it means "no limit". */
export const MAX_U32 = 0xffff_ffff;

/** Which ack command codes are on the wire: the seed's table, or its Go code (see above). */
export type FrameCodes = "spec" | "article";

/** The command IDs of one code set. Conn and Submit are the same in both. */
export interface CommandCodes {
  readonly conn: number;
  readonly submit: number;
  readonly connAck: number;
  readonly submitAck: number;
}

/** Seed 003's Conn and Submit codes (`iota + 0x01`), shared by both code sets. */
export const CONN = 0x01;
export const SUBMIT = 0x02;

/**
 * The code sets by name. `spec`: the seed's protocol table (issue 12's default).
 * `article`: what the seed's Go code sends, `iota + 0x80` restarted in a second block.
 */
export const FRAME_CODES: Readonly<Record<FrameCodes, CommandCodes>> = {
  spec: { conn: CONN, submit: SUBMIT, connAck: 0x81, submitAck: 0x82 },
  article: { conn: CONN, submit: SUBMIT, connAck: 0x80, submitAck: 0x81 },
};

/** An ack's result byte (seed 003: 0 success, 1 failure whatever the cause). */
export type AckResult = 0 | 1;
export const ACK_OK: AckResult = 0;
export const ACK_FAILED: AckResult = 1;

/**
 * Why the decoder refused a stream: one code per rule of issue 12's "bad input" list, plus
 * the ack length the seed implies. Stable: logs, metric labels and tests name them.
 */
export const FrameErrorCode = {
  /** totalLength below 5: the frame cannot even hold its commandID. */
  TooShort: "FRAME_ERR_TOO_SHORT",
  /** totalLength above the decoder's maxFrame (--max-frame). */
  TooLong: "FRAME_ERR_TOO_LONG",
  /** A commandID that is not a command of the decoder's code set. */
  UnknownCommand: "FRAME_ERR_UNKNOWN_COMMAND",
  /** A Conn or Submit whose body is shorter than its 8-byte ID (totalLength 5 to 12). */
  ShortId: "FRAME_ERR_SHORT_ID",
  /** A ConnAck or SubmitAck whose totalLength is not 14 (ID + result). */
  BadAckLength: "FRAME_ERR_BAD_ACK_LENGTH",
  /** An ack sent to a decoder that takes none (the server side: "an ack sent by a client"). */
  UnexpectedAck: "FRAME_ERR_UNEXPECTED_ACK",
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

/**
 * A stream the decoder refused. Raised once per decoder; the relay closes the connection with
 * `code` as the reason label and `message` in the log line (it adds the peer itself).
 */
export class FrameError extends Error {
  override readonly name = "FrameError";
  /**
   * @param code the rule broken.
   * @param reason what was seen, for a human ("totalLength 3 is below 5").
   * @param offset where the bad frame starts in the stream, in bytes from the first pushed.
   * @param totalLength the bad frame's totalLength field.
   * @param command its commandID, or -1 when the stream was refused from the length alone.
   */
  constructor(
    readonly code: FrameErrorCode,
    readonly reason: string,
    readonly offset: number,
    readonly totalLength: number,
    readonly command: number,
  ) {
    super(`${code}: ${reason} (frame at stream offset ${offset})`);
  }
}

/** Reads the big-endian u32 at `at` (the caller ensures 4 bytes are there). */
export function readU32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

/** Writes `value` as a big-endian u32 at `at`; returns `at + 4`. */
export function writeU32(bytes: Uint8Array, at: number, value: number): number {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
  return at + 4;
}

/** The 8 ID bytes at `idStart`, as text (Latin-1: one char per byte), for logs and tests. */
export function idText(bytes: Uint8Array, idStart: number): string {
  let text = "";
  for (let i = idStart; i < idStart + ID_BYTES; i++)
    text += String.fromCharCode(bytes[i] as number);
  return text;
}
