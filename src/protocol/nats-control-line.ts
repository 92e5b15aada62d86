/**
 * The arguments of a NATS control line that cross chunks, held until their LF arrives, and
 * the max_control_line rule the NatsParser applies to them (nats-server 2.9: server/parser.go
 * keeps them in `argBuf` and checks `overMaxControlLineLimit`).
 *
 * The length that counts is nats-server's `arg`: from the first argument byte to the end of
 * the line, without the LF and without one CR right before it. This buffer decides as soon as
 * the arguments are known to be too long: more than `limit` bytes have come and the last one
 * is not a CR that the next byte could make the line's end. So a client dripping a long line
 * one byte per packet is refused after `limit + 1` or `limit + 2` bytes, and the buffer never
 * holds more than `limit + 1`. (nats-server checks at each LF and at the end of each read, so
 * this is its limit, decided no later.) Blanks between the name and the arguments do not
 * count, nor do PING's ignored bytes: nats-server neither keeps nor limits them.
 */

const CR = 0x0d;
const EMPTY = new Uint8Array(0);
/** The first size of the buffer. */
const MIN_CAPACITY = 128;

/** What hold and complete return when the arguments are over the limit. */
export const OVER_LIMIT = -1;

export class ControlLineBuffer {
  private bytes = EMPTY;
  private length = 0;
  private maxLength: number;

  /** @param limit the most argument bytes a line may have (nats-server max_control_line). */
  constructor(limit: number) {
    this.maxLength = checkedLimit(limit);
  }

  /** The most argument bytes a line may have; a new value applies to the line being held. */
  get limit(): number {
    return this.maxLength;
  }
  set limit(bytes: number) {
    this.maxLength = checkedLimit(bytes);
  }

  /** Bytes held: the arguments so far of a line whose LF has not come. */
  get heldBytes(): number {
    return this.length;
  }

  /**
   * The buffer that `complete` filled: the line's arguments are its first bytes. Reused for
   * the next line, so copy what is kept.
   */
  get line(): Uint8Array {
    return this.bytes;
  }

  /**
   * Arguments in one chunk, from `start` to the LF at `lf`: returns their length without the
   * CR before the LF (a CR that is the first argument byte stays: parser.go takes that byte
   * unread), or OVER_LIMIT.
   */
  measure(chunk: Uint8Array, start: number, lf: number): number {
    const length = lf - 1 > start && chunk[lf - 1] === CR ? lf - 1 - start : lf - start;
    return length > this.maxLength ? OVER_LIMIT : length;
  }

  /**
   * The arguments run on to the end of the chunk: keeps `chunk[from, end)`. Returns the bytes
   * now held, or OVER_LIMIT (and holds nothing) when they are already too long.
   */
  hold(chunk: Uint8Array, from: number, end: number): number {
    const length = this.length + end - from;
    if (length > this.maxLength + 1 || (length === this.maxLength + 1 && chunk[end - 1] !== CR)) {
      this.length = 0;
      return OVER_LIMIT;
    }
    this.append(chunk, from, end);
    return length;
  }

  /**
   * The held arguments end at the LF at `chunk[lf]`: appends `chunk[from, lf)` and returns the
   * arguments' length (they are `line[0, length)`), or OVER_LIMIT. Either way the buffer is
   * then empty for the next line.
   */
  complete(chunk: Uint8Array, from: number, lf: number): number {
    let length = this.length + lf - from;
    const last = lf > from ? chunk[lf - 1] : this.bytes[this.length - 1];
    if (length > 1 && last === CR) length--;
    if (length > this.maxLength) {
      this.length = 0;
      return OVER_LIMIT;
    }
    this.append(chunk, from, lf);
    this.length = 0;
    return length;
  }

  /** Drops what is held and the buffer itself (the parser stopped). */
  release(): void {
    this.bytes = EMPTY;
    this.length = 0;
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const needed = this.length + to - from;
    if (needed > this.bytes.length) {
      const doubled = Math.max(this.bytes.length * 2, MIN_CAPACITY);
      const grown = new Uint8Array(Math.max(needed, Math.min(doubled, this.maxLength + 1)));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk.subarray(from, to), this.length);
    this.length = needed;
  }
}

function checkedLimit(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new RangeError(`maxControlLine must be a positive integer, got ${bytes}`);
  }
  return bytes;
}
