/** Shared steps of the client SDK tests: a relay's subscriber and publisher, and rejections. */
import { expect } from "bun:test";
import { ClientError, connect, type Publisher, type Subscriber } from "../../src/client/index.ts";
import type { PublisherOptions, SubscriberOptions } from "../../src/client/options.ts";
import type { TestRelay } from "../support/harness.ts";

/**
 * Connects a subscriber to `r` and waits until the relay has registered it, then connects a
 * publisher, so that everything the publisher sends is owed to the subscriber.
 */
export async function subscriberThenPublisher(
  r: TestRelay,
  subscriberOptions: Omit<SubscriberOptions, "role" | "port"> = {},
  publisherOptions: Omit<PublisherOptions, "role" | "port"> = {},
): Promise<{ subscriber: Subscriber; publisher: Publisher }> {
  const opened = r.events.filter((e) => e.type === "open" && e.side === "subscriber").length;
  const subscriber = await connect({
    ...subscriberOptions,
    role: "subscriber",
    port: r.relay.subPort,
  });
  await r.waitForCount((e) => e.type === "open" && e.side === "subscriber", opened + 1);
  const publisher = await connect({
    ...publisherOptions,
    role: "publisher",
    port: r.relay.pubPort,
  });
  return { subscriber, publisher };
}

/** The ClientError `promise` rejects with (fails the test if it resolves or throws another). */
export async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}
