/**
 * The socket handlers of the relay's two ports: what happens when a publisher or a subscriber
 * connects, sends bytes, drains and closes. The Relay (server.ts) owns the listeners, the
 * hub and shutdown; it hands these handlers a PortHost, one object per relay, so no closure
 * is made per connection: each handler finds its connection's state on `socket.data`.
 */
import type { Socket, SocketHandler } from "bun";
import { CloseReason, formatPeer } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import { publisherFigures, subscriberFigures } from "./connection-figures.ts";
import type { ConnectionRegistry } from "./connection-registry.ts";
import type { RelayEventListener } from "./events.ts";
import { FrameAuth, type TokenCheck } from "./frame-auth.ts";
import { FramePublisher, type FramePublisherEvents } from "./frame-publisher.ts";
import { FrameSubscriberInput } from "./frame-subscriber.ts";
import { type Hub, WireFormat } from "./hub.ts";
import { LinePublisher } from "./line-publisher.ts";
import type { RelayOptions } from "./options.ts";
import type { PublisherConnection } from "./publisher.ts";
import type { PublisherSockets } from "./publisher-sockets.ts";
import { Subscriber } from "./subscriber.ts";
import type { RelaySocket } from "./ws-socket.ts";

/** What the port handlers need of the relay that owns them. */
export interface PortHost {
  readonly hub: Hub;
  /** TLS and --allow-from of the ports (the NATS port's INFO tells its TLS). */
  readonly access: NetAccess;
  readonly config: RelayOptions;
  readonly publishers: PublisherSockets;
  /** Every open connection, for /connz (src/relay/connection-registry.ts). */
  readonly connections: ConnectionRegistry;
  /** --token as its SHA-256; undefined when frame clients need none. */
  readonly tokenCheck: TokenCheck | undefined;
  readonly framePublisherEvents: FramePublisherEvents;
  /** True once shutdown began: new connections are closed at once. */
  readonly shuttingDown: boolean;
  readonly emit: RelayEventListener;
  /**
   * Over --max-conns: closes the just-accepted connection (its close handler reports why),
   * after writing `farewell` if given (the NATS port's -ERR), and returns true; false when it
   * may stay.
   */
  refuseOverLimit(
    connection: PublisherConnection | Subscriber,
    socket: RelaySocket,
    farewell?: Uint8Array,
  ): boolean;
  /**
   * Closes a socket the relay decided to close (src/net/graceful-close.ts): FIN, its further
   * input discarded until its FIN or the bound; its close handler runs at the release.
   */
  closeGracefully(socket: RelaySocket): void;
  /** Closes a subscriber the relay gave up on, with its reason and detail. */
  cutSubscriber(subscriber: Subscriber, reason: CloseReason, detail: string): void;
  /** A publisher's socket closed (`error` set when it was reset). */
  publisherClosed(socket: Socket<PublisherConnection>, error: Error | undefined): void;
  /** Some subscriber backlog shrank or went away: shutdown may be waiting for none. */
  backlogShrank(): void;
}

function peerOf(socket: Socket<unknown>): string {
  return formatPeer(socket.remoteAddress, socket.remotePort);
}

/** The publisher port: a LinePublisher or FramePublisher per connection (--pub-framing). */
export function publisherHandlers(host: PortHost): SocketHandler<PublisherConnection> {
  const { hub, config } = host;
  return {
    open(socket) {
      hub.counters.publishersAccepted++;
      const peer = peerOf(socket);
      const publisher =
        config.pubFraming === "frame"
          ? new FramePublisher(
              socket,
              peer,
              config,
              new FrameAuth(host.tokenCheck),
              host.framePublisherEvents,
            )
          : new LinePublisher(peer, config.maxLine);
      socket.data = publisher;
      if (host.refuseOverLimit(publisher, socket)) return;
      publisher.cid = host.connections.add(
        config.pubFraming,
        "publisher",
        socket,
        publisherFigures(publisher, hub.pacing),
      );
      host.publishers.add(socket);
      host.emit({ type: "open", side: "publisher", peer: publisher.peer });
      if (host.shuttingDown) host.publishers.close(socket, CloseReason.Shutdown);
    },
    data(socket, chunk) {
      // Bad input: the publisher already marked why; close once its acks are out.
      if (!socket.data.receive(chunk, hub)) host.publishers.end(socket);
    },
    drain(socket) {
      socket.data.drain(hub);
      host.publishers.drained(socket);
    },
    close(socket, error) {
      host.publisherClosed(socket, error);
    },
    error() {
      // The close handler follows and reports the connection's end.
    },
  };
}

/**
 * The subscriber port: a Subscriber per connection, joined to the hub at once, or (frame
 * subscribers under --token) once its Conn carried the token. Bytes a subscriber sends are
 * ignored and counted, except a frame subscriber's Conn.
 */
export function subscriberHandlers(host: PortHost): SocketHandler<Subscriber> {
  const { hub, config } = host;
  return {
    open(socket) {
      hub.counters.subscribersAccepted++;
      const format = config.subFraming === "frame" ? WireFormat.Frame : WireFormat.Line;
      const subscriber = new Subscriber(socket, peerOf(socket), format);
      socket.data = subscriber;
      if (host.refuseOverLimit(subscriber, socket)) return;
      subscriber.cid = host.connections.add(
        config.subFraming,
        "subscriber",
        socket,
        subscriberFigures(subscriber, config.subSubject ?? config.subject),
      );
      host.emit({ type: "open", side: "subscriber", peer: subscriber.peer });
      if (host.shuttingDown) {
        subscriber.closeReason = CloseReason.Shutdown;
        host.closeGracefully(socket);
        return;
      }
      if (format === WireFormat.Frame) {
        const auth = new FrameAuth(host.tokenCheck);
        subscriber.frameInput = new FrameSubscriberInput(subscriber, config, auth, hub, (joining) =>
          hub.add(joining),
        );
        // With --token, it receives nothing until its Conn carried the token.
        if (!auth.authenticated) return;
      }
      hub.add(subscriber);
    },
    data(socket, chunk) {
      const subscriber = socket.data;
      // A frame subscriber's Conn is protocol, not ignored input; its Submits are.
      const ignored = subscriber.frameInput ? subscriber.frameInput.push(chunk) : chunk.length;
      if (ignored < 0) {
        const reason = subscriber.closeReason ?? CloseReason.BadFrame;
        host.cutSubscriber(subscriber, reason, subscriber.closeDetail ?? "");
        return;
      }
      if (ignored === 0) return;
      const report = subscriber.noteInput(ignored, performance.now());
      if (report > 0) {
        host.emit({
          type: "subscriber_input",
          peer: subscriber.peer,
          bytes: report,
          totalBytes: subscriber.inputBytes,
        });
      }
    },
    drain(socket) {
      hub.flush(socket.data);
      host.backlogShrank();
    },
    close(socket, error) {
      const subscriber = socket.data;
      hub.remove(subscriber);
      host.connections.remove(subscriber.cid);
      host.emit({
        type: "close",
        side: "subscriber",
        peer: subscriber.peer,
        reason: subscriber.closeReason ?? (error ? CloseReason.PeerReset : CloseReason.PeerClosed),
        ...(subscriber.closeDetail ? { detail: subscriber.closeDetail } : {}),
        droppedBytes: subscriber.droppedBytes,
      });
      host.backlogShrank();
    },
    error() {
      // The close handler follows and reports the connection's end.
    },
  };
}
