/**
 * Session configuration: Go smux's `Config` (mux.go, Debian 1.5.16) with durations in
 * milliseconds, plus one limit of ours (`maxStreamWriteQueue`), and `verifyConfig()` with
 * Go's `VerifyConfig` rules and messages.
 *
 * Both ends must use the same `version`; the other fields are local choices the peer never
 * sees (a v2 receiver announces `maxStreamBuffer` in its UPD frames, nothing else travels).
 */

import { MAX_FRAME_SIZE_LIMIT, SMUX_DEFAULTS, type SmuxVersion } from "../protocol/smux-frame.ts";
import { MuxError, MuxErrorCode } from "./errors.ts";

/** How a Session behaves. Every size is in bytes, every duration in milliseconds. */
export interface MuxConfig {
  /** Protocol version, 1 or 2; the peer must use the same (mux.go `Version`). */
  readonly version: SmuxVersion;
  /** No NOP sent and no keepalive timeout (mux.go `KeepAliveDisabled`). */
  readonly keepAliveDisabled: boolean;
  /** A NOP frame is sent this often (mux.go `KeepAliveInterval`). */
  readonly keepAliveIntervalMs: number;
  /**
   * The session closes (MUX_ERR_KEEPALIVE_TIMEOUT) once this long has passed without a frame
   * from the peer, except while we ourselves stopped reading (mux.go `KeepAliveTimeout`).
   */
  readonly keepAliveTimeoutMs: number;
  /** Largest PSH body we send, 1..65535 (mux.go `MaxFrameSize`). */
  readonly maxFrameSize: number;
  /**
   * Session-wide receive budget: once this many received data bytes wait unread in the
   * streams, the session stops reading its transport until readers catch up
   * (mux.go `MaxReceiveBuffer`, the `bucket` of session.go).
   */
  readonly maxReceiveBuffer: number;
  /**
   * v2: the per-stream window we announce in UPD frames; an UPD is sent each time the reader
   * has consumed half of it since the last one (mux.go `MaxStreamBuffer`, stream.go
   * `tryReadv2`). Unused by v1, but still checked, as Go does.
   */
  readonly maxStreamBuffer: number;
  /**
   * Ours, not Go's: bytes a stream holds from `write()` calls not yet taken by the socket. A
   * `write()` made while this many are queued is rejected (MUX_ERR_WRITE_QUEUE_FULL), so an
   * unawaited writer cannot grow memory without bound. Go needs no such limit: its `Write`
   * blocks the calling goroutine.
   */
  readonly maxStreamWriteQueue: number;
}

/** Go's `DefaultConfig()` (mux.go), in milliseconds and bytes, plus our write queue limit. */
export const DEFAULT_MUX_CONFIG: MuxConfig = Object.freeze({
  version: SMUX_DEFAULTS.version,
  keepAliveDisabled: false,
  keepAliveIntervalMs: SMUX_DEFAULTS.keepAliveIntervalMs,
  keepAliveTimeoutMs: SMUX_DEFAULTS.keepAliveTimeoutMs,
  maxFrameSize: SMUX_DEFAULTS.maxFrameSize,
  maxReceiveBuffer: SMUX_DEFAULTS.maxReceiveBuffer,
  maxStreamBuffer: SMUX_DEFAULTS.maxStreamBuffer,
  maxStreamWriteQueue: 1024 * 1024,
});

/** Go compares MaxStreamBuffer with math.MaxInt32: the window travels as a u32 read as int32. */
const MAX_INT32 = 0x7fff_ffff;

/**
 * Checks a complete config and returns it. Throws MuxError MUX_ERR_BAD_CONFIG naming the first
 * broken rule, in Go's order and with Go's wording (mux.go `VerifyConfig`), e.g. "max frame
 * size must not be larger than 65535". Rules of ours (integers, finite numbers, the write queue
 * limit) come after Go's.
 */
export function verifyConfig(config: MuxConfig): MuxConfig {
  const fail = (reason: string): never => {
    throw new MuxError(MuxErrorCode.BadConfig, reason);
  };
  if (!(config.version === 1 || config.version === 2)) fail("unsupported protocol version");
  if (!config.keepAliveDisabled) {
    // Go rejects only a zero interval (a negative Duration panics its ticker instead).
    if (!(config.keepAliveIntervalMs > 0)) fail("keep-alive interval must be positive");
    if (!(config.keepAliveTimeoutMs >= config.keepAliveIntervalMs)) {
      fail("keep-alive timeout must be larger than keep-alive interval");
    }
  }
  if (!(config.maxFrameSize > 0)) fail("max frame size must be positive");
  if (config.maxFrameSize > MAX_FRAME_SIZE_LIMIT) {
    fail("max frame size must not be larger than 65535");
  }
  if (!(config.maxReceiveBuffer > 0)) fail("max receive buffer must be positive");
  if (!(config.maxStreamBuffer > 0)) fail("max stream buffer must be positive");
  if (config.maxStreamBuffer > config.maxReceiveBuffer) {
    fail("max stream buffer must not be larger than max receive buffer");
  }
  if (config.maxStreamBuffer > MAX_INT32) {
    fail("max stream buffer cannot be larger than 2147483647");
  }
  // Ours: Go's fields are ints and Durations, so these cannot go wrong there.
  for (const key of ["maxFrameSize", "maxReceiveBuffer", "maxStreamBuffer"] as const) {
    if (!Number.isInteger(config[key])) fail(`${key} must be an integer, got ${config[key]}`);
  }
  if (config.maxReceiveBuffer > MAX_INT32) {
    // Go keeps the bucket in an int32.
    fail("max receive buffer cannot be larger than 2147483647");
  }
  if (!config.keepAliveDisabled && !Number.isFinite(config.keepAliveTimeoutMs)) {
    fail("keep-alive timeout must be finite (use keepAliveDisabled to turn keepalive off)");
  }
  if (!(Number.isInteger(config.maxStreamWriteQueue) && config.maxStreamWriteQueue > 0)) {
    fail(`max stream write queue must be a positive integer, got ${config.maxStreamWriteQueue}`);
  }
  return config;
}

/**
 * The defaults overridden by `overrides`, verified. Throws MuxError MUX_ERR_BAD_CONFIG as
 * verifyConfig does. The result is frozen: a Session keeps it for its whole life.
 */
export function resolveConfig(overrides: Partial<MuxConfig> = {}): MuxConfig {
  return Object.freeze(verifyConfig({ ...DEFAULT_MUX_CONFIG, ...overrides }));
}
