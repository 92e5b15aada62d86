/**
 * Writes seed 003 frames (layout in frame-wire.ts). Pure: bytes in, bytes out.
 *
 * Two layers:
 * - `write*` put one frame into a caller's buffer at an offset and return the offset after it,
 *   taking the ID and body as ranges of existing buffers, so the relay can build a batch of
 *   frames for many messages with no allocation per frame.
 * - `encode*` return a fresh Uint8Array per frame, for tests and the client SDK.
 *
 * AckBatch collects the acks for one read into one buffer: issue 12 requires acks to leave
 * "in the same event-loop turn as their Submits, batched (one write per read, never one per
 * ack)", unlike the seed's server, which holds them until 4 KiB of them fill its bufio.Writer.
 */

import { type FrameIdInput, frameId } from "./frame-id.ts";
import {
  ACK_FRAME_BYTES,
  type AckResult,
  BODY_OFFSET,
  CONN,
  FRAME_CODES,
  type FrameCodes,
  HEADER_BYTES,
  ID_BYTES,
  MAX_U32,
  SUBMIT,
  writeU32,
} from "./frame-wire.ts";

const EMPTY = new Uint8Array(0);
/**
 * Bodies up to this many bytes are copied byte by byte: a typed-array set() (plus the
 * subarray a range needs) costs about as much as 40-70 single-byte stores under Bun 1.4.
 */
const SMALL_COPY = 32;
const encoder = new TextEncoder();

/** The size of a Submit (or Conn) frame carrying `bodyLength` bytes of payload (or token). */
export function requestFrameLength(bodyLength: number): number {
  return BODY_OFFSET + bodyLength;
}

/**
 * Writes a frame header: totalLength (5 + `bodyLength`) and `command`. Returns `offset + 5`,
 * where the body goes.
 * @throws RangeError if the frame would not fit in `target` or its length in a u32.
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  command: number,
  bodyLength: number,
): number {
  const total = HEADER_BYTES + bodyLength;
  if (total > MAX_U32) throw new RangeError(`a frame of ${total} B does not fit a u32 length`);
  if (offset + total > target.length) {
    throw new RangeError(`a ${total} B frame at ${offset} does not fit in ${target.length} bytes`);
  }
  writeU32(target, offset, total);
  target[offset + 4] = command;
  return offset + HEADER_BYTES;
}

/** Writes one request frame (Conn or Submit): header, the ID at `id[idStart..+8]`, the body. */
function writeRequest(
  target: Uint8Array,
  offset: number,
  command: number,
  id: Uint8Array,
  idStart: number,
  body: Uint8Array,
  bodyStart: number,
  bodyEnd: number,
): number {
  const length = bodyEnd - bodyStart;
  if (bodyStart < 0 || length < 0 || bodyEnd > body.length) {
    throw new RangeError(`no body [${bodyStart}, ${bodyEnd}) in ${body.length} bytes`);
  }
  checkId(id, idStart);
  const at = copyId(target, writeHeader(target, offset, command, ID_BYTES + length), id, idStart);
  if (length <= SMALL_COPY) {
    for (let i = 0; i < length; i++) target[at + i] = body[bodyStart + i] as number;
  } else {
    target.set(length === body.length ? body : body.subarray(bodyStart, bodyEnd), at);
  }
  return at + length;
}

/**
 * Writes a Submit frame (0x02, both code sets): ID `id[idStart..idStart+8)` and payload
 * `payload[payloadStart..payloadEnd)`, which may be empty. Returns the offset after the frame
 * (`offset + 13 + payload bytes`).
 * @throws RangeError, before writing anything, if the frame does not fit in `target`, or the
 * ID or payload range lies outside its array.
 */
export function writeSubmit(
  target: Uint8Array,
  offset: number,
  id: Uint8Array,
  idStart: number,
  payload: Uint8Array,
  payloadStart = 0,
  payloadEnd = payload.length,
): number {
  return writeRequest(target, offset, SUBMIT, id, idStart, payload, payloadStart, payloadEnd);
}

/**
 * Writes a Conn frame (0x01): ID, then the auth token `token[tokenStart..tokenEnd)` (issue
 * 12's extension; omit it for the seed's bare Conn). Returns the offset after the frame.
 * @throws RangeError as writeSubmit.
 */
