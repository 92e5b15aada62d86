/**
 * The byte transport under a Session, and the events an adapter feeds the Session.
 *
 * The Session owns no socket. An adapter (adapters/bun.ts for Bun TCP and TLS sockets, or a
 * test's in-memory pair) wraps one connection as a MuxTransport and calls the Session's
 * TransportEvents methods from the connection's handlers. The contract is Bun's socket
 * contract (shared/notes/bun-sockets.md), the narrowest one we run on:
 *
 * - `write` is one non-blocking send that keeps nothing: it returns how many bytes were taken
 *   (possibly fewer than asked, 0 when the send buffer is full, -1 once closed). The caller
 *   keeps the rest and retries from `onDrain`.
 * - `onDrain` may fire when nothing is pending (after pause/resume, a TLS handshake):
 *   receivers must check their own queue.
 * - `pause`/`resume` stop and restart reading at the kernel level, so TCP flow control pushes
 *   back on the peer. Chunks may still arrive shortly after `pause()`.
 * - A chunk given to `onData` belongs to the receiver: the adapter never reuses its memory.
 */

/** One connection, as the Session sees it. */
export interface MuxTransport {
  /**
   * Sends `bytes[offset, offset + length)` without blocking. Returns the bytes taken: from 0 to
   * `length`, or -1 when the transport is closed. Never throws for a closed transport.
   */
  write(bytes: Uint8Array, offset: number, length: number): number;
  /** Closes the connection once what was already taken is sent. Idempotent. */
  end(): void;
  /** Stops reading: no `onData` until `resume()` (a chunk already read may still come). */
  pause(): void;
  /** Restarts reading after `pause()`. */
  resume(): void;
  /** `host:port` of the peer, for errors and logs; undefined when unknown. */
  readonly peer?: string | undefined;
}

/** What an adapter calls on the Session, from the connection's handlers. None of them throws. */
export interface TransportEvents {
  /** Bytes read from the connection, in order. The Session may keep views into `chunk`. */
  onData(chunk: Uint8Array): void;
  /** The connection can take more bytes after a short write (or spuriously). */
  onDrain(): void;
  /**
   * The connection is gone: `error` is set when it failed (reset, TLS error), undefined for a
   * clean close. Called once; the Session closes itself if it was still open.
   */
  onClose(error?: Error): void;
}
