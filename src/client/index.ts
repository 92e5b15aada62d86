/**
 * The bun-relay client SDK (issue 12): publishers and subscribers for both wire formats,
 * `line` and seed 003's `frame`, over Bun's native TCP sockets, or node:net / node:tls on
 * Node 20+ (transport.ts). Import it as `bun-relay/client` (package.json "exports").
 *
 * - {@link connect} returns a {@link Publisher} or a {@link Subscriber}.
 * - Frame publishes resolve on the relay's SubmitAck; at most `maxInFlight` are unacked, after
 *   which `publish` waits. Line publishes resolve when the kernel took the bytes.
 * - Subscribers are async iterables of payloads, with socket backpressure.
 * - Reconnect with exponential backoff and jitter, and `disconnect` / `reconnecting` /
 *   `reconnect` / `close` events.
 * - Delivery is at most once: nothing unacked is ever re-sent.
 *
 * Guide: docs/client.md.
 *
 * @example
 * ```ts
 * import { connect } from "bun-relay/client";
 *
 * const subscriber = await connect({ role: "subscriber", port: 7002, framing: "frame" });
 * const publisher = await connect({ role: "publisher", port: 7001, framing: "frame" });
 * await publisher.publish("hello");
 * for await (const payload of subscriber) {
 *   console.log(new TextDecoder().decode(payload)); // hello
 *   break; // leaving the loop closes the subscriber
 * }
 * await publisher.close();
 * ```
 *
 * @module
 */

export type { FrameCodes } from "../protocol/frame-codec.ts";
export { connect } from "./connect.ts";
export { ClientError, ClientErrorCode } from "./errors.ts";
export type { ClientEventListener, ClientEventName, ClientEvents } from "./events.ts";
export {
  type CommonOptions,
  type ConnectOptions,
  DEFAULT_RECONNECT,
  type Framing,
  type PublisherOptions,
  type ReconnectOptions,
  type Role,
  type SubscriberOptions,
} from "./options.ts";
export type { PublishOptions } from "./publish-window.ts";
export { Publisher } from "./publisher.ts";
export { type MessageWithId, Subscriber } from "./subscriber.ts";
export type { ClientTlsOptions, PemSource } from "./tls-options.ts";
