/**
 * `connect()`: checks the options, builds the role's session over a Connection, and resolves
 * once the first connection is up (and authenticated).
 */
import { Connection } from "./connection.ts";
import { FramePublishing } from "./frame-publisher.ts";
import { LinePublishing } from "./line-publisher.ts";
import {
  type ConnectOptions,
  type PublisherOptions,
  resolveOptions,
  type SubscriberOptions,
} from "./options.ts";
import type { PublishWindow } from "./publish-window.ts";
import { Publisher } from "./publisher.ts";
import { Subscriber } from "./subscriber.ts";
import { SubscriberSession } from "./subscriber-session.ts";

/**
 * Connects to the relay as a publisher or a subscriber (`role`), over a line or frame port
 * (`framing`, which must match the relay's). The first connection is not retried: if it fails,
 * the promise rejects; reconnecting (on by default) applies to connections that were up. On a
 * frame port it resolves only once the relay answered the connection's `Conn(ID, token)`
 * (sent on every frame connection, with or without a token), so a port that is not a frame
 * port fails here rather than at the first publish.
 *
 * @returns a {@link Publisher} for `role: "publisher"`, a {@link Subscriber} for
 * `role: "subscriber"`. Rejects with a ClientError:
 * - CLIENT_ERR_BAD_OPTION: an option is invalid (e.g. `token` with `framing: "line"`);
 * - CLIENT_ERR_CONNECT: no connection (refused, unreachable, or over `connectTimeoutMs`, which
 *   also covers the Conn/ConnAck exchange), or, on a frame port, the relay closed it before
 *   its ConnAck (a line port refuses a frame client at its Conn);
 * - CLIENT_ERR_PROTOCOL: the relay answered the Conn with something else than a ConnAck
 *   (often: `codes` differ from its `--frame-codes`);
 * - CLIENT_ERR_AUTH: the relay answered `ConnAck(ID, 1)`: wrong token.
 *
 * @example
 * ```ts
 * import { connect } from "bun-relay/client";
 *
 * const publisher = await connect({ role: "publisher", host: "127.0.0.1", port: 7001, framing: "frame" });
 * const subscriber = await connect({ role: "subscriber", port: 7002, framing: "frame", token: "s3cret" });
 * ```
 */
export function connect(options: PublisherOptions): Promise<Publisher>;
export function connect(options: SubscriberOptions): Promise<Subscriber>;
export function connect(options: ConnectOptions): Promise<Publisher | Subscriber>;
export async function connect(options: ConnectOptions): Promise<Publisher | Subscriber> {
  const resolved = resolveOptions(options);
  if (resolved.role === "publisher") {
    const window: PublishWindow =
      resolved.framing === "frame"
        ? new FramePublishing(resolved.maxInFlight, resolved.codes)
        : new LinePublishing(resolved.maxInFlight);
    const connection = new Connection(resolved, window);
    window.bind(connection);
    await connection.start();
    return new Publisher(connection, window);
  }
  const session = new SubscriberSession(resolved);
  const connection = new Connection(resolved, session);
  session.bind(connection);
  await connection.start();
  return new Subscriber(connection, session);
}
