/**
 * Cuts one connection's byte stream into seed 003 frames (see frame-wire.ts for the layout).
 *
 * Pure: no socket, no timer, no Promise. The relay (or the client SDK) pushes each chunk as it
 * arrives; the decoder calls a FrameSink method per frame, in order, with numbers rather than
 * objects, so the hot path allocates nothing per frame:
 *
 * - A frame that lies inside one chunk is handed over as a range of that chunk (zero-copy),
 *   which the relay can fan out byte for byte without re-encoding it.
 * - Only a frame that crosses chunks is copied, into one of two reusable buffers (two, so a
 *   frame just emitted stays intact while the next one starts filling the other).
 *
 * Each frame's header (totalLength and commandID, 5 bytes) is judged as soon as it is in,
 * before any of the body is buffered (style habit 3): a length over maxFrame is refused from
 * its 4 length bytes alone, so a peer cannot make the decoder allocate or wait for a body it
 * will never accept. The rules are issue 12's "bad input" list; see FrameErrorCode.
 *
 * After an error the decoder is dead: it reports one FrameError, the frames before the bad
 * one have been delivered, nothing of the bad one has, and later pushes are ignored.
 */

import type { FrameDecoderOptions, FrameSink } from "./frame-sink.ts";
import {
  ACK_FRAME_BYTES,
  BODY_OFFSET,
  FRAME_CODES,
  type FrameCodes,
  FrameError,
  FrameErrorCode,
  HEADER_BYTES,
  ID_BYTES,
  ID_OFFSET,
  LENGTH_BYTES,
  MAX_U32,
  MIN_REQUEST_FRAME,
  readU32,
} from "./frame-wire.ts";

export type { FrameDecoderOptions, FrameSink };

/** Submit's command ID, the same in both code sets (seed 003: 0x02). */
const SUBMIT_CODE = 0x02;

/** What a command ID means, as an index (0: not a command of the code set). */
const UNKNOWN = 0;
const CONN = 1;
const SUBMIT = 2;
const CONN_ACK = 3;
const SUBMIT_ACK = 4;
const KIND_NAMES = ["unknown", "Conn", "Submit", "ConnAck", "SubmitAck"] as const;

/** commandID -> kind, one 256-entry table per code set, built once. */
const KIND_TABLES: Readonly<Record<FrameCodes, Uint8Array>> = {
  spec: kindTable("spec"),
  article: kindTable("article"),
};

function kindTable(codes: FrameCodes): Uint8Array {
  const set = FRAME_CODES[codes];
  const table = new Uint8Array(256);
  table[set.conn] = CONN;
  table[set.submit] = SUBMIT;
  table[set.connAck] = CONN_ACK;
  table[set.submitAck] = SUBMIT_ACK;
  return table;
}

const EMPTY = new Uint8Array(0);
/** The smallest assembly buffer allocated: a few small frames' worth. */
const MIN_HELD_CAPACITY = 256;
/** An assembly buffer grown past this (one large frame) is released once its frame is out. */
const KEEP_HELD_CAPACITY = 64 * 1024;

export class FrameDecoder {
  private readonly kinds: Uint8Array;
  private readonly codes: FrameCodes;
  private readonly maxFrame: number;
  private readonly acceptAcks: boolean;
  /** The frame being assembled across chunks: its first `heldLength` bytes. */
  private held = EMPTY;
  private heldLength = 0;
  /** The held frame's totalLength once its header was judged, else 0. */
  private heldFrameLength = 0;
  private heldKind = UNKNOWN;
  /** Where the held frame starts in the stream, for the error report. */
  private heldOffset = 0;
  /** The other assembly buffer: the last frame emitted from a buffer may still lie there. */
  private spare = EMPTY;
  /** Bytes pushed before the current chunk. */
  private streamOffset = 0;
  private failure: FrameError | undefined;

  /** @throws RangeError if `maxFrame` is not an integer from 14 to 2^32 - 1. */
  constructor(options: FrameDecoderOptions) {
    const { codes, maxFrame, acceptAcks } = options;
    if (!Number.isInteger(maxFrame) || maxFrame < ACK_FRAME_BYTES || maxFrame > MAX_U32) {
      throw new RangeError(
        `maxFrame must be an integer from ${ACK_FRAME_BYTES} to ${MAX_U32} bytes, got ${maxFrame}`,
      );
    }
    this.kinds = KIND_TABLES[codes];
    this.codes = codes;
    this.maxFrame = maxFrame;
    this.acceptAcks = acceptAcks;
  }

