/**
 * Flow control per version. v2: a stream's writer stops at the peer's window and goes on at
 * each UPD (exact byte counts against a raw peer), and a stalled reader holds only its own
 * stream back. v1: no per-stream window exists, so a stalled reader's bytes pile up until the
 * session's receive budget is spent; then the session stops reading and every stream waits
 * for that reader. Both with SHA-256-checked bulk data.
 */
import { describe, expect, test } from "bun:test";
import { MuxErrorCode, type Stream } from "../../src/mux/index.ts";
import { SmuxDecoder } from "../../src/protocol/smux-decoder.ts";
import { encodeUpd, SmuxCmd } from "../../src/protocol/smux-frame.ts";
import {
  cleanupAfterEach,
  concat,
  randomBytes,
  rawServerOf,
  readAll,
  sessionPair,
  sha256,
  stateOf,
  toHex,
  until,
  writeAll,
} from "./support.ts";

cleanupAfterEach();

/** The PSH bodies for `id` in `wire`, and the largest frame seen. */
function pshData(version: 1 | 2, wire: Uint8Array, id: number) {
  const bodies: Uint8Array[] = [];
  let largest = 0;
  const decoder = new SmuxDecoder(version, {
    frame(cmd, streamId, bytes, start, end) {
      if (cmd !== SmuxCmd.PSH || streamId !== id) return;
      bodies.push(bytes.slice(start, end));
      largest = Math.max(largest, end - start);
    },
    update() {},
    error(error) {
      throw error;
    },
  });
  decoder.push(wire);
  return { data: concat(bodies), largest };
}

/** Counts and hashes what `stream` delivers through onData. */
function tally(stream: Stream) {
  const hasher = new Bun.CryptoHasher("sha256");
  const state = { bytes: 0, ended: false, hash: "" };
  stream.onData(
    (chunk) => {
      state.bytes += chunk.length;
      hasher.update(chunk);
    },
    () => {
      state.ended = true;
      state.hash = hasher.digest("hex");
    },
  );
  return state;
}

describe("v2: the peer's window", () => {
  test("a writer stops at the initial 262144 bytes and goes on at each UPD", async () => {
    const { raw, session } = await rawServerOf({ version: 2, keepAliveDisabled: true });
    const stream = session.open();
    const data = randomBytes(400_000);
    const written = stream.write(data);
    const settled = () => raw.receivedBytes === session.counters.bytesOut;

    await until(() => stream.sendWindow.numWritten === 262_144 && settled(), "the initial window");
    expect(stream.queuedBytes).toBe(400_000 - 262_144);
    expect(await stateOf(written)).toBe("pending");
    let sent = pshData(2, raw.all(), 3);
    expect(sent.data.length).toBe(262_144);
    expect(sent.largest).toBe(32_768);
    expect(toHex(sent.data)).toBe(toHex(data.subarray(0, 262_144)));

    // The peer has read it all and holds 64 KiB: 65536 more may go.
    raw.write(encodeUpd(3, 262_144, 65_536));
    await until(() => stream.sendWindow.numWritten === 327_680 && settled(), "one more window");
    expect(await stateOf(written)).toBe("pending");
    expect(stream.sendWindow).toEqual({
      peerWindow: 65_536,
      peerConsumed: 262_144,
      numWritten: 327_680,
    });

    raw.write(encodeUpd(3, 327_680, 262_144));
    await written;
    await until(settled, "the last bytes");
    sent = pshData(2, raw.all(), 3);
    expect(sha256(sent.data)).toBe(sha256(data));
    expect(stream.counters.updatesReceived).toBe(2);

    // A peer claiming more than was sent (Go: ErrConsumed) fails the stream's writes.
    raw.write(encodeUpd(3, 500_000, 65_536));
    await until(() => stream.counters.updatesReceived === 3, "the lying UPD");
    await expect(stream.write(new Uint8Array(1))).rejects.toMatchObject({
      code: MuxErrorCode.Consumed,
      reason: "peer consumed 500000 of 400000 bytes sent",
    });
    expect(session.isClosed).toBe(false);
  });

  test("a stalled reader holds its stream at the window; the others flow", async () => {
    const { client, server } = await sessionPair({ version: 2 });
    const stalled = client.open();
    const flowing = client.open();
    const a = randomBytes(1_000_000);
    const b = randomBytes(4_000_000);
    const aWritten = writeAll(stalled, a).then(() => stalled.closeWrite());
    const bWritten = writeAll(flowing, b).then(() => flowing.closeWrite());
    const stalledPeer = await server.accept();
    const flowingPeer = await server.accept();
    expect([stalledPeer.id, flowingPeer.id]).toEqual([3, 5]);

    expect(sha256(await readAll(flowingPeer))).toBe(sha256(b));
    await bWritten;
    // Stream 3 sent exactly the initial window and waits; the server holds all of it.
    await until(() => stalledPeer.bufferedBytes === 262_144, "stream 3 at its window");
    expect(stalled.sendWindow.numWritten).toBe(262_144);
    expect(await stateOf(aWritten)).toBe("pending");
    expect(server.readingPaused).toBe(false);
    expect(server.receiveBudget).toBe(4 * 1024 * 1024 - 262_144);

    // Reading it lets it finish.
    expect(sha256(await readAll(stalledPeer))).toBe(sha256(a));
    await aWritten;
    expect(server.receiveBudget).toBe(4 * 1024 * 1024);
  });
});

