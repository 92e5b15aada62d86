/**
 * What a Publisher and a Subscriber both are: a handle on one Connection (dialing,
 * reconnecting, events), with the same state getters, events and close.
 */
import type { Connection } from "./connection.ts";
import type { ClientError } from "./errors.ts";
import type { ClientEventListener, ClientEventName, ClientEvents } from "./events.ts";
import type { Framing } from "./options.ts";

export abstract class ClientHandle {
  /** @internal Made by connect(). */
  constructor(protected readonly connection: Connection) {}

  /** The relay's `host:port`. */
  get peer(): string {
    return this.connection.options.peer;
  }

  get framing(): Framing {
    return this.connection.options.framing;
  }

  /** True while a connection is up (and authenticated): a publisher's publishes go out at once. */
  get connected(): boolean {
    return this.connection.link !== undefined;
  }

  /** Resolves once closed for good: undefined after close(), else the error that closed it. */
  get closed(): Promise<ClientError | undefined> {
    return this.connection.closed;
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
   * Closes now: the connection ends (FIN) and `close` is emitted. A publisher's publishes not
   * settled reject with CLIENT_ERR_CLOSED; a subscriber's queued messages are dropped and a
   * running iteration ends (its loop exits with no error). Idempotent.
   */
  async close(): Promise<void> {
    this.connection.close();
    await this.connection.closed;
  }
}
