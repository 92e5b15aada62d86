import { expect, test } from "bun:test";
import { INITIAL_PEER_WINDOW } from "../../src/protocol/smux-frame.ts";
import {
  i32Diff,
  inflight,
  sendWindow,
  u32,
  u32Add,
  u32Sub,
} from "../../src/protocol/smux-window.ts";
import { seededRandom } from "../support/harness.ts";

const MAX = 0xffff_ffff;

test("u32 counters wrap at 2^32", () => {
  expect(u32(-1)).toBe(MAX);
  expect(u32(2 ** 32 + 5)).toBe(5);
  expect(u32Add(MAX, 1)).toBe(0);
  expect(u32Add(0xffff_fff0, 0x20)).toBe(0x10);
  expect(u32Add(MAX, MAX)).toBe(MAX - 1);
  expect(u32Sub(0, 1)).toBe(MAX);
  expect(u32Sub(0x10, 0xffff_fff0)).toBe(0x20);
});

test("signed differences match Go's int32(a - b) on uint32s (stream.go's two examples)", () => {
  expect(i32Diff(0, MAX)).toBe(1); // eg1: uint32(0) - uint32(math.MaxUint32) = 1
  expect(i32Diff(0, 1)).toBe(-1); // eg2: int32(uint32(0) - uint32(1)) = -1
  expect(i32Diff(0x8000_0000, 0)).toBe(-(2 ** 31));
});

test("inflight and the send window stay right across the wrap", () => {
  const numWritten = 0x0000_0010; // 2^32 + 16 bytes sent: wrapped
  const peerConsumed = 0xffff_fff0; // 2^32 - 16 read: not yet wrapped
  expect(numWritten - peerConsumed).toBe(-4_294_967_264); // plain subtraction: nonsense
  expect(inflight(numWritten, peerConsumed)).toBe(32);
  expect(sendWindow(INITIAL_PEER_WINDOW, numWritten, peerConsumed)).toBe(INITIAL_PEER_WINDOW - 32);
  expect(sendWindow(32, numWritten, peerConsumed)).toBe(0);
  expect(sendWindow(16, numWritten, peerConsumed)).toBe(-16);
});

test("a peer that claims more than was sent shows as negative inflight (Go: ErrConsumed)", () => {
  expect(inflight(100, 101)).toBe(-1);
  expect(inflight(MAX, 3)).toBe(-4); // consumed past a wrap the writer never made
});

test("a window above 2^31 reads as negative, as Go's int32(peerWindow) does", () => {
  expect(sendWindow(0x8000_0000, 0, 0)).toBe(-(2 ** 31));
});

test("a simulated v2 stream crossing 2^32 never exceeds the window (fixed seed)", () => {
  const random = seededRandom(0x0000_0013);
  const window = 65_536;
  // Both counters start just below the wrap, as after 4 GiB on one stream.
  let numWritten = 0xffff_0000;
  let numRead = numWritten;
  let peerConsumed = numWritten; // the last UPD the writer has seen
  let sent = 0;
  let wrapped = false;
  while (sent < 1_000_000) {
    const sendable = sendWindow(window, numWritten, peerConsumed);
    expect(inflight(numWritten, peerConsumed)).toBeGreaterThanOrEqual(0);
    expect(sendable).toBeLessThanOrEqual(window);
    if (sendable > 0) {
      const n = Math.min(sendable, 1 + Math.floor(random() * 40_000));
      const before = numWritten;
      numWritten = u32Add(numWritten, n);
      if (numWritten < before) wrapped = true;
      sent += n;
    }
    // The reader takes part of what is in flight, then sometimes sends an UPD.
    const unread = u32Sub(numWritten, numRead);
    numRead = u32Add(numRead, Math.floor(random() * (unread + 1)));
    if (random() < 0.5 || sendable <= 0) peerConsumed = numRead;
  }
  expect(wrapped).toBe(true);
  expect(u32Sub(numWritten, 0xffff_0000)).toBe(sent % 2 ** 32);
});
