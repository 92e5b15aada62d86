/**
 * Connection events of publishers and subscribers, through a small typed emitter:
 * `client.on("disconnect", (event) => ...)` returns a function that removes the listener.
 */
import type { ClientError } from "./errors.ts";

/**
 * What each event carries. `peer` is the relay's `host:port` in every event; times are in
 * milliseconds.
 *
 * @example
 * ```ts
 * subscriber.on("disconnect", ({ error }) => console.warn(`lost ${error.peer}: ${error.reason}`));
 * subscriber.on("reconnect", ({ attempts, downtimeMs }) => console.info(`back: ${attempts} tries, ${downtimeMs} ms`));
 * const { error } = await subscriber.once("close");
 * ```
 */
export interface ClientEvents {
  /**
   * A working connection dropped. Frame publishers have already rejected every unacked
   * publish with CLIENT_ERR_DISCONNECTED (`rejected` of them); a reconnect follows unless
   * reconnect is off (then `close` follows).
   */
  disconnect: { peer: string; error: ClientError; rejected: number };
  /** A reconnect attempt is scheduled `delayMs` from now (attempt 1, 2, ... of this outage). */
  reconnecting: { peer: string; attempt: number; delayMs: number };
  /**
   * The client is connected (and authenticated) again after `attempts` attempts and
   * `downtimeMs` milliseconds without a connection. Messages published meanwhile were not
   * received by a subscriber.
   */
  reconnect: { peer: string; attempts: number; downtimeMs: number };
  /** The client is closed for good: `error` undefined after `close()`, else why. */
  close: { peer: string; error: ClientError | undefined };
}

/** The names of ClientEvents. */
export type ClientEventName = keyof ClientEvents;

/** A listener of one event. */
export type ClientEventListener<K extends ClientEventName> = (event: ClientEvents[K]) => void;

/**
 * Keeps listeners per event and calls them in the order added. A listener that throws does
 * not stop the others or the client's bookkeeping: its error is rethrown from a microtask, so
 * it surfaces as an uncaught error, as from a Node EventEmitter, without corrupting the state.
 */
export class ClientEmitter {
  private readonly listeners: { [K in ClientEventName]: ClientEventListener<K>[] } = {
    disconnect: [],
    reconnecting: [],
    reconnect: [],
    close: [],
  };

  /** Adds a listener; returns a function that removes it. */
  on<K extends ClientEventName>(event: K, listener: ClientEventListener<K>): () => void {
    const list = this.listeners[event] as ClientEventListener<K>[];
    list.push(listener);
    return () => {
      const at = list.indexOf(listener);
      if (at !== -1) list.splice(at, 1);
    };
  }

  /** Resolves with the next `event`. */
  once<K extends ClientEventName>(event: K): Promise<ClientEvents[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (value) => {
        off();
        resolve(value);
      });
    });
  }

  emit<K extends ClientEventName>(event: K, value: ClientEvents[K]): void {
    for (const listener of [...this.listeners[event]] as ClientEventListener<K>[]) {
      try {
        listener(value);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
