/**
 * The backplane's encoding: what one relay node publishes to NATS, version 1. Pure: bytes
 * in, bytes out, no I/O.
 *
 * One NATS message carries one batch of messages of one node, as seed 003 Submit frames (the
 * relay's frame batch, byte for byte) behind a 22-byte header. Every integer is big-endian:
 *
 * ```text
 * offset  size  field
 * 0       1     version u8 = 1 (a receiver drops any other version, counted as malformed)
 * 1       1     flags u8 = 0 (reserved; a receiver drops a message with a flag it does not know)
 * 2       8     node id: the sending node's --node-id (64 bits)
 * 10      8     before u64: messages this node published to NATS before this batch
 * 18      4     count u32: Submit frames in this batch (at least 1)
 * 22      n     count Submit frames: u32 totalLength | 0x02 | 8-byte ID | payload
 * ```
 *
 * `before` lets a receiver see loss: per sending node it expects the next batch to start where
 * the last one ended (`before + count`); a larger `before` means the messages in between were
 * lost on the way (a gap). A sender that drops a batch itself (NATS not connected) does not
 * advance its count, so those messages are not a gap: the sender counts them.
 */
import { BODY_OFFSET, readU32, SUBMIT, writeU32 } from "../protocol/frame-codec.ts";

export const BACKPLANE_VERSION = 1;
/** Bytes of the header before the frames. */
export const HEADER_BYTES = 22;
/** Bytes of a node id. */
export const NODE_ID_BYTES = 8;
const TWO_32 = 2 ** 32;

/** A node id as 16 lowercase hex digits. */
export function nodeIdText(bytes: Uint8Array, at = 2): string {
  let text = "";
  for (let i = at; i < at + NODE_ID_BYTES; i++) {
    text += (bytes[i] as number).toString(16).padStart(2, "0");
  }
  return text;
}

/** 16 hex digits to the 8 bytes of a node id. @throws Error when it is not 16 hex digits. */
export function parseNodeId(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{16}$/.test(text)) {
    throw new Error(`'${text}' is not a node id (16 hex digits, e.g. 3f9a0c12d4e5b678)`);
  }
  const bytes = new Uint8Array(NODE_ID_BYTES);
  for (let i = 0; i < NODE_ID_BYTES; i++) {
    bytes[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}

/** A random node id (16 hex digits). */
export function randomNodeId(): string {
  return nodeIdText(crypto.getRandomValues(new Uint8Array(NODE_ID_BYTES)), 0);
}

/**
 * Writes a header at `target[0..22)`: this node's id, the messages it published before this
 * batch (an integer below 2^53), and the messages in it.
 */
export function writeHeader(
  target: Uint8Array,
  nodeId: Uint8Array,
  before: number,
  count: number,
): void {
  target[0] = BACKPLANE_VERSION;
  target[1] = 0;
  target.set(nodeId, 2);
  writeU32(target, 10, Math.floor(before / TWO_32));
  writeU32(target, 14, before >>> 0);
  writeU32(target, 18, count);
}

/** A decoded header. `source` is the node id as 8 Latin-1 characters (a cheap map key). */
export interface BatchHeader {
  source: string;
  before: number;
  count: number;
}

/** Why a NATS message on the subject is not a batch (it is dropped and counted). */
export type Malformed =
  | "short"
  | "version"
  | "flags"
  | "empty"
  | "frame_length"
  | "frame_command"
  | "frame_count";

/**
 * Reads the header of `bytes`, or says why it is not a version 1 batch. The frames are
 * checked by `forEachSubmit`.
 */
export function readHeader(bytes: Uint8Array): BatchHeader | Malformed {
  if (bytes.length < HEADER_BYTES) return "short";
  if (bytes[0] !== BACKPLANE_VERSION) return "version";
  if (bytes[1] !== 0) return "flags";
  const count = readU32(bytes, 18);
  if (count === 0) return "empty";
  let source = "";
  for (let i = 2; i < 2 + NODE_ID_BYTES; i++) source += String.fromCharCode(bytes[i] as number);
  return { source, before: readU32(bytes, 10) * TWO_32 + readU32(bytes, 14), count };
}

/** The node id of a header's `source` key, as 16 hex digits. */
export function sourceText(source: string): string {
  let text = "";
  for (let i = 0; i < source.length; i++) {
    text += source.charCodeAt(i).toString(16).padStart(2, "0");
  }
  return text;
}

/** The 8-byte key `readHeader` gives for a node id. */
export function sourceKey(nodeId: Uint8Array): string {
  return String.fromCharCode(...nodeId);
}

/**
 * Checks that `bytes[22..]` is exactly `count` whole Submit frames. Returns undefined when it
 * is, or why not. Called before anything of the batch is delivered, so a bad batch is
 * dropped whole.
 */
export function checkFrames(bytes: Uint8Array, count: number): Malformed | undefined {
  let at = HEADER_BYTES;
  let frames = 0;
  while (at < bytes.length) {
    if (bytes.length - at < BODY_OFFSET) return "frame_length";
    const length = readU32(bytes, at);
    if (length < BODY_OFFSET || length > bytes.length - at) return "frame_length";
    if (bytes[at + 4] !== SUBMIT) return "frame_command";
    at += length;
    frames++;
  }
  return frames === count ? undefined : "frame_count";
}

/**
 * The frames of a checked batch: calls `each(frameStart, frameEnd)` for every Submit frame
 * (its ID at frameStart + 5, its payload from frameStart + 13).
 */
export function forEachFrame(
  bytes: Uint8Array,
  each: (frameStart: number, frameEnd: number) => void,
): void {
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const end = at + readU32(bytes, at);
    each(at, end);
    at = end;
  }
}

/**
 * Where to cut `length` bytes of whole frames (`bytes[start, start + length)`) so that every
 * piece plus the header fits `maxPayload`: the end offsets of the pieces and the frames in
 * each. A frame that does not fit on its own is its own piece with `fits` false.
 */
export interface Piece {
  start: number;
  end: number;
  frames: number;
  fits: boolean;
}

export function splitFrames(
  bytes: Uint8Array,
  start: number,
  length: number,
  maxPayload: number,
): Piece[] {
  const room = maxPayload - HEADER_BYTES;
  const end = start + length;
  const pieces: Piece[] = [];
  let pieceStart = start;
  let frames = 0;
  let at = start;
  while (at < end) {
    const frameLength = readU32(bytes, at);
    if (frameLength > room) {
      if (frames > 0) pieces.push({ start: pieceStart, end: at, frames, fits: true });
      pieces.push({ start: at, end: at + frameLength, frames: 1, fits: false });
      at += frameLength;
      pieceStart = at;
      frames = 0;
      continue;
    }
    if (at + frameLength - pieceStart > room) {
      pieces.push({ start: pieceStart, end: at, frames, fits: true });
      pieceStart = at;
      frames = 0;
    }
    at += frameLength;
    frames++;
  }
  if (frames > 0) pieces.push({ start: pieceStart, end: at, frames, fits: true });
  return pieces;
}
