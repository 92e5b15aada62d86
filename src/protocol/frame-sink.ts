/**
 * What a FrameDecoder (frame-decoder.ts) is told and what it calls: its options, and the
 * FrameSink that receives each frame as a range of bytes, never as an object.
 */
import type { FrameCodes, FrameError } from "./frame-wire.ts";

/**
 * Receives a FrameDecoder's output. Every method gets a range of `bytes`; `stable` says how
 * long the bytes stay valid, as for the line splitter's SegmentSink:
 * - `stable` true: `bytes` is the chunk that was pushed, which the decoder never writes to, so
 *   the range may be kept by reference (the relay's zero-copy fan-out).
 * - `stable` false: `bytes` is the decoder's reusable buffer (the frame crossed chunks); the
 *   range stays valid only until the next call into the decoder: copy it to keep it.
 *
 * Offsets are indices into `bytes`; `frameEnd` is exclusive.
 */
export interface FrameSink {
  /**
   * A Submit (0x02). `[frameStart, frameEnd)` is the whole frame as it came on the wire
   * (totalLength included), ready to forward to frame subscribers unchanged; the 8-byte ID is
   * at `idStart` (= frameStart + 5) and the payload is `[payloadStart, frameEnd)`
   * (payloadStart = frameStart + 13), possibly empty.
   */
  submit(
    bytes: Uint8Array,
    frameStart: number,
    frameEnd: number,
    idStart: number,
    payloadStart: number,
    stable: boolean,
  ): void;
  /**
   * A Conn (0x01), laid out as a Submit: ID at `idStart`, then the optional auth token
   * `[tokenStart, frameEnd)` (issue 12's extension; empty when the client sent none).
   */
  conn(
    bytes: Uint8Array,
    frameStart: number,
    frameEnd: number,
    idStart: number,
    tokenStart: number,
    stable: boolean,
  ): void;
  /**
   * A ConnAck (0x81, or 0x80 with article codes): the ID at `idStart` and its result byte as
   * sent (0 success; seed 003 says 1 for any failure, other values are passed on as they are).
   * Only called on a decoder built with `acceptAcks`.
   */
  connAck(bytes: Uint8Array, idStart: number, result: number, stable: boolean): void;
  /** A SubmitAck (0x82, or 0x81 with article codes); as connAck. */
  submitAck(bytes: Uint8Array, idStart: number, result: number, stable: boolean): void;
  /** The stream broke a rule: called once, after every frame before the bad one. */
  error(error: FrameError): void;
  /**
   * Optional, for hot paths: `count` whole, valid Submit frames lying back to back in the
   * pushed chunk at `[runStart, runEnd)` (always stable). When the sink has it, the decoder
   * calls it once per run instead of `submit` once per frame, in stream order with every
   * other call. Frames that cross chunks still come through `submit`.
   */
  submitRun?(bytes: Uint8Array, runStart: number, runEnd: number, count: number): void;
}

/** How a FrameDecoder judges its input. */
export interface FrameDecoderOptions {
  /** Which ack codes are on the wire (issue 12's `--frame-codes`): `spec` or `article`. */
  codes: FrameCodes;
  /**
   * The largest totalLength accepted, in bytes, its own 4 bytes included (issue 12's
   * `--max-frame`). At least 14, so every kind of frame fits; at most 2^32 - 1.
   */
  maxFrame: number;
  /**
   * Whether ConnAck and SubmitAck may arrive: true on the client side; false on the server,
   * where an ack sent by a client is an error (issue 12).
   */
  acceptAcks: boolean;
}