  /** The error that stopped the decoder, or undefined while the stream is good. */
  get error(): FrameError | undefined {
    return this.failure;
  }

  /** Bytes of an unfinished frame held back, waiting for the rest of it. */
  get pendingBytes(): number {
    return this.heldLength;
  }

  /**
   * Feeds one chunk (any size, including empty). Delivers every frame the chunk completes, in
   * order, and returns how many. On a bad frame, the frames before it are delivered, nothing
   * of it is, `sink.error` is called once, and this and every later push return what was
   * delivered before it (later pushes: 0).
   */
  push(chunk: Uint8Array, sink: FrameSink): number {
    if (this.failure) return 0;
    const base = this.streamOffset;
    this.streamOffset += chunk.length;
    let at = 0;
    let frames = 0;

    if (this.heldLength > 0) {
      // The start of this chunk continues the frame held back from earlier chunks.
      at = this.fill(chunk, 0, sink);
      if (this.heldFrameLength === 0 || this.heldLength < this.heldFrameLength) return 0;
      this.emit(this.held, 0, this.heldFrameLength, this.heldKind, false, sink);
      this.rotate();
      frames = 1;
    }

    // The hot path: whole frames inside this chunk go out as views of it.
    const end = chunk.length;
    // With a run-taking sink, whole valid Submits back to back are handed over as one run.
    const runs = sink.submitRun !== undefined;
    let runStart = at;
    let runCount = 0;
    while (end - at >= HEADER_BYTES) {
      const length = readU32(chunk, at);
      const command = chunk[at + LENGTH_BYTES] as number;
      if (
        runs &&
        command === SUBMIT_CODE &&
        length >= MIN_REQUEST_FRAME &&
        length <= this.maxFrame &&
        end - at >= length
      ) {
        if (runCount === 0) runStart = at;
        runCount++;
        at += length;
        frames++;
        continue;
      }
      if (runCount > 0) {
        sink.submitRun?.(chunk, runStart, at, runCount);
        runCount = 0;
        if (this.failure) return frames;
      }
      const kind = this.judge(length, command, base + at, sink);
      if (kind === UNKNOWN) return frames;
      if (end - at < length) break;
      this.emit(chunk, at, length, kind, true, sink);
      at += length;
      frames++;
    }
    if (runCount > 0) sink.submitRun?.(chunk, runStart, at, runCount);

    if (at < end) {
      this.heldOffset = base + at;
      this.fill(chunk, at, sink);
    }
    return frames;
  }

  /**
   * Drops an unfinished frame (the connection closed mid-frame; a truncated frame is not
   * delivered). Returns how many bytes were dropped.
   */
  discard(): number {
    const dropped = this.heldLength;
    this.heldLength = 0;
    this.heldFrameLength = 0;
    return dropped;
  }

  /**
   * Copies bytes of `chunk` from `from` into the held frame: first up to its 5 header bytes,
   * judging the length as soon as 4 are in and the command at 5, then the body, never past
   * the end of the frame. Returns where it stopped in `chunk`.
   */
  private fill(chunk: Uint8Array, from: number, sink: FrameSink): number {
    let at = from;
    const end = chunk.length;
    if (this.heldFrameLength === 0) {
      if (this.held.length < HEADER_BYTES) this.held = new Uint8Array(MIN_HELD_CAPACITY);
      const held = this.held;
      while (this.heldLength < HEADER_BYTES && at < end)
        held[this.heldLength++] = chunk[at++] as number;
      if (this.heldLength < LENGTH_BYTES) return at;
      const length = readU32(held, 0);
      if (!this.lengthFits(length, this.heldOffset, sink)) return end;
      if (this.heldLength < HEADER_BYTES) return at;
      const kind = this.judge(length, held[LENGTH_BYTES] as number, this.heldOffset, sink);
      if (kind === UNKNOWN) return end;
      this.heldFrameLength = length;
      this.heldKind = kind;
      if (held.length < length) {
        // Sized from a length already checked against maxFrame, so a peer cannot inflate it.
        const grown = new Uint8Array(Math.max(length, MIN_HELD_CAPACITY));
        grown.set(held.subarray(0, this.heldLength));
        this.held = grown;
      }
    }
    const take = Math.min(this.heldFrameLength - this.heldLength, end - at);
    if (take > 0) {
      this.held.set(
        at === 0 && take === end ? chunk : chunk.subarray(at, at + take),
        this.heldLength,
      );
      this.heldLength += take;
      at += take;
    }
    return at;
  }