describe("v1: what the session budget forces", () => {
  test("a stalled reader spends the budget, then every stream waits for it", async () => {
    const budget = 256 * 1024;
    const config = { version: 1, maxReceiveBuffer: budget, maxStreamBuffer: 64 * 1024 } as const;
    const { client, server } = await sessionPair(config);
    const stalled = client.open();
    const flowing = client.open();
    // Enough to fill the loopback socket buffers behind the stalled session.
    const a = randomBytes(8_000_000);
    const b = randomBytes(8_000_000);
    const aWritten = stalled.write(a);
    const bWritten = flowing.write(b);
    const stalledPeer = await server.accept();
    const flowingPeer = await server.accept();
    const flowed = tally(flowingPeer);

    await until(() => server.readingPaused, "the budget spent");
    // Stream 3's unread bytes spent it; the frame that crossed the line may overshoot.
    expect(stalledPeer.bufferedBytes).toBeGreaterThanOrEqual(budget);
    expect(stalledPeer.bufferedBytes).toBeLessThan(budget + 32_768);
    expect(server.receiveBudget).toBe(budget - stalledPeer.bufferedBytes);
    // TCP pushes back until the client's writer holds a short write's tail (unless the
    // kernel's socket buffers took all 16 MB: then the server's paused socket holds them).
    let handedOver = false;
    Promise.all([aWritten, bWritten]).then(() => {
      handedOver = true;
    });
    await until(() => client.writer.unwrittenBytes > 0 || handedOver, "the client's socket full");
    const heldAt = { stalled: stalledPeer.bufferedBytes, flowing: flowed.bytes };
    expect(heldAt.flowing).toBeLessThan(b.length);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    // Nothing moves on either stream while stream 3 is not read.
    expect(stalledPeer.bufferedBytes).toBe(heldAt.stalled);
    expect(flowed.bytes).toBe(heldAt.flowing);
    expect(await stateOf(bWritten)).toBe("pending");

    // Reading stream 3 frees the session, and both streams complete.
    const got = readAll(stalledPeer);
    await Promise.all([aWritten, bWritten]);
    stalled.closeWrite();
    flowing.closeWrite();
    expect(sha256(await got)).toBe(sha256(a));
    await until(() => flowed.ended, "stream 5's end");
    expect(flowed.hash).toBe(sha256(b));
    expect(server.counters.readPauses).toBeGreaterThanOrEqual(1);
  });
});
