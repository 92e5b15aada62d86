/**
 * A subscriber's received messages waiting for its iterator, and the iterator's `next()`.
 *
 * A message goes straight to a `next()` that is already waiting, so a consumer that keeps up
 * never queues anything. Otherwise it queues, and the queue counts its bytes: the subscriber
 * pauses its socket when they pass its limit and resumes when `take` brings them back down
 * (MessageQueue only reports; the subscriber owns the socket).
 *
 * Ending: `end()` lets the consumer take what is queued, then ends the iteration (throwing the
 * error, if one was given); `clear()` drops what is queued (close()).
 */

import { Fifo } from "../util/fifo.ts";
import type { ClientError } from "./errors.ts";

export class MessageQueue {
  private readonly items = new Fifo<Uint8Array>();
  private bytes = 0;
  private waiter:
    | { resolve: (result: IteratorResult<Uint8Array>) => void; reject: (error: unknown) => void }
    | undefined;
  private ended = false;
  private failure: ClientError | undefined;

  /**
   * @param onTake called after the consumer took a queued message, with the bytes still queued.
   */
  constructor(private readonly onTake: (queuedBytes: number) => void) {}

  /** Messages waiting for the consumer. */
  get length(): number {
    return this.items.length;
  }

  /** Bytes of the messages waiting (each counted as its length plus one). */
  get queuedBytes(): number {
    return this.bytes;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Hands `message` to a waiting `next()`, or queues it. Ignored once ended. */
  push(message: Uint8Array): void {
    if (this.ended) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value: message, done: false });
      return;
    }
    this.items.push(message);
    this.bytes += message.length + 1; // + 1: an empty message still costs something
  }

  /** The next message: at once when one is queued, else when one arrives or the queue ends. */
  next(): Promise<IteratorResult<Uint8Array>> {
    const message = this.items.shift();
    if (message !== undefined) {
      this.bytes -= message.length + 1;
      this.onTake(this.bytes);
      return Promise.resolve({ value: message, done: false });
    }
    if (this.ended) {
      return this.failure ? Promise.reject(this.failure) : Promise.resolve(DONE);
    }
    if (this.waiter) return Promise.reject(new Error("next() called while a next() is pending"));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * No more messages will come: the consumer gets what is queued, then the end (or `error`,
   * thrown from its `next()`). A second end keeps the first's error.
   */
  end(error?: ClientError): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (error) waiter.reject(error);
    else waiter.resolve(DONE);
  }

  /** Drops every queued message (the subscriber was closed). */
  clear(): void {
    this.items.takeAll();
    this.bytes = 0;
  }
}

const DONE: IteratorResult<Uint8Array> = { value: undefined, done: true };
