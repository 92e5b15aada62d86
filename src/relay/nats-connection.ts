/**
 * One client of the NATS port: the relay's third kind of connection, publisher and subscriber
 * at once, speaking the NATS client protocol as nats-server 2.9 does (server/client.go).
 *
 * Input: the pure NatsParser (src/protocol/nats-parser.ts) calls this connection once per
 * operation; a PUB is routed by subject through the SubjectRouter at once.
 * Output: everything for this client (its `MSG`s, `PONG`, `+OK`, `-ERR`) is appended, in
 * order, to one buffer, so a PONG never overtakes an earlier MSG. The router flushes the
 * buffer once at the end of the read that filled it: one write per socket per read. The
 * write goes through the hub (`offerOwn`) as one batch of this subscriber's own, so the
 * slow-consumer policies, pacing, write timeouts and shutdown apply as to line subscribers.
 * CONNECT and its credentials are in nats-handshake.ts, the SUB/UNSUB bookkeeping in
 * nats-subscription.ts.
 */
import type { Socket } from "bun";
import { CloseReason } from "../errors.ts";
import type { NatsClientHandler, NatsPub } from "../protocol/nats-client-ops.ts";
import { encodeInfo, NATS_OK, NATS_PING, NATS_PONG } from "../protocol/nats-encoder.ts";
import {
  NATS_ERR,
  type NatsErr,
  NatsErrorCode,
  type NatsProtocolError,
} from "../protocol/nats-errors.ts";
import { NatsParser } from "../protocol/nats-parser.ts";
import type { Hub } from "./hub.ts";
import { WireFormat } from "./hub.ts";
import type { NatsAuth } from "./nats-auth.ts";
import type { ConnectOptions } from "./nats-connect.ts";
import { type AdmittedUser, type HandshakeParty, NatsHandshake } from "./nats-handshake.ts";
import { NatsOutbound } from "./nats-outbound.ts";
import { publishViolation, subscribeViolation, type UserPermissions } from "./nats-permissions.ts";
import { type NatsSubscription, NatsSubscriptions } from "./nats-subscription.ts";
import type { RelayOptions } from "./options.ts";
import type { PublisherConnection } from "./publisher.ts";
import type {
  RoutedMessage,
  RoutedSubscription,
  RouteTarget,
  SubjectRouter,
} from "./subject-router.ts";
import { isValidLiteralSubject } from "./subjects.ts";
import { Subscriber } from "./subscriber.ts";
import type { RelaySocket, WsSocket } from "./ws-socket.ts";

const encoder = new TextEncoder();
/** The no-responders status nats-server sends (client.go processInboundClientMsg). */
const NO_RESPONDERS_HEADERS = encoder.encode("NATS/1.0 503\r\n\r\n");

/** What a NATS connection needs of the relay that owns it. */
export interface NatsHost {
  readonly hub: Hub;
  readonly router: SubjectRouter<NatsSubscription>;
  readonly auth: NatsAuth;
  readonly config: RelayOptions;
  /** INFO fields every client gets (server_id, version, max_payload, ...). */
  readonly info: Record<string, unknown>;
  /** True while every client's reads are held (pacing): PINGs are not counted then. */
  readonly holding: boolean;
  /** INFO's tls_required / tls_verify, as the port's TLS is now (a reload may change it). */
  readonly tlsInfo: Record<string, boolean>;
  /**
   * Closes the socket gracefully (src/net/graceful-close.ts, or a WebSocket close frame);
   * its close handler reports it.
   */
  closeGracefully(socket: RelaySocket): void;
}

/**
 * A NATS client's transport: a TCP (or TLS) socket of the NATS port, or a WebSocket client
 * of the WebSocket port (ws-socket.ts); the connection uses only write, pause, resume, the
 * peer's address and certificate, and the host's close.
 */
export type NatsSocket = Socket<NatsConnection> | WsSocket;

