/**
 * The batch of encoded messages being built for one wire format (line or frame) between two
 * deliveries. Publishers' codecs append already-encoded bytes to it as segments; the hub then
 * hands the same bytes to every subscriber of that format with one write each. The batch
 * knows nothing of framing: it is bytes and a message count.
 *
 * Zero-copy where it can be: the batch is one run of a read chunk kept by reference (the
 * usual case: a read of whole lines, or of whole frames, is one run), or that plus a large run
 * of a later chunk (the end of a carried-over message followed by a 512 KiB read: two writes,
 * no copy). Anything else is copied once into a reusable scratch buffer.
 */
import type { SegmentSink } from "../protocol/line-splitter.ts";

/**
 * Whole messages to send, in at most two parts: `bytes[start, start + length)`, then
 * `tail[tailStart, tailStart + tailLength)` when tailLength > 0. The tail is always a run of a
 * read chunk (retainable). It exists so that a large run need not be copied behind a few
 * bytes that came before it (the end of a line carried over from the previous read).
 */
export interface Batch {
  bytes: Uint8Array;
  start: number;
  length: number;
  /** The first part may be kept by reference (see Backlog). */
  retainable: boolean;
  tail: Uint8Array;
  tailStart: number;
  tailLength: number;
}

const EMPTY = new Uint8Array(0);
/**
 * A batch with a tail (a run of a read chunk kept by reference after the first part) at
 * least this long is sent as two writes instead of being copied into one: one more write per
 * subscriber costs less than copying a read of up to 512 KiB (1 -> 3 saturation: +6%
 * delivered). A smaller one is copied into one write when the batch is taken.
 */
const TAIL_MIN_BYTES = 32 * 1024;

/** A batch of no bytes (a fresh object: batches are filled in place). */
export function emptyBatch(): Batch {
  return {
    bytes: EMPTY,
    start: 0,
    length: 0,
    retainable: false,
    tail: EMPTY,
    tailStart: 0,
    tailLength: 0,
  };
}

/** Forgets a batch's bytes (so delivered chunks can be collected) and empties it. */
export function clearBatch(batch: Batch): void {
  batch.bytes = EMPTY;
  batch.start = 0;
  batch.length = 0;
  batch.retainable = false;
  batch.tail = EMPTY;
  batch.tailStart = 0;
  batch.tailLength = 0;
}

export class BatchBuilder implements SegmentSink {
  /** Complete messages in the batch being built. */
  messages = 0;
  /** The batch being built; `take` swaps it with the spare, which is empty. */
  private batch: Batch = emptyBatch();
  private spare: Batch = emptyBatch();
  private scratch = new Uint8Array(64 * 1024);

  /** Bytes in the batch being built. */
  get length(): number {
    return this.batch.length + this.batch.tailLength;
  }

  /**
   * SegmentSink: adds bytes to the batch. The first segment is kept by reference, and a
   * segment that continues it in the same buffer extends it (consecutive frames of one read);
   * a run of a read chunk after it becomes the batch's tail, also by reference, and grows as
   * long as the segments continue it. Anything else is copied into the scratch buffer. `stable`: `bytes` may be kept by
   * reference (see SegmentSink).
   */
  segment(bytes: Uint8Array, start: number, end: number, stable: boolean): void {
    const batch = this.batch;
    const length = end - start;
    if (batch.length === 0 && batch.tailLength === 0) {
      batch.bytes = bytes;
      batch.start = start;
      batch.length = length;
      batch.retainable = stable;
      return;
    }
    if (batch.tailLength === 0 && bytes === batch.bytes && start === batch.start + batch.length) {
      if (stable === batch.retainable) {
        batch.length += length;
        return;
      }
    } else if (bytes === batch.tail && start === batch.tailStart + batch.tailLength) {
      batch.tailLength += length;
      return;
    }
    if (stable && batch.tailLength === 0) {
      // A run of a read chunk becomes the tail by reference, however short it starts: the
      // segments that continue it (the frames of one read, after a first frame the decoder
      // had to assemble) extend it for free. `take` copies a tail back if it stays small.
      // The first part may be a codec's own buffer, valid only until its next call.
      if (!batch.retainable) this.moveToScratch(batch.length);
      batch.tail = bytes;
      batch.tailStart = start;
      batch.tailLength = length;
      return;
    }
    // reserve() first: it may replace the scratch buffer with a larger one.
    const at = this.reserve(length);
    this.scratch.set(bytes.subarray(start, end), at);
    batch.length += length;
  }

  /**
   * Room for `length` more bytes at the end of the batch, in the scratch buffer: the caller
   * writes them at the returned offset of `scratchBuffer()` and then calls `commit(length)`.
   * For encoders that build a message in place (a line as a Submit frame) without a copy.
   */
  reserve(length: number): number {
    const batch = this.batch;
    this.moveToScratch(batch.length + batch.tailLength + length);
    if (batch.tailLength > 0) {
      this.scratch.set(
        batch.tail.subarray(batch.tailStart, batch.tailStart + batch.tailLength),
        batch.length,
      );
      batch.length += batch.tailLength;
      batch.tail = EMPTY;
      batch.tailLength = 0;
    }
    return batch.length;
  }

  /** The buffer `reserve` returned an offset into; valid until the next call. */
  scratchBuffer(): Uint8Array {
    return this.scratch;
  }

  /** Adds the `length` bytes written after `reserve`. */
  commit(length: number): void {
    this.batch.length += length;
  }

  /**
   * Hands over the batch built so far and starts an empty one. The returned batch is valid
   * until the next `take`; pass it to `release` once delivered.
   */
  take(): Batch {
    // A small batch in two parts costs two writes per subscriber; one copy is cheaper.
    if (this.batch.tailLength > 0 && this.length < TAIL_MIN_BYTES) this.reserve(0);
    const batch = this.batch;
    this.batch = this.spare;
    this.spare = batch;
    this.messages = 0;
    return batch;
  }

  /** Forgets a delivered batch's bytes, so the chunks it referred to can be collected. */
  release(batch: Batch): void {
    clearBatch(batch);
  }

  /** Makes the batch's first part live in the scratch buffer, with room for `needed` bytes. */
  private moveToScratch(needed: number): void {
    const batch = this.batch;
    if (batch.bytes !== this.scratch) {
      this.ensureScratch(needed);
      this.scratch.set(batch.bytes.subarray(batch.start, batch.start + batch.length));
      batch.bytes = this.scratch;
      batch.start = 0;
      batch.retainable = false;
    } else {
      this.ensureScratch(needed);
    }
  }

  private ensureScratch(needed: number): void {
    if (needed <= this.scratch.length) return;
    const grown = new Uint8Array(Math.max(needed, this.scratch.length * 2));
    const batch = this.batch;
    if (batch.bytes === this.scratch) {
      grown.set(this.scratch.subarray(0, batch.length));
      batch.bytes = grown;
    }
    this.scratch = grown;
  }
}
