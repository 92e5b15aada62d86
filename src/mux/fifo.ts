/**
 * Fifo: a first-in first-out queue over an array with a moving head, for the mux's hot
 * queues (a stream's received chunks and pending writes, the writer's round robin). Unlike
 * `Array.prototype.shift` it never moves the items on each take, and unlike a bare head index
 * it compacts, so a queue that never empties (a reader always one chunk behind) does not grow
 * a tail of empty slots without bound.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Takes the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.items.length) {
      // At least half the array is taken slots: drop them, O(remaining) at most as often as
      // that many items were taken.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Empties the queue and returns what it held, oldest first. */
  clear(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}