export class NatsConnection
  implements NatsClientHandler, RouteTarget, PublisherConnection, HandshakeParty
{
  readonly parser: NatsParser;
  /** The outbound half: its backlog, policy and counters, in the hub's subscriber list. */
  readonly outbound: Subscriber;
  /** Its SUBs by sid (nats-subscription.ts). */
  readonly subscriptions: NatsSubscriptions;
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  readonly selfPaused = false;
  cid = 0;
  bytesIn = 0;
  /** PUBs read (counted per read from the hub's total, so a PUB costs nothing more). */
  messagesIn = 0;
  /** The user CONNECT was admitted as (--users-file, --user); never its password. */
  user: string | undefined;
  flushPending = false;
  echo = true;
  /** CONNECT, its credentials and the auth timeout (nats-handshake.ts). */
  readonly handshake: NatsHandshake;
  /** CONNECT options (nats-server's defaults before a CONNECT: verbose and pedantic on). */
  private verbose = true;
  private pedantic = true;
  private headers = false;
  private noResponders = false;
  /** Client name and language from CONNECT, for logs. */
  name: string | undefined;
  /** --users-file: the user's rights as admitted (a reload does not change them); undefined: all. */
  private permissions: UserPermissions | undefined;
  /**
   * A wildcard subscription covers a subscribe-deny rule: from now on, deliveries whose
   * subject a deny rule matches are dropped (nats-server's `mperms`, never turned off).
   */
  private denyFilter = false;
  private pingsOut = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly output = new NatsOutbound();
  /** The graceful close has begun: nothing more is queued. */
  private finished = false;

  constructor(
    readonly socket: NatsSocket,
    readonly peer: string,
    private readonly host: NatsHost,
  ) {
    const { config, auth } = host;
    this.parser = new NatsParser(this, {
      maxControlLine: config.maxControlLine,
      maxPayload: config.maxPayload,
      awaitingConnect: auth.required,
    });
    this.outbound = new Subscriber(socket, peer, WireFormat.Nats);
    this.subscriptions = new NatsSubscriptions(this, host);
    this.handshake = new NatsHandshake(this, host);
  }

  /** Sends INFO and starts the timers; the connection is in the hub from here on. */
  start(clientId: number): void {
    const { config, auth, info } = this.host;
    const socket = this.socket;
    this.send(
      encodeInfo({
        ...info,
        ...this.host.tlsInfo,
        client_id: clientId,
        client_ip: socket.remoteAddress,
        ...(auth.required ? { auth_required: true } : {}),
      }),
    );
    this.handshake.start();
    if (config.pingInterval > 0) {
      this.pingTimer = setInterval(() => this.pingTick(), config.pingInterval * 1000);
    }
    this.host.router.flush();
  }

  /** PublisherConnection: feeds a read to the parser (replies are flushed by the caller). */
  receive(chunk: Uint8Array, hub: Hub): boolean {
    hub.counters.bytesReceived += chunk.length;
    this.bytesIn += chunk.length;
    this.parse(chunk);
    return true;
  }

  /** Runs the parser over `chunk` (or what it holds, for undefined), counting the PUBs in it. */
  private parse(chunk: Uint8Array | undefined): void {
    const counters = this.host.hub.counters;
    const before = counters.messagesReceived;
    if (chunk === undefined) this.parser.resume();
    else this.parser.push(chunk);
    this.messagesIn += counters.messagesReceived - before;
  }

  /** PublisherConnection: the socket can take more (the outbound side drains through the hub). */
  drain(): void {}

  /** Forgets every subscription and timer; returns the close reason for the log. */
  closed(reset: boolean): { reason: CloseReason; droppedBytes: number } {
    clearInterval(this.pingTimer);
    this.handshake.stop();
    this.finished = true;
    this.subscriptions.clear();
    const reason = this.closeReason ?? (reset ? CloseReason.PeerReset : CloseReason.PeerClosed);
    return { reason, droppedBytes: 0 };
  }

  // NatsClientHandler: called by the parser, in wire order.

  connect(json: Uint8Array): void {
    this.handshake.connect(json);
  }

  /** HandshakeParty: the failed or closing connection takes no late verdict. */
  get closing(): boolean {
    return this.finished || this.closeReason !== undefined;
  }

  /** HandshakeParty: CONNECT's options, once its credentials passed (or none are needed). */
  admitted(options: ConnectOptions, user?: AdmittedUser): void {
    this.handshake.stop();
    if (user !== undefined) {
      this.user = user.name;
      this.permissions = user.permissions;
    }
    this.parser.awaitingConnect = false;
    if (options.verbose !== undefined) this.verbose = options.verbose;
    if (options.pedantic !== undefined) this.pedantic = options.pedantic;
    if (options.echo !== undefined) this.echo = options.echo;
    this.headers = options.headers;
    this.parser.headers = this.headers;
    this.noResponders = options.noResponders;
    if (options.name !== undefined) this.name = options.name;
    if (this.verbose) this.send(NATS_OK);
  }

  pub(msg: NatsPub): void {
    if (this.pedantic && !isValidLiteralSubject(msg.subject)) {
      // nats-server sends the error and still delivers (client.go processPub returns nil).
      this.sendErr(NATS_ERR.invalidPublishSubject);
    }
    // client.go processInboundClientMsg: refused before the +OK, the message dropped.
    if (this.permissions !== undefined && !this.permissions.canPublish(msg.subject)) {
      this.send(publishViolation(msg.subject));
      return;
    }
    // nats-server acknowledges a verbose PUB at its control line, before delivering it.
    if (this.verbose) this.send(NATS_OK);
    const hub = this.host.hub;
    hub.counters.messagesReceived++;
    let delivered = this.host.router.route(msg, this);
    // Line and frame subscribers of a matching --sub-subject (stream-bridge.ts).
    const bridge = hub.bridge;
    if (bridge !== undefined) delivered += bridge.fromNats(msg);
    if (delivered === 0 && msg.replyBytes !== undefined && this.noResponders) {
      this.noResponder(msg.reply as string, msg.replyBytes);
    }
  }

  sub(subject: string, queue: string | undefined, sid: string): void {
    // client.go processSubEx checks permissions first, before the subject's structure.
    const permissions = this.permissions;
    if (permissions !== undefined) {
      if (!permissions.canSubscribe(subject, queue)) {
        this.send(subscribeViolation(subject, queue));
        return;
      }
      if (!this.denyFilter && permissions.needsDenyFilter(subject)) {
        this.denyFilter = true;
        this.host.router.changed(); // no shared run may include this connection unfiltered
      }
    }
    const added = this.subscriptions.add(subject, queue, sid);
    if (added === "added") {
      if (this.verbose) this.send(NATS_OK);
    } else if (added !== "sid_in_use") {
      this.sendErr(added);
    }
  }

  unsub(sid: string, max: number | undefined): void {
    this.subscriptions.unsub(sid, max);
    if (this.verbose) this.send(NATS_OK);
  }

  ping(): void {
    this.send(NATS_PONG);
  }

  pong(): void {
    this.pingsOut = 0;
  }

  error(error: NatsProtocolError): void {
    // An operation before the CONNECT that credentials require is an authorization failure.
    const unauthorized = error.code === NatsErrorCode.AuthorizationViolation;
    if (unauthorized) this.host.hub.counters.authFailures++;
    const reason = unauthorized ? CloseReason.AuthFailed : CloseReason.ProtocolError;
    this.fail(error.err, reason, `${error.code}: ${error.reason}`);
  }

  // RouteTarget: deliveries from the router.

  deliver(subscription: RoutedSubscription, message: RoutedMessage): boolean {
    if (!this.accepting || this.filters(message.subject)) return false;
    const sub = subscription as NatsSubscription;
    this.output.appendDelivery(
      message.subjectBytes,
      sub.sidBytes,
      message.replyBytes,
      message.headerSize,
      message.payload,
      this.headers,
    );
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) this.subscriptions.remove(sub);
    return true;
  }

  /** RouteTarget: true when its deny filter keeps messages on `subject` from it. */
  filters(subject: string): boolean {
    return this.denyFilter && (this.permissions as UserPermissions).deliveryDenied(subject);
  }

  /** RouteTarget: false once it takes nothing more (failed, or cut out of the hub). */
  get accepting(): boolean {
    return this.closeReason === undefined && this.outbound.index >= 0;
  }

  /** RouteTarget: deliveries the router encoded once for several clients. */
  deliverShared(bytes: Uint8Array, start: number, end: number, messages: number): boolean {
    if (!this.accepting) return false;
    this.output.appendShared(bytes, start, end, messages);
    return true;
  }

  /** Writes what was gathered since the last flush: one batch through the hub. */
  flushOutbound(): void {
    const output = this.output;
    if (output.pending) {
      const messages = output.messages;
      this.host.hub.offerOwn(this.outbound, output.take(), messages);
    }
    this.closeIfFlushed();
  }

  /** The outbound backlog drained (called after Hub.flush from the drain handler). */
  drained(): void {
    this.closeIfFlushed();
  }

  private closeIfFlushed(): void {
    if (this.closeReason !== undefined && this.outbound.backlog.length === 0 && !this.finished) {
      this.finished = true;
      this.host.closeGracefully(this.socket);
    }
  }

  /** No subscriber had interest: tell the requester, on its own subscription to `reply`. */
  private noResponder(reply: string, replyBytes: Uint8Array): void {
    const subscription = this.subscriptions.forReply(reply);
    if (subscription === undefined) return;
    this.deliver(subscription, {
      subject: reply,
      subjectBytes: replyBytes,
      replyBytes: undefined,
      headerSize: NO_RESPONDERS_HEADERS.length,
      payload: NO_RESPONDERS_HEADERS,
      source: NO_RESPONDERS_HEADERS,
      payloadStart: 0,
      payloadEnd: NO_RESPONDERS_HEADERS.length,
    });
    this.host.router.markPending(this);
  }

  private pingTick(): void {
    // While publishers are held this client's reads are paused, so its PONGs wait unread:
    // that is no sign of a dead client (nats-server's PINGs are not held back this way).
    if (this.host.holding) return;
    if (this.pingsOut + 1 > this.host.config.maxPingsOut) {
      this.fail(
        NATS_ERR.staleConnection,
        CloseReason.StaleConnection,
        `${this.pingsOut} PINGs unanswered`,
      );
    } else {
      this.pingsOut++;
      this.send(NATS_PING);
    }
    this.host.router.flush();
  }

  /** HandshakeParty: reads on after a bcrypt check, flushing the replies. */
  resumeReading(): void {
    this.socket.resume();
    this.parse(undefined);
    this.host.router.flush();
  }

  /** Sends `-ERR` (if any) and closes once it is written; later input is not read. */
  fail(err: NatsErr | undefined, reason: CloseReason, detail: string): void {
    if (this.closeReason !== undefined) return;
    this.parser.stop();
    this.handshake.stop();
    clearInterval(this.pingTimer);
    this.closeReason = reason;
    this.closeDetail = err === undefined ? detail : `-ERR '${err.text}': ${detail}`;
    if (err !== undefined) this.send(err.wire);
    this.host.router.markPending(this);
  }

  private sendErr(err: NatsErr): void {
    this.send(err.wire);
  }

  /** Appends protocol bytes of our own, in order with the deliveries. */
  private send(bytes: Uint8Array): void {
    // A shared run still open may hold deliveries for this client that came first.
    this.host.router.endRun();
    this.output.append(bytes);
    this.host.router.markPending(this);
  }
}