export function writeConn(
  target: Uint8Array,
  offset: number,
  id: Uint8Array,
  idStart: number,
  token: Uint8Array = EMPTY,
  tokenStart = 0,
  tokenEnd = token.length,
): number {
  return writeRequest(target, offset, CONN, id, idStart, token, tokenStart, tokenEnd);
}

/**
 * Writes a ConnAck (spec 0x81, article 0x80): 14 bytes, the ID `id[idStart..+8)` echoed from
 * the Conn and `result` (0 success, 1 failure). Returns `offset + 14`.
 * @throws RangeError, before writing anything, if 14 bytes do not fit in `target` or the ID
 * range lies outside `id`.
 */
export function writeConnAck(
  target: Uint8Array,
  offset: number,
  codes: FrameCodes,
  id: Uint8Array,
  idStart: number,
  result: AckResult,
): number {
  return writeAck(target, offset, FRAME_CODES[codes].connAck, id, idStart, result);
}

/** Writes a SubmitAck (spec 0x82, article 0x81); as writeConnAck. */
export function writeSubmitAck(
  target: Uint8Array,
  offset: number,
  codes: FrameCodes,
  id: Uint8Array,
  idStart: number,
  result: AckResult,
): number {
  return writeAck(target, offset, FRAME_CODES[codes].submitAck, id, idStart, result);
}

function writeAck(
  target: Uint8Array,
  offset: number,
  command: number,
  id: Uint8Array,
  idStart: number,
  result: AckResult,
): number {
  checkId(id, idStart);
  const at = copyId(target, writeHeader(target, offset, command, ID_BYTES + 1), id, idStart);
  target[at] = result;
  return at + 1;
}

function checkId(id: Uint8Array, idStart: number): void {
  if (idStart < 0 || idStart + ID_BYTES > id.length) {
    throw new RangeError(`no ${ID_BYTES}-byte ID at ${idStart} in ${id.length} bytes`);
  }
}

/** Copies 8 ID bytes byte by byte: cheaper than a subarray and set() for 8 bytes. */
function copyId(target: Uint8Array, at: number, id: Uint8Array, idStart: number): number {
  for (let i = 0; i < ID_BYTES; i++) target[at + i] = id[idStart + i] as number;
  return at + ID_BYTES;
}

function asBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** A Submit frame in a fresh array. A string payload is sent as UTF-8. */
export function encodeSubmit(
  id: FrameIdInput,
  payload: Uint8Array | string = EMPTY,
): Uint8Array<ArrayBuffer> {
  const body = asBytes(payload);
  const out = new Uint8Array(requestFrameLength(body.length));
  writeSubmit(out, 0, frameId(id), 0, body);
  return out;
}

/** A Conn frame in a fresh array, with an optional auth token (UTF-8 if a string). */
export function encodeConn(
  id: FrameIdInput,
  token: Uint8Array | string = EMPTY,
): Uint8Array<ArrayBuffer> {
  const body = asBytes(token);
  const out = new Uint8Array(requestFrameLength(body.length));
  writeConn(out, 0, frameId(id), 0, body);
  return out;
}

/** A ConnAck frame in a fresh array, with the ack codes of `codes` (default: the seed's table). */
export function encodeConnAck(
  id: FrameIdInput,
  result: AckResult,
  codes: FrameCodes = "spec",
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(ACK_FRAME_BYTES);
  writeConnAck(out, 0, codes, frameId(id), 0, result);
  return out;
}

/** A SubmitAck frame in a fresh array; as encodeConnAck. */
export function encodeSubmitAck(
  id: FrameIdInput,
  result: AckResult,
  codes: FrameCodes = "spec",
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(ACK_FRAME_BYTES);
  writeSubmitAck(out, 0, codes, frameId(id), 0, result);
  return out;
}

/** An AckBatch grown past this is shrunk back when cleared. */
const KEEP_BATCH_CAPACITY = 64 * 1024;