  /** Checks totalLength alone: what 4 bytes can tell. Fails the decoder if it is out of range. */
  private lengthFits(length: number, offset: number, sink: FrameSink): boolean {
    if (length < HEADER_BYTES) {
      this.fail(
        FrameErrorCode.TooShort,
        `totalLength ${length} is below ${HEADER_BYTES}`,
        offset,
        length,
        -1,
        sink,
      );
      return false;
    }
    if (length > this.maxFrame) {
      this.fail(
        FrameErrorCode.TooLong,
        `totalLength ${length} is above the ${this.maxFrame} B frame limit`,
        offset,
        length,
        -1,
        sink,
      );
      return false;
    }
    return true;
  }

  /**
   * Judges a complete header: returns the frame's kind, or UNKNOWN after failing the decoder.
   * Order: the length (as lengthFits), then the command, then the length the command needs.
   */
  private judge(length: number, command: number, offset: number, sink: FrameSink): number {
    if (!this.lengthFits(length, offset, sink)) return UNKNOWN;
    const kind = this.kinds[command] as number;
    if (kind === CONN || kind === SUBMIT) {
      if (length >= MIN_REQUEST_FRAME) return kind;
    } else if (kind !== UNKNOWN && this.acceptAcks && length === ACK_FRAME_BYTES) {
      return kind;
    }
    // Only a bad frame gets here: the reason strings are built off the hot path.
    const name = KIND_NAMES[kind as 0];
    const hex = `0x${command.toString(16).padStart(2, "0")}`;
    if (kind === UNKNOWN) {
      const reason = `unknown commandID ${hex} (${this.codes} codes)`;
      this.fail(FrameErrorCode.UnknownCommand, reason, offset, length, command, sink);
    } else if (kind === CONN || kind === SUBMIT) {
      const reason = `${name} body of ${length - HEADER_BYTES} B is shorter than its ${ID_BYTES}-byte ID`;
      this.fail(FrameErrorCode.ShortId, reason, offset, length, command, sink);
    } else if (!this.acceptAcks) {
      const reason = `${name} (${hex}) sent by a client: only the server sends acks`;
      this.fail(FrameErrorCode.UnexpectedAck, reason, offset, length, command, sink);
    } else {
      const reason = `${name} totalLength ${length}, but an ack is ${ACK_FRAME_BYTES} bytes`;
      this.fail(FrameErrorCode.BadAckLength, reason, offset, length, command, sink);
    }
    return UNKNOWN;
  }

  private emit(
    bytes: Uint8Array,
    start: number,
    length: number,
    kind: number,
    stable: boolean,
    sink: FrameSink,
  ): void {
    const idStart = start + ID_OFFSET;
    const bodyStart = start + BODY_OFFSET;
    switch (kind) {
      case SUBMIT:
        sink.submit(bytes, start, start + length, idStart, bodyStart, stable);
        return;
      case CONN:
        sink.conn(bytes, start, start + length, idStart, bodyStart, stable);
        return;
      case CONN_ACK:
        sink.connAck(bytes, idStart, bytes[bodyStart] as number, stable);
        return;
      default:
        sink.submitAck(bytes, idStart, bytes[bodyStart] as number, stable);
    }
  }

  /** The held frame was emitted: the next one fills the other buffer (see FrameSink). */
  private rotate(): void {
    this.heldLength = 0;
    this.heldFrameLength = 0;
    const emitted = this.held;
    this.held = this.spare;
    this.spare = emitted.length > KEEP_HELD_CAPACITY ? EMPTY : emitted;
  }

  private fail(
    code: FrameErrorCode,
    reason: string,
    offset: number,
    length: number,
    command: number,
    sink: FrameSink,
  ): void {
    this.failure = new FrameError(code, reason, offset, length, command);
    this.heldLength = 0;
    this.heldFrameLength = 0;
    this.held = EMPTY;
    this.spare = EMPTY;
    sink.error(this.failure);
  }
}
