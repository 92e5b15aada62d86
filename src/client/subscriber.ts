/**
 * The public face of a subscribing connection: an async iterable of message payloads. The
 * decoding and the queue are SubscriberSession's; this class exposes them.
 */
import { BODY_OFFSET, ID_OFFSET, idText } from "../protocol/frame-codec.ts";
import { ClientHandle } from "./client-handle.ts";
import type { Connection } from "./connection.ts";
import { ClientErrorCode } from "./errors.ts";
import type { SubscriberSession } from "./subscriber-session.ts";

/** A message with the ID its Submit frame carried (frame ports only). */
export interface MessageWithId {
  /**
   * The frame's 8 ID bytes as text, one character per byte: the publisher's own ID for a
   * frame publisher's message, `00000001`, `00000002`, ... assigned by the relay for a line
   * publisher's. IDs repeat across publishers and connections: they are not message keys.
   */
  id: string;
  /** The payload, byte for byte as published. */
  payload: Uint8Array;
}

const DONE = { value: undefined, done: true } as const;

/**
 * Receives every message published while it is connected, as an async iterable of payloads
 * (`Uint8Array`, no framing, no `\n`). Made by {@link connect} with `role: "subscriber"`.
 *
 * - One iteration at a time. Leaving a `for await` loop early (break, return, throw) closes
 *   the subscriber, as in nats.js; `close()` ends a running loop cleanly.
 * - A subscriber that does not iterate stops reading its socket once `maxQueueBytes` wait
 *   (backpressure to the relay, whose slow-consumer policy then applies).
 * - After a drop it reconnects (unless `reconnect: false`) and continues: messages published
 *   while it was away are not received. With reconnect off, or once it gives up, the loop
 *   throws the ClientError after the messages already queued.
 *
 * @example
 * ```ts
 * const subscriber = await connect({ role: "subscriber", port: 7002, framing: "frame" });
 * for await (const payload of subscriber) {
 *   console.log(new TextDecoder().decode(payload));
 * }
 * ```
 */
export class Subscriber extends ClientHandle implements AsyncIterable<Uint8Array> {
  private iterating = false;

  /** @internal Made by connect(). */
  constructor(
    connection: Connection,
    private readonly session: SubscriberSession,
  ) {
    super(connection);
  }

  /** Messages received since connect, over every connection, iterated or not. */
  get received(): number {
    return this.session.received;
  }

  /** Messages received and waiting for the iterator. */
  get queued(): number {
    return this.session.queue.length;
  }

  /** True while reading is paused because more than `maxQueueBytes` wait. */
  get paused(): boolean {
    return this.session.isPaused;
  }

  /**
   * Iterates the payloads. Throws CLIENT_ERR_ITERATING if an iteration is running.
   * @example
   * ```ts
   * for await (const payload of subscriber) handle(payload);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const offset = this.session.payloadOffset;
    return this.iterate((message) => (offset === 0 ? message : message.subarray(offset)));
  }

  /**
   * The messages as an async iterable: payloads (as iterating the subscriber), or with
   * `withIds: true` (frame ports only) `{ id, payload }` objects.
   * @throws ClientError CLIENT_ERR_BAD_OPTION for `withIds` on a line port.
   * @example
   * ```ts
   * for await (const { id, payload } of subscriber.messages({ withIds: true })) {
   *   console.log(id, payload.length);
   * }
   * ```
   */
  messages(options?: { withIds?: false }): AsyncIterable<Uint8Array>;
  messages(options: { withIds: true }): AsyncIterable<MessageWithId>;
  messages(options: { withIds?: boolean } = {}): AsyncIterable<Uint8Array | MessageWithId> {
    if (!options.withIds) return { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    if (this.framing !== "frame") {
      const reason = "withIds needs framing: frame (lines carry no ID)";
      throw this.connection.error(ClientErrorCode.BadOption, reason);
    }
    return {
      [Symbol.asyncIterator]: () =>
        this.iterate<MessageWithId>((frame) => ({
          id: idText(frame, ID_OFFSET),
          payload: frame.subarray(BODY_OFFSET),
        })),
    };
  }

  private iterate<T>(map: (message: Uint8Array) => T): AsyncIterator<T> {
    if (this.iterating) {
      throw this.connection.error(ClientErrorCode.Iterating, "this subscriber is already iterated");
    }
    this.iterating = true;
    const queue = this.session.queue;
    const finish = (): void => {
      this.iterating = false;
    };
    return {
      next: (): Promise<IteratorResult<T>> =>
        queue.next().then(
          (result) => {
            if (result.done) {
              finish();
              return DONE;
            }
            return { value: map(result.value), done: false };
          },
          (error: unknown) => {
            finish();
            throw error;
          },
        ),
      return: async (): Promise<IteratorResult<T>> => {
        finish();
        await this.close();
        return DONE;
      },
    };
  }
}
