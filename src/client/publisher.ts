/**
 * The public face of a publishing connection. The work is done by a PublishWindow (frame or
 * line) over a Connection; this class only exposes it.
 */
import { idText } from "../protocol/frame-codec.ts";
import type { Connection } from "./connection.ts";
import type { ClientError } from "./errors.ts";
import type { ClientEventListener, ClientEventName, ClientEvents } from "./events.ts";
import type { Framing } from "./options.ts";
import type { PublishWindow } from "./publish-window.ts";

/**
 * Publishes messages to the relay's publisher port. Made by {@link connect} with
 * `role: "publisher"`; reconnects by itself unless `reconnect: false`.
 *
 * Delivery is at most once: a publish that resolved was accepted (frame) or handed to the
 * kernel (line); one that rejected with CLIENT_ERR_DISCONNECTED or CLIENT_ERR_CLOSED may or
 * may not have reached subscribers, and is never re-sent by the SDK.
 *
 * @example
 * ```ts
 * const publisher = await connect({ role: "publisher", port: 7001, framing: "frame" });
 * await publisher.publish("hello");            // resolved: SubmitAck(ID, 0) came back
 * await Promise.all(batch.map((m) => publisher.publish(m))); // up to maxInFlight at once
 * await publisher.drain();                     // waits for every publish, then closes
 * ```
 */
export class Publisher {
  /** @internal Made by connect(). */
  constructor(
    private readonly connection: Connection,
    private readonly window: PublishWindow,
  ) {}

  /** The relay's `host:port`. */
  get peer(): string {
    return this.connection.options.peer;
  }

  get framing(): Framing {
    return this.connection.options.framing;
  }

  /** True while a connection is up (and authenticated): publishes go out at once. */
  get connected(): boolean {
    return this.connection.link !== undefined;
  }

  /** Frame: Submits sent and not yet acked. Line: lines not yet taken by the kernel. */
  get inFlight(): number {
    return this.window.inFlightCount;
  }

  /** Publishes waiting for room (maxInFlight reached) or for a connection. */
  get waiting(): number {
    return this.window.waitingCount;
  }

  /**
   * Frame mode: the ID of the most recent Submit sent (8 characters, `00000001` first on each
   * connection; the Conn takes `00000001` when a token is set), or undefined before the first.
   * Read right after `publish()` when `waiting` was 0 to learn that publish's ID, as the seed's
   * demo client prints it. Line mode: always undefined.
   */
  get lastSubmitId(): string | undefined {
    const id = this.window.lastSubmitId;
    return id === undefined ? undefined : idText(id, 0);
  }

  /** Resolves once closed for good: undefined after close(), else the error that closed it. */
  get closed(): Promise<ClientError | undefined> {
    return this.connection.closed;
  }

  /**
   * Publishes one message: a Uint8Array as it is, a string as UTF-8.
   *
   * - Frame: sent as `Submit(ID, payload)` with this connection's next ID; resolves on
   *   `SubmitAck(ID, 0)`, which the relay sends once every current subscriber has it.
   * - Line: sent as the payload plus `\n`; resolves once the kernel took its bytes.
   *
   * With `maxInFlight` publishes unsettled, or while reconnecting, it waits its turn (in call
   * order) before anything is sent.
   *
   * @returns resolves when delivered as above. Rejects with a ClientError:
   * - CLIENT_ERR_REFUSED: the relay answered `SubmitAck(ID, 1)` (too large, shutting down, no
   *   token): not delivered.
   * - CLIENT_ERR_DISCONNECTED: the connection dropped before the ack (frame) or before the
   *   kernel took it (line): maybe delivered, maybe not; not re-sent.
   * - CLIENT_ERR_CLOSED: the publisher was closed (or gave up reconnecting) first.
   * - CLIENT_ERR_NEWLINE (line): the payload holds `\n` or ends in `\r`; nothing sent.
   * - CLIENT_ERR_TOO_LONG: the payload is larger than `maxPayload` bytes; nothing sent.
   *
   * @example
   * ```ts
   * await publisher.publish(new Uint8Array([0, 1, 2]));
   * ```
   */
  publish(data: Uint8Array | string): Promise<void> {
    return this.window.publish(data);
  }

  /**
   * Adds a listener for `disconnect`, `reconnecting`, `reconnect` or `close`; returns a
   * function that removes it.
   *
   * @example
   * ```ts
   * publisher.on("disconnect", ({ error, rejected }) => log(`${rejected} unacked: ${error.reason}`));
   * ```
   */
  on<K extends ClientEventName>(event: K, listener: ClientEventListener<K>): () => void {
    return this.connection.events.on(event, listener);
  }

  /** Resolves with the next `event`. */
  once<K extends ClientEventName>(event: K): Promise<ClientEvents[K]> {
    return this.connection.events.once(event);
  }

  /**
   * Waits until every publish made so far has settled (acked, refused, taken by the kernel
   * or rejected), then closes. Publishes made meanwhile are waited for too. With reconnect on
   * and the relay gone, it waits for the relay to return.
   */
  async drain(): Promise<void> {
    await this.window.idle();
    await this.close();
  }

  /**
   * Closes now: the connection ends (FIN), publishes not settled reject with
   * CLIENT_ERR_CLOSED, and `close` is emitted. Idempotent.
   */
  async close(): Promise<void> {
    this.connection.close();
    await this.connection.closed;
  }
}
