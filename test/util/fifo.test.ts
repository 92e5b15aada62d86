/** Fifo (src/util/fifo.ts): the queue the mux and the client SDK share. */
import { describe, expect, test } from "bun:test";
import { Fifo } from "../../src/util/fifo.ts";

describe("Fifo", () => {
  test("keeps order through 100,000 interleaved pushes and shifts, compacting", () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let i = 0; i < 100_000; i++) {
      fifo.push(next++);
      if (i % 3 !== 0) expect(fifo.shift()).toBe(expected++);
    }
    expect(fifo.length).toBe(next - expected);
    expect(fifo.peek()).toBe(expected);
    expect(fifo.takeAll()).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
    expect(fifo.shift()).toBeUndefined();
  });
});

describe("Fifo positions", () => {
  test("at() reads and removeAt() takes an item by its place after the oldest", () => {
    const fifo = new Fifo<string>();
    for (const item of ["a", "b", "c", "d"]) fifo.push(item);
    expect(fifo.shift()).toBe("a");
    expect(fifo.at(0)).toBe("b");
    expect(fifo.at(2)).toBe("d");
    expect(fifo.at(3)).toBeUndefined();
    expect(fifo.removeAt(1)).toBe("c");
    expect(fifo.removeAt(5)).toBeUndefined();
    expect(fifo.takeAll()).toEqual(["b", "d"]);
    expect(fifo.length).toBe(0);
  });
});
