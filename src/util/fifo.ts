/**
 * A first-in first-out queue over an array with a moving head: push and shift are O(1)
 * amortized, unlike Array#shift, which moves every element; and unlike a bare head index it
 * compacts, so a queue that never empties (a reader always one chunk behind) does not grow a
 * tail of empty slots. Used by the mux (a stream's chunks and writes, the writer's round
 * robin) and the client SDK (publishes in flight and waiting, a subscriber's messages).
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The item `index` places after the oldest (0: the oldest). */
  at(index: number): T | undefined {
    return this.items[this.head + index];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let it be collected
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes the item `index` places after the oldest (an out-of-order ack); O(n). */
  removeAt(index: number): T | undefined {
    const at = this.head + index;
    if (at >= this.items.length) return undefined;
    return this.items.splice(at, 1)[0];
  }

  /** Removes every item and returns them, oldest first. */
  takeAll(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}
