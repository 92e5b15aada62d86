/**
 * uint32 arithmetic for smux v2's per-stream flow control (UPD frames).
 *
 * Pure. Mirrors xtaci/smux stream.go `writeV2` and `update` (Debian 1.5.16): each side counts
 * a stream's bytes in u32 counters that wrap at 2^32 and never reset, so a stream may carry
 * any number of bytes. Only differences of counters mean anything, taken modulo 2^32 and then
 * read as a signed int32, exactly as Go's `int32(a - b)` on two uint32s.
 *
 * The sender's view of one stream (counters in bytes, mod 2^32):
 *
 * ```text
 *   peerConsumed            numWritten
 *        |<---- inflight ---->|
 *        |<----------------- peerWindow ----------------->|
 *                             |<-------- sendable -------->|
 *
 *   numWritten    bytes we sent as PSH on this stream          (we count them)
 *   peerConsumed  bytes the peer's reader has taken            (its last UPD, "consumed")
 *   peerWindow    bytes the peer will hold for this stream     (its last UPD, "window";
 *                                                               INITIAL_PEER_WINDOW before)
 *   inflight      = int32(numWritten - peerConsumed)           sent, not yet read
 *   sendable      = int32(peerWindow) - inflight               may send this many now; <= 0: wait
 * ```
 *
 * Why the int32 cast, at the wrap (4 GiB into a stream):
 *
 * ```text
 *   numWritten   = 0x0000_0010   (2^32 + 16 bytes sent: the counter wrapped)
 *   peerConsumed = 0xFFFF_FFF0   (2^32 - 16 bytes read: not yet wrapped)
 *   numWritten - peerConsumed          = -4294967264   plain JS subtraction: nonsense
 *   (numWritten - peerConsumed) | 0    = 32            int32, as Go: right
 * ```
 *
 * A negative inflight means the peer claims to have read more than was sent: Go's writer
 * fails with `ErrConsumed`. Counters stay normalised with `>>> 0` (u32Add), never `| 0`.
 */

/** `n` modulo 2^32, as a number in 0..0xFFFFFFFF (a counter's stored form). */
export function u32(n: number): number {
  return n >>> 0;
}

/** `(a + b) mod 2^32`: advances a u32 counter `a` by `b` bytes (both u32). */
export function u32Add(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** `(a - b) mod 2^32`: how far u32 counter `a` is ahead of `b`, read as unsigned. */
export function u32Sub(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** `int32(a - b)`: the signed distance from u32 counter `b` to `a`, as Go computes it. */
export function i32Diff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Bytes sent on a stream and not yet read by the peer: `int32(numWritten - peerConsumed)`.
 * Negative: the peer acknowledged bytes never sent (Go: `ErrConsumed`).
 */
export function inflight(numWritten: number, peerConsumed: number): number {
  return (numWritten - peerConsumed) | 0;
}

/**
 * Bytes the sender may put on the stream now: `int32(peerWindow) - inflight`, computed in
 * int32 like Go. 0 or less: wait for the next UPD. Check `inflight` for a negative value
 * first, as Go does, since a misbehaving peer then makes this look generous.
 */
export function sendWindow(peerWindow: number, numWritten: number, peerConsumed: number): number {
  return ((peerWindow | 0) - inflight(numWritten, peerConsumed)) | 0;
}
