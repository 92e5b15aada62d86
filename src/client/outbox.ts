/**
 * One connection's outbound bytes, coalesced: every frame or line a client sends during one
 * event-loop turn goes out in one `socket.write` (style habits 8 and 9).
 *
 * Bun's socket `write` is one non-blocking send that returns what the kernel took and keeps
 * nothing (/work/shared/notes/bun-sockets.md). So the Outbox keeps the unwritten tail itself
 * and writes nothing more until the socket's `drain` fires; the caller bounds what it queues
 * (a publisher's maxInFlight), so the buffer stays bounded too.
 *
 * Senders encode straight into the buffer (`reserve` then `commit`), so a Submit costs one
 * copy of its payload. The first commit of a turn schedules the write with setImmediate; past
 * FLUSH_THRESHOLD queued bytes it writes at once, so a burst reaches the kernel while it is
 * being built rather than piling up.
 */

/** What the Outbox needs of a socket (Bun's `write(data, offset, length)`). */
export interface WritableSocket {
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
}

/** Queued bytes past which a commit writes at once instead of at the end of the turn. */
const FLUSH_THRESHOLD = 64 * 1024;
const INITIAL_CAPACITY = 16 * 1024;
/** A buffer grown past this (a burst of large payloads) is released once it empties. */
const KEEP_CAPACITY = 1024 * 1024;

export class Outbox {
  private buffer = new Uint8Array(INITIAL_CAPACITY);
  /** The unwritten bytes are `buffer[start, end)`. */
  private start = 0;
  private end = 0;
  private written = 0;
  private scheduled = false;
  /** A write came up short: nothing more is written until drain. */
  private blocked = false;
  private socket: WritableSocket | undefined;

  /**
   * @param socket where the bytes go.
   * @param onWritten called after each write the kernel took bytes of, with the total bytes
   *   written since the Outbox was made (a line publisher resolves its publishes with it).
   */
  constructor(
    socket: WritableSocket,
    private readonly onWritten: (bytesWritten: number) => void = () => {},
  ) {
    this.socket = socket;
  }

  /** Bytes queued and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /** Bytes the kernel took since the Outbox was made. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Bytes committed since the Outbox was made: `bytesWritten + pendingBytes`. */
  get bytesQueued(): number {
    return this.written + this.end - this.start;
  }

  /** False once detached (the socket closed): commits are then dropped. */
  get attached(): boolean {
    return this.socket !== undefined;
  }

  /**
   * Makes room for `length` bytes and returns the buffer to write them into, at `offset`
   * (read it after this call: it may be a new buffer). Follow with `commit(length)`.
   */
  reserve(length: number): { buffer: Uint8Array; offset: number } {
    if (this.end + length > this.buffer.length) this.makeRoom(length);
    return { buffer: this.buffer, offset: this.end };
  }

  /** Queues the `length` bytes just written at the reserved offset. */
  commit(length: number): void {
    this.end += length;
    if (this.end - this.start >= FLUSH_THRESHOLD) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Queues a copy of `bytes`. */
  append(bytes: Uint8Array): void {
    const { buffer, offset } = this.reserve(bytes.length);
    buffer.set(bytes, offset);
    this.commit(bytes.length);
  }

  /** Writes what is queued now, unless a short write is waiting for drain. */
  flush(): void {
    const socket = this.socket;
    if (socket === undefined || this.blocked || this.end === this.start) return;
    const length = this.end - this.start;
    const taken = socket.write(this.buffer, this.start, length);
    if (taken < 0) {
      this.detach(); // closed: the close handler reports it
      return;
    }
    if (taken < length) this.blocked = true;
    if (taken === 0) return;
    this.start += taken;
    this.written += taken;
    if (this.start === this.end) this.empty();
    this.onWritten(this.written);
  }

  /** The socket's drain handler: writes the tail a short write left (a no-op when none). */
  drain(): void {
    this.blocked = false;
    this.flush();
  }

  /** The socket is gone: forgets the queued bytes and returns how many there were. */
  detach(): number {
    this.socket = undefined;
    const dropped = this.end - this.start;
    this.empty();
    return dropped;
  }

  private empty(): void {
    this.start = 0;
    this.end = 0;
    if (this.buffer.length > KEEP_CAPACITY) this.buffer = new Uint8Array(INITIAL_CAPACITY);
  }

  /** Moves the unwritten bytes to the front, growing the buffer if they and `length` do not fit. */
  private makeRoom(length: number): void {
    const pending = this.end - this.start;
    let capacity = this.buffer.length;
    while (pending + length > capacity) capacity *= 2;
    if (capacity === this.buffer.length) {
      this.buffer.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(this.start, this.end));
      this.buffer = grown;
    }
    this.start = 0;
    this.end = pending;
  }
}
