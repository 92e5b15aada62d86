/**
 * The public face of a publishing connection. The work is done by a PublishWindow (frame or
 * line) over a Connection; this class only exposes it.
 */
import { idText } from "../protocol/frame-codec.ts";
import { ClientHandle } from "./client-handle.ts";
import type { Connection } from "./connection.ts";
import type { PublishOptions, PublishWindow } from "./publish-window.ts";

/**
 * Publishes messages to the relay's publisher port. Made by {@link connect} with
 * `role: "publisher"`; reconnects by itself unless `reconnect: false`.
 *
 * Delivery is at most once: a publish that resolved was accepted (frame) or handed to the
 * kernel (line); one that rejected with CLIENT_ERR_DISCONNECTED, CLIENT_ERR_CLOSED or (once
 * sent) CLIENT_ERR_TIMEOUT may or may not have reached subscribers, and is never re-sent by
 * the SDK.
 *
 * @example
 * ```ts
 * const publisher = await connect({ role: "publisher", port: 7001, framing: "frame" });
 * await publisher.publish("hello");            // resolved: SubmitAck(ID, 0) came back
 * await Promise.all(batch.map((m) => publisher.publish(m))); // up to maxInFlight at once
 * await publisher.drain();                     // waits for every publish, then closes
 * ```
 */
export class Publisher extends ClientHandle {
  /** @internal Made by connect(). */
  constructor(
    connection: Connection,
    private readonly window: PublishWindow,
  ) {
    super(connection);
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
   * Frame mode: the ID of the most recent Submit sent (8 characters, `00000002` first on each
   * connection: the Conn every frame connection opens with takes `00000001`), or undefined
   * before the first.
   * Read right after `publish()` when `waiting` was 0 to learn that publish's ID, as the seed's
   * demo client prints it. Line mode: always undefined.
   */
  get lastSubmitId(): string | undefined {
    const id = this.window.lastSubmitId;
    return id === undefined ? undefined : idText(id, 0);
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
   * @param options `timeoutMs`: how long this publish may take, from this call until it
   *   settles (waiting included), instead of the client's `publishTimeoutMs` (default 30000);
   *   0: no limit.
   * @returns resolves when delivered as above. Rejects with a ClientError:
   * - CLIENT_ERR_REFUSED: the relay answered `SubmitAck(ID, 1)` (too large, shutting down, no
   *   token): not delivered.
   * - CLIENT_ERR_DISCONNECTED: the connection dropped before the ack (frame) or before the
   *   kernel took it (line): maybe delivered, maybe not; not re-sent.
   * - CLIENT_ERR_CLOSED: the publisher was closed (or gave up reconnecting) first.
   * - CLIENT_ERR_TIMEOUT: it did not settle within its timeout. If it was still waiting, it
   *   was never sent: not delivered. If it was sent (frame: no SubmitAck yet; line: not yet
   *   taken by the kernel, still queued), it may or may not be delivered; not re-sent.
   * - CLIENT_ERR_NEWLINE (line): the payload holds `\n` or ends in `\r`; nothing sent.
   * - CLIENT_ERR_TOO_LONG: the payload is larger than `maxPayload` bytes; nothing sent.
   *
   * @example
   * ```ts
   * await publisher.publish(new Uint8Array([0, 1, 2]));
   * await publisher.publish("urgent", { timeoutMs: 500 });
   * ```
   */
  publish(data: Uint8Array | string, options?: PublishOptions): Promise<void> {
    return this.window.publish(data, options);
  }

  /**
   * Waits until every publish made so far has settled (acked, refused, taken by the kernel
   * or rejected, by its timeout too), then closes. Publishes made meanwhile are waited for too. With reconnect on
   * and the relay gone, it waits for the relay to return.
   */
  async drain(): Promise<void> {
    await this.window.idle();
    await this.close();
  }
}
