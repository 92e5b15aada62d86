/**
 * Request IDs of seed 003 frames: 8 opaque bytes that an ack echoes (seed section 深入协议字段:
 * "每个连接上请求包的消息流水号，顺序累加，步长为 1，循环使用", a per-connection serial number,
 * counting up by 1 and wrapping). The seed's clients write it as 8 ASCII digits, `%08d`.
 *
 * The relay needs IDs of its own when a line publisher's message goes out to a frame
 * subscriber as a Submit (issue 12: "a line message gets a relay-assigned ID (per-publisher
 * counter, 8 ASCII digits)"). FrameIdCounter makes them without allocating.
 */

import { ID_BYTES } from "./frame-wire.ts";

/** An ID as the encoders take it: 8 bytes, or a string of 8 characters below U+0100. */
export type FrameIdInput = Uint8Array | string;

/**
 * The 8 bytes of an ID. A string is taken one byte per character (Latin-1, the inverse of
 * `idText`), so "00000001" is the seed's first ID.
 * @throws RangeError if the ID is not 8 bytes, or a character is above U+00FF.
 */
export function frameId(id: FrameIdInput): Uint8Array {
  if (id.length !== ID_BYTES) {
    throw new RangeError(`a frame ID is ${ID_BYTES} bytes, got ${id.length}`);
  }
  if (typeof id !== "string") return id;
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) {
    const code = id.charCodeAt(i);
    if (code > 0xff) throw new RangeError(`a frame ID is bytes: ${JSON.stringify(id)} is not`);
    out[i] = code;
  }
  return out;
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** IDs wrap after this many: 8 decimal digits. */
export const ID_SPACE = 100_000_000;

/**
 * A per-publisher counter of relay-assigned IDs: `00000001`, `00000002`, … `99999999`,
 * `00000000`, `00000001`, … (wraps at 10^8, as the seed's serial numbers "循环使用").
 *
 * Kept as ASCII digits and incremented in place, so `write` is an 8-byte copy plus a carry,
 * with no division and no string per message.
 */
export class FrameIdCounter {
  private readonly digits = new Uint8Array(ID_BYTES);

  /** @param first the first ID handed out, taken modulo 10^8 (default 1, like the seed's client). */
  constructor(first = 1) {
    let value = ((Math.trunc(first) % ID_SPACE) + ID_SPACE) % ID_SPACE;
    for (let i = ID_BYTES - 1; i >= 0; i--) {
      this.digits[i] = DIGIT_0 + (value % 10);
      value = Math.floor(value / 10);
    }
  }

  /** The next ID as text, without taking it. */
  peek(): string {
    return String.fromCharCode(...this.digits);
  }

  /**
   * Writes the next ID into `target` at `offset` and advances. Returns `offset + 8`.
   * @throws RangeError if fewer than 8 bytes are left in `target`.
   */
  write(target: Uint8Array, offset: number): number {
    if (offset + ID_BYTES > target.length) {
      throw new RangeError(`no room for an ID at ${offset} in ${target.length} bytes`);
    }
    const digits = this.digits;
    // A byte loop: typed-array set() costs more than 8 single-byte stores.
    for (let i = 0; i < ID_BYTES; i++) target[offset + i] = digits[i] as number;
    this.advance();
    return offset + ID_BYTES;
  }

  /** Takes the next ID as a fresh 8-byte array (tests, the SDK). */
  next(): Uint8Array<ArrayBuffer> {
    const id = this.digits.slice();
    this.advance();
    return id;
  }

  private advance(): void {
    const digits = this.digits;
    for (let i = ID_BYTES - 1; i >= 0; i--) {
      if ((digits[i] as number) < DIGIT_9) {
        digits[i] = (digits[i] as number) + 1;
        return;
      }
      digits[i] = DIGIT_0; // carry; past 99999999 every digit wraps to 0
    }
  }
}
