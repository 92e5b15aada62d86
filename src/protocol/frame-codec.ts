/**
 * The codec of seed 003's framed protocol, as issue 12 brings it into the relay: one import
 * for the relay and the client SDK. Pure throughout (no socket, no timer, no Promise).
 *
 * - frame-wire.ts: the byte layout, the `spec`/`article` command code sets, FrameError.
 * - frame-decoder.ts: FrameDecoder, a chunk-fed state machine calling a FrameSink (declared
 *   in frame-sink.ts) per frame, zero-copy when a frame lies in one chunk, judging each
 *   header before buffering its body.
 * - frame-encoder.ts: `write*` into a caller's buffer, `encode*` into fresh arrays, AckBatch.
 * - frame-id.ts: IDs from strings, and FrameIdCounter for relay-assigned IDs.
 *
 * @example Round trip, server side
 * ```ts
 * const decoder = new FrameDecoder({ codes: "spec", maxFrame: 1 << 20, acceptAcks: false });
 * const acks = new AckBatch("spec");
 * decoder.push(encodeSubmit("00000001", "hello"), {
 *   submit: (bytes, _start, _end, idStart) => acks.submitAck(bytes, idStart, ACK_OK),
 *   conn: (bytes, _start, _end, idStart) => acks.connAck(bytes, idStart, ACK_OK),
 *   connAck: () => {},
 *   submitAck: () => {},
 *   error: (error) => console.log(error.code),
 * });
 * acks.take(); // 00 00 00 0e 82 30 30 30 30 30 30 30 31 00
 * ```
 */

export { FrameDecoder, type FrameDecoderOptions, type FrameSink } from "./frame-decoder.ts";
export {
  AckBatch,
  encodeConn,
  encodeConnAck,
  encodeSubmit,
  encodeSubmitAck,
  requestFrameLength,
  writeConn,
  writeConnAck,
  writeHeader,
  writeSubmit,
  writeSubmitAck,
} from "./frame-encoder.ts";
export { FrameIdCounter, type FrameIdInput, frameId, ID_SPACE } from "./frame-id.ts";
export {
  ACK_FAILED,
  ACK_FRAME_BYTES,
  ACK_OK,
  type AckResult,
  BODY_OFFSET,
  CONN,
  type CommandCodes,
  FRAME_CODES,
  type FrameCodes,
  FrameError,
  FrameErrorCode,
  HEADER_BYTES,
  ID_BYTES,
  ID_OFFSET,
  idText,
  LENGTH_BYTES,
  MAX_U32,
  MIN_REQUEST_FRAME,
  readU32,
  SUBMIT,
  writeU32,
} from "./frame-wire.ts";