/**
 * The acks one read produces, appended to one growing buffer so the server answers a read
 * with one socket write (issue 12). Keeps the order of the appends, which is the order of the
 * requests: "Acks keep Submit order".
 *
 * Typical use in the server's data handler:
 * ```ts
 * decoder.push(chunk, sink);              // the sink calls batch.submitAck(bytes, idStart, 0)
 * if (batch.acks > 0) {
 *   const written = socket.write(batch.view());
 *   if (written < batch.byteLength) keep(batch.view().slice(Math.max(written, 0)));
 *   batch.clear();
 * }
 * ```
 */
export class AckBatch {
  private buffer: Uint8Array;
  private length = 0;
  private count = 0;
  private readonly connAckCode: number;
  private readonly submitAckCode: number;

  /**
   * @param codes the ack codes written (issue 12's `--frame-codes`).
   * @param initialCapacity bytes reserved at first, grown by doubling as needed.
   */
  constructor(
    codes: FrameCodes,
    private readonly initialCapacity = 64 * ACK_FRAME_BYTES,
  ) {
    this.connAckCode = FRAME_CODES[codes].connAck;
    this.submitAckCode = FRAME_CODES[codes].submitAck;
    this.buffer = new Uint8Array(initialCapacity);
  }

  /** Acks appended since the last clear. */
  get acks(): number {
    return this.count;
  }

  /** Bytes appended since the last clear (14 per ack). */
  get byteLength(): number {
    return this.length;
  }

  /** Appends ConnAck(`id[idStart..+8)`, `result`). The ID may lie in a decoder's buffer. */
  connAck(id: Uint8Array, idStart: number, result: AckResult): void {
    this.append(this.connAckCode, id, idStart, result);
  }

  /** Appends SubmitAck(`id[idStart..+8)`, `result`). */
  submitAck(id: Uint8Array, idStart: number, result: AckResult): void {
    this.append(this.submitAckCode, id, idStart, result);
  }

  /**
   * The acks appended so far, as a view of the batch's buffer: valid until the next append
   * or clear (copy what a partial write leaves over).
   */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** The acks appended so far in a fresh array the caller owns; the batch is cleared. */
  take(): Uint8Array<ArrayBuffer> {
    const out = this.buffer.slice(0, this.length);
    this.clear();
    return out;
  }

  /** Forgets the appended acks (after they were written), keeping the buffer unless it grew large. */
  clear(): void {
    this.length = 0;
    this.count = 0;
    if (this.buffer.length > KEEP_BATCH_CAPACITY)
      this.buffer = new Uint8Array(this.initialCapacity);
  }

  /**
   * Appends SubmitAck(ID, `result`) for each of the `count` Submit frames lying back to back
   * in `frames[start, end)` (a run from the decoder's `submitRun`), in order.
   */
  submitAckRun(
    frames: Uint8Array,
    start: number,
    end: number,
    count: number,
    result: AckResult,
  ): void {
    const needed = this.length + count * ACK_FRAME_BYTES;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, needed));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    const out = this.buffer;
    const command = this.submitAckCode;
    // DataViews move the 8-byte ID as two 32-bit words: at millions of acks a second, the
    // byte loop was a third of the relay's time (profiled, 1 -> 3 frame saturation).
    const input = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
    const output = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let at = this.length;
    // One pass over the run: each frame's length says where the next one starts.
    for (let frame = start; frame < end; frame += input.getUint32(frame)) {
      output.setUint32(at, ACK_FRAME_BYTES);
      out[at + 4] = command;
      output.setUint32(at + HEADER_BYTES, input.getUint32(frame + HEADER_BYTES));
      output.setUint32(at + HEADER_BYTES + 4, input.getUint32(frame + HEADER_BYTES + 4));
      out[at + BODY_OFFSET] = result;
      at += ACK_FRAME_BYTES;
    }
    this.length = at;
    this.count += count;
  }

  private append(command: number, id: Uint8Array, idStart: number, result: AckResult): void {
    if (this.length + ACK_FRAME_BYTES > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, ACK_FRAME_BYTES * 16));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    checkId(id, idStart);
    // Written in place: the room was just ensured, and this runs once per Submit.
    const out = this.buffer;
    const at = this.length;
    writeU32(out, at, ACK_FRAME_BYTES);
    out[at + 4] = command;
    copyId(out, at + HEADER_BYTES, id, idStart);
    out[at + BODY_OFFSET] = result;
    this.length = at + ACK_FRAME_BYTES;
    this.count++;
  }
}
