/**
 * A NATS message payload that crosses chunks, gathered for the NatsParser. The parser hands a
 * payload that lies within one chunk over as a view of that chunk; only one that crosses
 * chunks comes here, into a FRESH array of exactly its size, never reused: the handler may
 * keep views of it, as of any chunk. Its size was checked against max_payload before any of
 * it was read, so the array is bounded.
 */
export class PayloadBuffer {
  private bytes: Uint8Array | undefined = undefined;
  private filled = 0;

  /** Whether a payload is being gathered. */
  get active(): boolean {
    return this.bytes !== undefined;
  }

  /** Bytes gathered so far. */
  get heldBytes(): number {
    return this.bytes === undefined ? 0 : this.filled;
  }

  /** Starts a payload of `size` bytes with `chunk[at..]`, which holds fewer than `size`. */
  begin(size: number, chunk: Uint8Array, at: number): void {
    const bytes = new Uint8Array(size);
    bytes.set(chunk.subarray(at));
    this.bytes = bytes;
    this.filled = chunk.length - at;
  }

  /**
   * Copies from `chunk[at]` up to the payload's end; returns where it stopped in `chunk`.
   * Call `take` when `complete`.
   */
  fill(chunk: Uint8Array, at: number): number {
    const bytes = this.bytes as Uint8Array;
    const take = Math.min(bytes.length - this.filled, chunk.length - at);
    bytes.set(chunk.subarray(at, at + take), this.filled);
    this.filled += take;
    return at + take;
  }

  /** Whether every byte of the payload is in. */
  get complete(): boolean {
    return this.bytes !== undefined && this.filled === this.bytes.length;
  }

  /** Hands the gathered payload over and forgets it. */
  take(): Uint8Array {
    const bytes = this.bytes as Uint8Array;
    this.release();
    return bytes;
  }

  /** Drops a payload being gathered. */
  release(): void {
    this.bytes = undefined;
    this.filled = 0;
  }
}
