/** A NATS client's subscription (SUB): what the subscription index and the router hold. */
import type { NatsConnection } from "./nats-connection.ts";
import type { RoutedSubscription } from "./subject-router.ts";

const encoder = new TextEncoder();

/** A SUB of one connection: its sid (and its bytes, for MSG heads), queue and UNSUB max. */
export class NatsSubscription implements RoutedSubscription {
  readonly sidBytes: Uint8Array;
  /** UNSUB max: the subscription ends after this many deliveries; 0: no limit. */
  max = 0;
  delivered = 0;

  constructor(
    readonly target: NatsConnection,
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
  ) {
    this.sidBytes = encoder.encode(sid);
  }
}
