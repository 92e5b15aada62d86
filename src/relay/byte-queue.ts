/**
 * A FIFO of bytes kept in one contiguous buffer, so whatever is queued can be handed to the
 * kernel in a single write. Used for each subscriber's backlog: bytes the socket did not take.
 *
 * Pure: no socket. Appends copy; the buffer grows by doubling, is compacted in place when the
 * free space is at the front, and is released when the queue empties after growing large, so
 * an idle subscriber holds no buffer at all.
 */

const EMPTY = new Uint8Array(0);
const MIN_CAPACITY = 4096;
/** An emptied buffer larger than this is given back rather than kept for reuse. */
const KEEP_CAPACITY = 256 * 1024;

export class ByteQueue {
  private buffer: Uint8Array = EMPTY;
  private head = 0;
  private tail = 0;

  /** Bytes queued. */
  get length(): number {
    return this.tail - this.head;
  }

  /** Bytes of memory held, queued or not (for accounting). */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Appends bytes `[start, end)` of `source`. */
  append(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    if (this.tail + count > this.buffer.length) this.makeRoom(count);
    this.buffer.set(source.subarray(start, end), this.tail);
    this.tail += count;
  }

  /**
   * The buffer holding the queued bytes and where they start; they run for `length` bytes.
   * Valid until the next append or consume. Used as `socket.write(buffer, offset, length)`.
   */
  get buffered(): Uint8Array {
    return this.buffer;
  }
  get offset(): number {
    return this.head;
  }

  /** Removes `count` bytes from the front (they were written). */
  consume(count: number): void {
    this.head += Math.min(count, this.length);
    if (this.head === this.tail) this.clear();
  }

  /** Empties the queue; returns how many bytes it held. */
  clear(): number {
    const dropped = this.length;
    this.head = 0;
    this.tail = 0;
    if (this.buffer.length > KEEP_CAPACITY) this.buffer = EMPTY;
    return dropped;
  }

  private makeRoom(count: number): void {
    const live = this.length;
    if (live + count <= this.buffer.length && live <= this.buffer.length / 2) {
      // Enough space once the consumed front is reclaimed: slide the live bytes down.
      this.buffer.copyWithin(0, this.head, this.tail);
    } else {
      const grown = new Uint8Array(Math.max(MIN_CAPACITY, this.buffer.length * 2, live + count));
      grown.set(this.buffer.subarray(this.head, this.tail));
      this.buffer = grown;
    }
    this.head = 0;
    this.tail = live;
  }
}
