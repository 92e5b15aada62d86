/**
 * The bench's messages in seed 003's frames (`--framing frame`, issue 12), built on the
 * relay's own codec (src/protocol/frame-codec.ts):
 *
 *   Submit(ID = the publisher's seq as %08d, payload = the line message, newline included)
 *
 * so a frame carries exactly the `--msg-size` bytes a line would (plus the 13-byte header),
 * and the subscriber reads the payload's leading fields with the line decoder (message.ts).
 * A Submit's ID is its seq, so a subscriber also checks that the relay passed the ID through
 * unchanged, and a publisher knows which Submit an ack answers.
 *
 * Pure: bytes in, bytes out.
 */
import {
  BODY_OFFSET,
  FrameDecoder,
  type FrameError,
  type FrameIdCounter,
  type FrameSink,
  ID_BYTES,
  ID_OFFSET,
  ID_SPACE,
  LENGTH_BYTES,
  SUBMIT,
  writeU32,
} from "../../src/protocol/frame-codec.ts";
import { encodeMessage, NEWLINE } from "./message.ts";

/** Bytes a Submit frame adds to its payload: totalLength, commandID, ID. */
export const SUBMIT_OVERHEAD = BODY_OFFSET;

/**
 * Writes Submit(next ID of `ids`, message `pubId,seq,stamp,` padded to `msgSize`) at `pos`
 * and returns the position after it. `buf` needs `SUBMIT_OVERHEAD` bytes more than the
 * message (see encodeMessage).
 */
export function encodeSubmitMessage(
  buf: Uint8Array,
  pos: number,
  ids: FrameIdCounter,
  pubId: number,
  seq: number,
  stampMs: number,
  msgSize: number,
): number {
  const end = encodeMessage(buf, pos + BODY_OFFSET, pubId, seq, stampMs, msgSize);
  writeU32(buf, pos, end - pos);
  buf[pos + LENGTH_BYTES] = SUBMIT;
  ids.write(buf, pos + ID_OFFSET);
  return end;
}

/** Whether the 8 ID bytes at `idStart` are `seq` as %08d (modulo 10^8). */
export function idIsSeq(bytes: Uint8Array, idStart: number, seq: number): boolean {
  let rest = seq % ID_SPACE;
  for (let i = idStart + ID_BYTES - 1; i >= idStart; i--) {
    if (bytes[i] !== 48 + (rest % 10)) return false;
    rest = Math.floor(rest / 10);
  }
  return true;
}

/** The end of the message in a payload `[payloadStart, frameEnd)`: its trailing newline excluded. */
export function messageEnd(bytes: Uint8Array, payloadStart: number, frameEnd: number): number {
  return frameEnd > payloadStart && bytes[frameEnd - 1] === NEWLINE ? frameEnd - 1 : frameEnd;
}

/**
 * Called for each Submit a subscriber receives: the message `bytes[start, end)` (newline
 * excluded) and its frame's ID at `idStart`. The bytes are valid during the call only.
 */
export type SubmitMessageSink = (
  bytes: Uint8Array,
  start: number,
  end: number,
  idStart: number,
) => void;

/**
 * A subscriber's frame reader: cuts the stream into Submit frames with the relay's decoder
 * and hands every message (or, in light mode, one in `every`) to `onMessage`. `count` counts
 * every Submit; anything else the relay sends (an ack, a bad frame) is counted in `errors`
 * and, for a bad frame, ends the stream (the decoder stops: what follows is lost).
 */
export class SubmitReader implements FrameSink {
  count = 0;
  errors = 0;
  /** The decoder's error, when the stream broke. */
  failure: FrameError | undefined;
  private nextSampleAt = 1;
  private readonly decoder: FrameDecoder;

  /**
   * @param every hand over one message in `every` (1: all of them).
   * @param maxFrame the largest frame accepted (the relay's --max-frame is 1 MiB by default).
   */
  constructor(
    readonly every: number,
    private readonly onMessage: SubmitMessageSink,
    maxFrame = 64 * 1024 * 1024,
  ) {
    if (!(every >= 1)) throw new RangeError(`sample interval must be >= 1, got ${every}`);
    // Subscribers get no acks; with acceptAcks false one is an error, which is what it is.
    this.decoder = new FrameDecoder({ codes: "spec", maxFrame, acceptAcks: false });
  }

  /** Feeds one chunk; returns the Submits it completed. */
  push(chunk: Uint8Array): number {
    const before = this.count;
    this.decoder.push(chunk, this);
    return this.count - before;
  }

  submit(
    bytes: Uint8Array,
    _frameStart: number,
    frameEnd: number,
    idStart: number,
    payloadStart: number,
  ): void {
    this.count++;
    if (this.count < this.nextSampleAt) return;
    this.nextSampleAt = this.count + this.every;
    this.onMessage(bytes, payloadStart, messageEnd(bytes, payloadStart, frameEnd), idStart);
  }

  conn(): void {
    this.errors++;
  }
  connAck(): void {
    this.errors++;
  }
  submitAck(): void {
    this.errors++;
  }
  error(error: FrameError): void {
    this.errors++;
    this.failure = error;
  }
}
