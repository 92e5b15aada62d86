/**
 * A subscriber's backlog: the bytes its socket did not take yet, in order.
 *
 * Pure: no socket; `writeTo` is handed something with Bun's `write(bytes, offset, length)`
 * contract (returns how many bytes it took; 0 or -1 when none).
 *
 * Large runs that sit in a publisher's read chunk are kept by reference, not copied: Bun
 * hands every `data` event a fresh buffer it never reuses, so a view into it stays valid.
 * At saturation that is where the bytes are (a backlog forms behind every 512 KiB chunk),
 * and copying them was the relay's second-largest cost after the send itself. Small runs,
 * and anything from a reusable buffer, are copied into owned blocks, so a backlog of many
 * small messages still drains in a few large writes.
 */

/** Runs at least this long from a retainable buffer are kept by reference. */
const RETAIN_MIN_BYTES = 32 * 1024;
/** Owned blocks for copied runs are at least this large. */
const OWNED_BLOCK_BYTES = 64 * 1024;

/** Bytes `[start, end)` of `bytes`; `owned` blocks may grow at the end as runs are copied in. */
interface Span {
  bytes: Uint8Array;
  start: number;
  end: number;
  owned: boolean;
}

/** What `writeTo` writes to: Bun's socket.write contract. */
export interface ByteSink {
  write(bytes: Uint8Array, offset: number, length: number): number;
}

export class Backlog {
  private spans: Span[] = [];
  private head = 0;
  private queued = 0;

  /** Bytes queued. */
  get length(): number {
    return this.queued;
  }

  /**
   * Appends bytes `[start, end)` of `source`. `retainable`: `source` is never written to
   * again (a read chunk), so a long run of it may be kept by reference.
   */
  append(source: Uint8Array, start: number, end: number, retainable: boolean): void {
    const count = end - start;
    if (count <= 0) return;
    this.queued += count;
    if (retainable && count >= RETAIN_MIN_BYTES) {
      this.spans.push({ bytes: source, start, end, owned: false });
      return;
    }
    const last = this.spans.length > this.head ? this.spans[this.spans.length - 1] : undefined;
    if (last?.owned && last.bytes.length - last.end >= count) {
      last.bytes.set(source.subarray(start, end), last.end);
      last.end += count;
      return;
    }
    const block = new Uint8Array(Math.max(OWNED_BLOCK_BYTES, count));
    block.set(source.subarray(start, end));
    this.spans.push({ bytes: block, start: 0, end: count, owned: true });
  }

  /**
   * Writes from the front until the sink takes less than offered. One write per span: a
   * span is at least 32 KiB or an owned block, so a drain is a few large writes.
   * Returns how many bytes left the backlog.
   */
  writeTo(sink: ByteSink): number {
    let total = 0;
    const spans = this.spans;
    while (this.head < spans.length) {
      const span = spans[this.head] as Span;
      const length = span.end - span.start;
      const written = sink.write(span.bytes, span.start, length);
      if (written <= 0) break;
      total += written;
      if (written < length) {
        span.start += written;
        break;
      }
      this.head++;
    }
    this.queued -= total;
    this.compact();
    return total;
  }

  /** Empties the backlog; returns how many bytes it held. */
  clear(): number {
    const dropped = this.queued;
    this.spans = [];
    this.head = 0;
    this.queued = 0;
    return dropped;
  }

  /** Drops written spans from the front of the array once they are many. */
  private compact(): void {
    if (this.head === this.spans.length) {
      this.spans.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.spans.length) {
      this.spans = this.spans.slice(this.head);
      this.head = 0;
    }
  }
}
