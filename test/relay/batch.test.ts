/** BatchBuilder (src/relay/batch.ts): when a batch is kept by reference, and that its bytes are exact. */
import { describe, expect, test } from "bun:test";
import { type Batch, BatchBuilder } from "../../src/relay/batch.ts";
import { concat, seededRandom } from "../support/harness.ts";

function bytesOf(batch: Batch): Uint8Array {
  return concat([
    batch.bytes.subarray(batch.start, batch.start + batch.length),
    batch.tail.subarray(batch.tailStart, batch.tailStart + batch.tailLength),
  ]);
}

function filled(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

describe("BatchBuilder", () => {
  test("one run of a chunk, and runs that continue it in the same chunk, stay by reference", () => {
    const builder = new BatchBuilder();
    const chunk = filled(1000, 1);
    builder.segment(chunk, 10, 100, true);
    builder.segment(chunk, 100, 400, true);
    const batch = builder.take();
    expect(batch.bytes).toBe(chunk);
    expect(batch).toMatchObject({ start: 10, length: 390, retainable: true, tailLength: 0 });
  });

  test("a large run after a few carried-over bytes becomes the tail, by reference", () => {
    const builder = new BatchBuilder();
    const carried = filled(20, 2);
    const chunk = filled(64 * 1024, 3);
    builder.segment(carried, 0, 20, false); // a codec's own buffer: must be copied
    builder.segment(chunk, 0, chunk.length, true);
    carried.fill(0); // the codec reuses its buffer: the batch must not see it
    const batch = builder.take();
    expect(batch.tail).toBe(chunk);
    expect(batch.retainable).toBe(false);
    expect(bytesOf(batch)).toEqual(concat([filled(20, 2), chunk]));
  });

  test("many small pieces are copied in order, growing the scratch buffer past 64 KiB", () => {
    const builder = new BatchBuilder();
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const piece = filled(37 + (i % 50), i + 10);
      pieces.push(piece);
      builder.segment(piece, 0, piece.length, i % 2 === 0);
    }
    const batch = builder.take();
    expect(batch.length + batch.tailLength).toBeGreaterThan(64 * 1024);
    expect(bytesOf(batch)).toEqual(concat(pieces));
  });

  test("reserve and commit write a message in place behind what is there", () => {
    const builder = new BatchBuilder();
    const chunk = filled(100, 4);
    builder.segment(chunk, 0, 100, true);
    const at = builder.reserve(5);
    builder.scratchBuffer().set([1, 2, 3, 4, 5], at);
    builder.commit(5);
    builder.messages = 2;
    expect(builder.length).toBe(105);
    const batch = builder.take();
    expect(bytesOf(batch)).toEqual(concat([chunk, Uint8Array.of(1, 2, 3, 4, 5)]));
    expect(builder.length).toBe(0);
    expect(builder.messages).toBe(0);
    builder.release(batch);
    expect(batch.length + batch.tailLength).toBe(0);
  });
});

describe("BatchBuilder tails of small segments", () => {
  test("the frames of one read after a copied first frame form one tail, by reference", () => {
    const builder = new BatchBuilder();
    const assembled = filled(93, 20); // a frame the decoder had to assemble: its own buffer
    const chunk = filled(93 * 500, 21);
    builder.segment(assembled, 0, 93, false);
    for (let at = 0; at < chunk.length; at += 93) builder.segment(chunk, at, at + 93, true);
    const batch = builder.take();
    expect(batch.tail).toBe(chunk);
    expect(batch.tailLength).toBe(chunk.length);
    expect(bytesOf(batch)).toEqual(concat([filled(93, 20), chunk]));
  });

  test("a batch that stays small is copied into one part when taken", () => {
    const builder = new BatchBuilder();
    const first = filled(100, 22);
    const second = filled(300, 23);
    builder.segment(first, 0, 100, true);
    builder.segment(second, 0, 300, true);
    const batch = builder.take();
    expect(batch.tailLength).toBe(0);
    expect(batch.retainable).toBe(false);
    expect(bytesOf(batch)).toEqual(concat([first, second]));
  });
});
