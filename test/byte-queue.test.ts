import { describe, expect, test } from "bun:test";
import { ByteQueue } from "../src/relay/byte-queue.ts";

function queued(queue: ByteQueue): number[] {
  return Array.from(queue.buffered.subarray(queue.offset, queue.offset + queue.length));
}

describe("ByteQueue", () => {
  test("holds no buffer until something is queued", () => {
    const queue = new ByteQueue();
    expect(queue.length).toBe(0);
    expect(queue.capacity).toBe(0);
  });

  test("keeps appended ranges in order, contiguous", () => {
    const queue = new ByteQueue();
    queue.append(Uint8Array.of(9, 1, 2, 9), 1, 3);
    queue.append(Uint8Array.of(3, 4, 5), 0, 3);
    expect(queue.length).toBe(5);
    expect(queued(queue)).toEqual([1, 2, 3, 4, 5]);
  });

  test("consume removes from the front; emptying resets", () => {
    const queue = new ByteQueue();
    queue.append(Uint8Array.of(1, 2, 3, 4), 0, 4);
    queue.consume(3);
    expect(queued(queue)).toEqual([4]);
    queue.consume(1);
    expect(queue.length).toBe(0);
    expect(queue.offset).toBe(0);
  });

  test("reclaims consumed space at the front before growing", () => {
    const queue = new ByteQueue();
    const block = new Uint8Array(4096).fill(7);
    queue.append(block, 0, 4096);
    const capacity = queue.capacity;
    queue.consume(4000);
    queue.append(Uint8Array.of(1, 2, 3), 0, 3);
    expect(queue.capacity).toBe(capacity);
    expect(queued(queue)).toEqual([...new Array(96).fill(7), 1, 2, 3]);
  });

  test("grows past its capacity without losing or reordering bytes", () => {
    const queue = new ByteQueue();
    const expected: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const piece = Uint8Array.from({ length: (i % 37) + 1 }, (_, k) => (i + k) & 255);
      queue.append(piece, 0, piece.length);
      expected.push(...piece);
      if (i % 3 === 0) {
        queue.consume(5);
        expected.splice(0, 5);
      }
    }
    expect(queued(queue)).toEqual(expected);
  });

  test("clear reports what it dropped and gives a large buffer back", () => {
    const queue = new ByteQueue();
    queue.append(new Uint8Array(1 << 20), 0, 1 << 20);
    expect(queue.clear()).toBe(1 << 20);
    expect(queue.length).toBe(0);
    expect(queue.capacity).toBe(0);
  });
});
