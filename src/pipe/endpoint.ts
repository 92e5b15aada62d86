/**
 * What the one byte pipe (pipe.ts) moves bytes between: an Endpoint (a Bun socket, PipeEnd in
 * pipe-end.ts, or an smux stream, StreamEnd in src/tunnel/stream-end.ts) and the EndOwner
 * its events go to. Types only.
 */

/**
 * Whoever currently handles an endpoint's events. Implementers may narrow `end` to the
 * endpoint class they own (the pool and the proxy's head phase take PipeEnds only).
 */
export interface EndOwner {
  /** Bytes read from the endpoint, in order; the chunk is the owner's to keep. */
  onData(end: Endpoint, chunk: Uint8Array): void;
  /** The endpoint can take more after `backlogged` was true (may also fire spuriously). */
  onDrain(end: Endpoint): void;
  /** The peer sent FIN (we may still write). */
  onEnd(end: Endpoint): void;
  /** The endpoint is gone; `error` is set for a reset (or a lost tunnel session). */
  onClose(end: Endpoint, error: Error | undefined): void;
}

/**
 * One side of a pipe, whatever carries it. The pipe reads and sets the state fields; the
 * endpoint reports its events to `owner` and does the I/O. Sizes are bytes.
 */
export interface Endpoint {
  owner: EndOwner;
  /** `host:port` (or a stream label) of the far end, for logs. */
  peerAddress: string;
  /** Connected: sent bytes go out (or wait behind backpressure), not wait for a connection. */
  readonly attached: boolean;
  /** Bytes queued here, not yet taken by the transport below. */
  readonly outboxBytes: number;
  /** The producer feeding this end should stop reading until `onDrain`. */
  readonly backlogged: boolean;
  /** Reading is paused (set through pauseReading/resumeReading). */
  readonly paused: boolean;
  /** FIN received from this end. */
  readEnded: boolean;
  /** We shut this end's write half down (or will, once its outbox is flushed). */
  writeShut: boolean;
  /** Close fully instead of half-closing once the outbox is flushed (the other end is gone). */
  endAfterFlush: boolean;
  /** Gone: no more events will come from it. */
  closed: boolean;
  /** Queues `chunk` and writes as much as the transport takes now. */
  send(chunk: Uint8Array): void;
  /** Writes queued bytes; returns true once nothing holds the producer back any more. */
  flush(): boolean;
  /** Half-closes our direction after the queued bytes (or closes, see endAfterFlush). */
  shutWrite(): void;
  /** Stops delivering data (the transport below pushes back on its peer). */
  pauseReading(): void;
  resumeReading(): void;
  /** Drops queued bytes and closes: FIN, or a reset when `reset`. */
  abort(reset: boolean): void;
  /** The CLOSE detail for an error that closed this end; the pipe's default when absent. */
  describeError?(error: Error, side: "client" | "upstream"): string;
}
