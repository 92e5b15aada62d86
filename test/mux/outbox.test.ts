/**
 * A stream's Outbox on its own (no session, no socket): v2 window math across the 2^32 wrap
 * of its counters, as Go's uint32 arithmetic, the FIN after the last byte, and failure. Plus
 * the Fifo under the mux's queues.
 */
import { describe, expect, test } from "bun:test";
import { newSessionCounters, newStreamCounters } from "../../src/mux/counters.ts";
import { MuxError, MuxErrorCode } from "../../src/mux/errors.ts";
import { Outbox, type PendingWrite } from "../../src/mux/outbox.ts";
import { encodeFin, encodePsh } from "../../src/protocol/smux-frame.ts";
import { bytes, cleanupAfterEach, concat, toHex } from "./support.ts";

cleanupAfterEach();

function outbox(version: 1 | 2, maxFrameSize = 32_768) {
  let finHanded = 0;
  const box = new Outbox(
    3,
    version,
    maxFrameSize,
    newStreamCounters(),
    newSessionCounters(),
    () => {
      finHanded++;
    },
  );
  const settled: PendingWrite[] = [];
  const log: string[] = [];
  const write = (data: Uint8Array, name: string) =>
    box.enqueue({
      bytes: data,
      resolve: () => log.push(`${name} ok`),
      reject: (e) => log.push(`${name} ${e.code}`),
    });
  /** Fills one batch of `room` bytes, as the writer would, and returns what was written. */
  const fill = (room = 1 << 20) => {
    const out = new Uint8Array(room);
    let at = 0;
    while (box.sendable) {
      const next = box.fill(out, at, settled);
      if (next === at) break;
      at = next;
    }
    return out.slice(0, at);
  };
  return { box, write, fill, settled, log, finHandedCount: () => finHanded };
}

describe("v2 window at the 2^32 wrap", () => {
  test("inflight and the window stay right as numWritten wraps past 0xFFFFFFFF", () => {
    const { box, write, fill } = outbox(2);
    // 2^32 - 16 bytes already sent and read by the peer; its window is 100.
    box.numWritten = 0xffff_fff0;
    box.update(0xffff_fff0, 100);
    write(new Uint8Array(150), "w");
    expect(fill().length).toBe(8 + 100);
    expect(box.numWritten).toBe(84); // wrapped: 0xFFFFFFF0 + 100 - 2^32
    expect(box.sendable).toBe(false);
    // The peer read 40 of them (its counter has not wrapped yet: 0xFFFFFFF0 + 40 - 2^32 = 24).
    expect(box.update(24, 100)).toBe(true);
    expect(box.window()).toBe(40);
    expect(fill().length).toBe(8 + 40);
    // Read all; the last 10 go.
    expect(box.update(124, 100)).toBe(true);
    expect(fill().length).toBe(8 + 10);
    expect(box.queuedBytes).toBe(0);
  });

  test("an UPD acknowledging more than was sent is refused (Go: ErrConsumed)", () => {
    const { box } = outbox(2);
    box.numWritten = 10;
    expect(box.update(11, 65_536)).toBe(false);
    // Across the wrap: 5 sent after 0xFFFFFFFE, the peer says it read 0xFFFFFFFE + 6.
    box.numWritten = 3;
    expect(box.update(4, 65_536)).toBe(false);
    expect(box.update(0xffff_fffe, 65_536)).toBe(true);
  });

  test("before any UPD the window is Go's initial 262144", () => {
    const { box, write, fill } = outbox(2);
    write(new Uint8Array(300_000), "w");
    const wire = fill();
    expect(wire.length).toBe(262_144 + 8 * 8);
    expect(box.queuedBytes).toBe(300_000 - 262_144);
  });
});

describe("queue and FIN", () => {
  test("v1 frames span writes, settle each write with its last byte, then FIN", () => {
    const { box, write, fill, settled, finHandedCount } = outbox(1, 4);
    write(bytes("abc"), "a");
    write(bytes("defgh"), "b");
    expect(box.requestFin()).toBe(false);
    const wire = fill();
    expect(toHex(wire)).toBe(
      toHex(
        concat([encodePsh(1, 3, bytes("abcd")), encodePsh(1, 3, bytes("efgh")), encodeFin(1, 3)]),
      ),
    );
    expect(settled.length).toBe(2);
    expect(finHandedCount()).toBe(1);
    expect(box.finHanded).toBe(true);
  });

  test("a FIN with nothing queued goes at once, to the control frames", () => {
    const { box, finHandedCount } = outbox(1);
    expect(box.requestFin()).toBe(true);
    expect(box.requestFin()).toBe(false);
    expect(finHandedCount()).toBe(1);
  });

  test("fail() rejects the queued writes once; a FIN asked for still goes", () => {
    const { box, write, fill, log } = outbox(2);
    write(new Uint8Array(300_000), "big");
    write(bytes("x"), "small");
    fill();
    box.requestFin();
    box.fail(new MuxError(MuxErrorCode.Consumed, "test"));
    box.fail(new MuxError(MuxErrorCode.SessionClosed, "again"));
    expect(log).toEqual(["big MUX_ERR_CONSUMED", "small MUX_ERR_CONSUMED"]);
    expect(box.queuedBytes).toBe(0);
    expect(toHex(fill())).toBe(toHex(encodeFin(2, 3)));
  });
});
