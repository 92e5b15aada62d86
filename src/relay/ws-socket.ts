/**
 * One WebSocket client seen as the byte stream a NATS connection writes to: the small part of
 * Bun's TCP Socket that NatsConnection, Subscriber and Backlog use (write, pause, resume, the
 * peer's address), over Bun.serve's ServerWebSocket, so TCP and WebSocket clients share one
 * connection class and the TCP path keeps Bun's Socket itself (no wrapper, no allocation).
 *
 * Writes. Every `write` is one binary frame; NATS needs no frame boundary (nats-server's
 * websocket.go frames whatever its write buffer holds). Bun's `ws.send` never writes part of a
 * frame: it queues what the kernel does not take and answers -1 (backpressure); past
 * `backpressureLimit` it drops the frame and answers 0. So that nothing is ever dropped and
 * nothing queues outside our accounting, `write` sends only while Bun's own queue is empty
 * and otherwise reports 0 bytes taken, like a full TCP send buffer: the caller keeps the bytes
 * in its Backlog (counted in the hub's pending bytes, under --max-pending and the
 * slow-consumer policy) and writes them from the `drain` handler. Bun's queue holds at most
 * the one frame it took while the socket was writable, as the kernel's send buffer would.
 * A frame Bun still refuses (0) is counted in `sendsRefused` and stays in our Backlog.
 *
 * Close. `close` sends a close frame with the status nats-server uses for the reason
 * (websocket.go wsEnqueueCloseMessage) after everything Bun queued; uWebSockets then waits
 * for the client's close frame and releases the TCP connection (RFC 6455 §7.1.2).
 */
import type { ServerWebSocket, Socket } from "bun";
import { CloseReason } from "../errors.ts";
import { closeGracefully, type LingerGroup } from "../net/graceful-close.ts";
import type { NatsConnection } from "./nats-connection.ts";

/** A connection's transport: a Bun TCP (or TLS) socket, or a WebSocket client. */
export type RelaySocket = Socket<unknown> | WsSocket;

/**
 * The relay's one close for any connection it decided to close: a TCP socket closes
 * gracefully (src/net/graceful-close.ts, lingering in `group` for up to `lingerMs`), a
 * WebSocket with a close frame whose status tells the reason (WsSocket.close).
 */
export function closeRelaySocket(socket: RelaySocket, group: LingerGroup, lingerMs?: number): void {
  if (socket instanceof WsSocket) socket.close();
  else closeGracefully(socket, group, lingerMs);
}

/** RFC 6455 §7.4.1 status codes nats-server sends (websocket.go wsCloseStatus*). */
export const WsCloseStatus = {
  NormalClosure: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;

/**
 * The close status for one of our close reasons, as websocket.go maps its ClosedState:
 * auth, limits and slow consumers are policy violations, protocol errors 1002, shutdown 1001.
 * Stale connections are 1006 there, a code RFC 6455 forbids in a close frame; we send 1001.
 */
export function wsCloseStatus(reason: CloseReason | undefined): number {
  switch (reason) {
    case undefined:
    case CloseReason.PeerClosed:
      return WsCloseStatus.NormalClosure;
    case CloseReason.AuthFailed:
    case CloseReason.AuthTimeout:
    case CloseReason.SlowConsumer:
    case CloseReason.WriteTimeout:
    case CloseReason.MaxConns:
      return WsCloseStatus.PolicyViolation;
    case CloseReason.ProtocolError:
      return WsCloseStatus.ProtocolError;
    case CloseReason.Shutdown:
    case CloseReason.StaleConnection:
      return WsCloseStatus.GoingAway;
    default:
      return WsCloseStatus.InternalError;
  }
}

/** What the relay keeps on each ServerWebSocket (`ws.data`). */
export interface WsData {
  /** The peer's port (ServerWebSocket has only the address); from server.requestIP. */
  remotePort: number;
  /** Set in `open`: the adapter the NATS connection writes to. */
  socket: WsSocket | undefined;
}

/** Counters of the WebSocket port's sends (read by tests and the logs). */
export interface WsSendCounters {
  /** Frames Bun refused past backpressureLimit (their bytes stayed in our Backlog). */
  sendsRefused: number;
}

export class WsSocket {
  /** The NATS connection using it (set right after both exist). */
  connection: NatsConnection | undefined;
  private closing = false;

  constructor(
    readonly ws: ServerWebSocket<WsData>,
    private readonly compress: boolean,
    private readonly counters: WsSendCounters,
  ) {}

  get remoteAddress(): string {
    return this.ws.remoteAddress;
  }

  get remotePort(): number {
    return this.ws.data.remotePort;
  }

  /**
   * Bun's Socket.write contract: sends `bytes[offset, offset + length)` as one binary frame and
   * returns `length`, or 0 while Bun still holds an earlier frame (the caller queues and waits
   * for `drain`), or -1 once closed.
   */
  write(bytes: Uint8Array, offset: number, length: number): number {
    const ws = this.ws;
    if (this.closing || ws.readyState !== 1) return -1;
    if (length === 0) return 0;
    if (ws.getBufferedAmount() > 0) return 0;
    const sent = ws.send(bytes.subarray(offset, offset + length), this.compress);
    if (sent === 0) {
      this.counters.sendsRefused++;
      return 0;
    }
    return length;
  }

  pause(): void {
    if (this.ws.readyState === 1) this.ws.pause();
  }

  resume(): void {
    if (this.ws.readyState === 1) this.ws.resume();
  }

  /** No client certificate reaches a WebSocket handler in Bun 1.4.5 (see docs/nats.md). */
  getPeerCertificate(): undefined {
    return undefined;
  }

  /**
   * Closes with the status for its connection's close reason, after what Bun already queued; the caller's
   * own queue must be empty (flushed, or dropped on purpose). Idempotent.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    const connection = this.connection;
    const reason = connection?.outbound.closeReason ?? connection?.closeReason;
    if (this.ws.readyState !== 1) return;
    // A paused socket would never read the client's answering close frame.
    this.ws.resume();
    this.ws.close(wsCloseStatus(reason), reason ?? "");
  }
}
