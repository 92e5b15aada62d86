/** MuxConfig defaults (Go's DefaultConfig) and verifyConfig's rules, one message each. */
import { describe, expect, test } from "bun:test";
import {
  DEFAULT_MUX_CONFIG,
  type MuxConfig,
  MuxError,
  MuxErrorCode,
  resolveConfig,
  Session,
  verifyConfig,
} from "../../src/mux/index.ts";
import { cleanupAfterEach, ScriptedTransport } from "./support.ts";

cleanupAfterEach();

describe("defaults", () => {
  test("are Go smux 1.5.16's DefaultConfig, in ms and bytes", () => {
    expect(DEFAULT_MUX_CONFIG).toEqual({
      version: 1,
      keepAliveDisabled: false,
      keepAliveIntervalMs: 10_000,
      keepAliveTimeoutMs: 30_000,
      maxFrameSize: 32_768,
      maxReceiveBuffer: 4_194_304,
      maxStreamBuffer: 65_536,
      maxStreamWriteQueue: 1_048_576,
    });
    expect(verifyConfig(DEFAULT_MUX_CONFIG)).toBe(DEFAULT_MUX_CONFIG);
  });

  test("resolveConfig overrides some fields and freezes the result", () => {
    const config = resolveConfig({ version: 2, maxFrameSize: 65_535 });
    expect(config.version).toBe(2);
    expect(config.maxFrameSize).toBe(65_535);
    expect(config.maxReceiveBuffer).toBe(4_194_304);
    expect(Object.isFrozen(config)).toBe(true);
  });
});

/** Each rule, in Go's order and wording (mux.go VerifyConfig), then ours. */
const RULES: [string, Partial<MuxConfig>, string][] = [
  ["version 3", { version: 3 as 1 }, "unsupported protocol version"],
  ["interval 0", { keepAliveIntervalMs: 0 }, "keep-alive interval must be positive"],
  [
    "timeout below the interval",
    { keepAliveIntervalMs: 1000, keepAliveTimeoutMs: 999 },
    "keep-alive timeout must be larger than keep-alive interval",
  ],
  ["frame size 0", { maxFrameSize: 0 }, "max frame size must be positive"],
  ["frame size 65536", { maxFrameSize: 65_536 }, "max frame size must not be larger than 65535"],
  ["receive buffer 0", { maxReceiveBuffer: 0 }, "max receive buffer must be positive"],
  ["stream buffer 0", { maxStreamBuffer: 0 }, "max stream buffer must be positive"],
  [
    "stream buffer above the receive buffer",
    { maxReceiveBuffer: 1000, maxStreamBuffer: 1001 },
    "max stream buffer must not be larger than max receive buffer",
  ],
  [
    "stream buffer above int32",
    { maxReceiveBuffer: 2 ** 32, maxStreamBuffer: 2 ** 31 },
    "max stream buffer cannot be larger than 2147483647",
  ],
  ["a fractional frame size", { maxFrameSize: 1.5 }, "maxFrameSize must be an integer, got 1.5"],
  [
    "receive buffer above int32",
    { maxReceiveBuffer: 2 ** 31 },
    "max receive buffer cannot be larger than 2147483647",
  ],
  [
    "an infinite timeout",
    { keepAliveTimeoutMs: Number.POSITIVE_INFINITY },
    "keep-alive timeout must be finite (use keepAliveDisabled to turn keepalive off)",
  ],
  [
    "write queue 0",
    { maxStreamWriteQueue: 0 },
    "max stream write queue must be a positive integer, got 0",
  ],
];

describe("verifyConfig", () => {
  for (const [name, overrides, message] of RULES) {
    test(`rejects ${name}: "${message}"`, () => {
      let caught: unknown;
      try {
        verifyConfig({ ...DEFAULT_MUX_CONFIG, ...overrides });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MuxError);
      expect((caught as MuxError).code).toBe(MuxErrorCode.BadConfig);
      expect((caught as MuxError).reason).toBe(message);
    });
  }

  test("keepalive timings are not checked when keepalive is disabled (as Go)", () => {
    expect(() =>
      verifyConfig({ ...DEFAULT_MUX_CONFIG, keepAliveDisabled: true, keepAliveIntervalMs: 0 }),
    ).not.toThrow();
  });

  test("Session.client and Session.server verify their config", () => {
    expect(() => Session.client(new ScriptedTransport(), { maxFrameSize: 70_000 })).toThrow(
      "MUX_ERR_BAD_CONFIG: max frame size must not be larger than 65535",
    );
    expect(() => Session.server(new ScriptedTransport(), { version: 0 as 1 })).toThrow(
      "MUX_ERR_BAD_CONFIG: unsupported protocol version",
    );
  });
});
