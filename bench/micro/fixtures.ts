/**
 * Prebuilt input for the micro benches: what a relay reads from a bench
 * publisher (80-byte article messages, many per chunk). Built once, outside
 * the timed functions, so the benches measure the hot paths alone.
 */
import { encodeMessage } from "../lib/message.ts";

export const MESSAGE_BYTES = 80;

/** `count` consecutive 80-byte messages from publisher 0, stamped at a fixed time. */
export function messages(count: number, crlf = false): Uint8Array {
  const out = new Uint8Array(count * (MESSAGE_BYTES + (crlf ? 1 : 0)));
  let at = 0;
  for (let seq = 1; seq <= count; seq++) {
    at = encodeMessage(out, at, 0, seq, 1_700_000_000_000.5, MESSAGE_BYTES);
    if (crlf) {
      out[at - 1] = 13;
      out[at++] = 10;
    }
  }
  return out.subarray(0, at);
}

/** A 64 KiB read of whole lines: what the relay usually gets at saturation. */
export const WHOLE_LINES_64K = messages(Math.floor((64 * 1024) / MESSAGE_BYTES));

/** The same bytes cut into 1460-byte pieces (one TCP segment each): lines straddle chunks. */
export const SEGMENTS_1460: Uint8Array[] = (() => {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < WHOLE_LINES_64K.length; at += 1460) {
    pieces.push(WHOLE_LINES_64K.slice(at, Math.min(at + 1460, WHOLE_LINES_64K.length)));
  }
  return pieces;
})();

export const CRLF_LINES_64K = messages(Math.floor((64 * 1024) / (MESSAGE_BYTES + 1)), true);

/** Messages in WHOLE_LINES_64K, to turn a time per chunk into a time per message. */
export const MESSAGES_PER_64K = Math.floor((64 * 1024) / MESSAGE_BYTES);
