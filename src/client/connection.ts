/**
 * The life of a client's connection to the relay, whatever its role and framing: dialing
 * (through transport.ts: Bun.connect, or node:net / node:tls; with a timeout), the `Conn(ID, token)` handshake of frame ports, the coalescing
 * Outbox, reconnecting with backoff, and the events. What the bytes mean is the Session's
 * business (a frame or line publisher, a subscriber); this file never decodes a byte.
 *
 * On a frame port every connection opens with `Conn(ID, token)` (an empty token without the
 * `token` option; the relay answers it `ConnAck(ID, 0)` then) and is ready only on its ConnAck,
 * within connectTimeoutMs. So a port that does not speak frames (a line port, which refuses the
 * Conn at once; a server that never answers) fails the connection instead of leaving publishes
 * pending forever (issue 19).
 *
 * States of one Connection:
 *
 * ```text
 * start() -> dialing -> open -> [frame: Conn sent -> ConnAck 0] -> ready
 *              ^                                              |
 *              |  backoff (reconnecting event)      drop (disconnect event)
 *              +-----------------------------------------------+
 * any state -> closed (close(), reconnect off or given up, wrong token; close event)
 * ```
 *
 * The first dial is not retried: `start()` rejects (CLIENT_ERR_CONNECT or CLIENT_ERR_AUTH),
 * as nats.js does by default. A wrong token is never retried either.
 */
import { encodeConn, FrameIdCounter } from "../protocol/frame-codec.ts";
import { Backoff } from "./backoff.ts";
import { ClientError, ClientErrorCode, describeCause } from "./errors.ts";
import { ClientEmitter } from "./events.ts";
import type { ResolvedOptions } from "./options.ts";
import { Outbox } from "./outbox.ts";
import { type ClientSocket, dial, type TransportEvents } from "./transport.ts";

/** The likely cause when a frame port does not answer a Conn. */
const NOT_A_FRAME_PORT =
  "is the port set to --framing frame (the relay refuses a frame client on a line port), and plaintext or TLS as this client?";

/** What a role does with a connection. Called only for the current link. */
export interface Session {
  /** A socket opened (frame: not ready before its ConnAck): reset per-socket state. */
  opened(link: Link): void;
  /** Bytes from the relay, in order. */
  data(chunk: Uint8Array): void;
  /** The kernel took bytes: `bytesWritten` in total on this link's Outbox. */
  written?(bytesWritten: number): void;
  /** The link may carry messages now (connected, authenticated). */
  ready(): void;
  /** The link is gone. Returns how many publishes this rejected (for the disconnect event). */
  lost(error: ClientError): number;
  /** The client is closed for good; reject or end whatever still waits. */
  closed(error: ClientError | undefined): void;
}

/**
 * One socket's worth of state: its Outbox, its request IDs, its readiness. It is also what the
 * transport reports that socket's events to (one object per dial, none per read).
 */
export class Link implements TransportEvents {
  socket: ClientSocket | undefined;
  outbox: Outbox | undefined;
  /** Request IDs on this socket: Conn takes the first, Submits the following ones. */
  readonly ids = new FrameIdCounter();
  ready = false;
  /** Set when this side ends the socket on purpose: the error it is closed with. */
  failure: ClientError | undefined;
  /** A failure that reconnecting cannot fix (a wrong token). */
  fatal = false;
  /** The last socket error seen, for the disconnect reason. */
  socketError: Error | undefined;
  /** @internal The connect timeout (its type differs between Bun and Node). */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Abandoned before it opened (timed out, or the client closed): close it on open. */
  abandoned = false;
  /** Gives up the dial while it has not opened (transport.ts, DialAttempt). */
  cancelDial: () => void = () => {};

  constructor(readonly connection: Connection) {}

  /** Stops reading the socket (TCP backpressure to the relay). */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  /** The session's decoder saw a ConnAck: the handshake's answer. */
  connAck(result: number): void {
    this.connection.handshakeDone(this, result);
  }

  // TransportEvents: the transport's reports about this link's socket.

  open(socket: ClientSocket): void {
    this.connection.linkOpened(this, socket);
  }

  handshakeFailed(socket: ClientSocket, error: Error | undefined): void {
    this.connection.linkHandshakeFailed(this, socket, error);
  }

  data(chunk: Uint8Array): void {
    this.connection.linkData(this, chunk);
  }

  drain(): void {
    this.outbox?.drain();
  }

  error(error: Error): void {
    this.socketError = error;
  }

  close(error: Error | undefined): void {
    this.connection.linkClosed(this, error);
  }

  /** Ends this link because of `error` (a protocol error, a timeout); reconnect decides next. */
  fail(error: ClientError, fatal = false): void {
    if (this.failure) return;
    this.failure = error;
    this.fatal = fatal;
    if (this.socket) this.socket.terminate();
    else {
      this.abandoned = true;
      this.cancelDial();
      this.connection.linkClosed(this, undefined);
    }
  }
}

export class Connection {
  readonly events = new ClientEmitter();
  /** Resolves when the client is closed for good: undefined after close(), else the error. */
  readonly closed: Promise<ClientError | undefined>;
  private resolveClosed!: (error: ClientError | undefined) => void;
  private current: Link | undefined;
  private state: "idle" | "connecting" | "ready" | "closed" = "idle";
  private everReady = false;
  private firstConnect: { resolve: () => void; reject: (error: ClientError) => void } | undefined;
  private readonly backoff: Backoff | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private downSince = 0;

  constructor(
    readonly options: ResolvedOptions,
    private readonly session: Session,
  ) {
    this.backoff = options.reconnect ? new Backoff(options.reconnect) : undefined;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** The current link once it is ready, else undefined (connecting, reconnecting, closed). */
  get link(): Link | undefined {
    return this.state === "ready" ? this.current : undefined;
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Dials the first time; resolves once ready, rejects with CLIENT_ERR_CONNECT or _AUTH. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      this.dial();
    });
  }

  /** Closes for good (FIN to the relay) and emits `close` with no error. Idempotent. */
  close(): void {
    this.finish(undefined);
  }

  // Called by the socket handlers and Link, for the current link only.

  /** Whether links dial with TLS (the `tls` option): they open at the handshake. */
  get usesTls(): boolean {
    return this.options.tls !== undefined && this.options.tls !== false;
  }

  /** A TLS link's handshake failed: it closes with CLIENT_ERR_CONNECT. */
  linkHandshakeFailed(link: Link, socket: ClientSocket, error: Error | undefined): void {
    if (link.abandoned || link !== this.current) {
      socket.terminate();
      return;
    }
    const why = error?.message ?? "the relay's certificate was not accepted";
    link.failure = this.error(ClientErrorCode.Connect, `TLS handshake failed: ${why}`, error);
    link.socket = socket;
    socket.terminate();
  }

  linkOpened(link: Link, socket: ClientSocket): void {
    if (link.abandoned || link !== this.current) {
      socket.terminate();
      return;
    }
    link.socket = socket;
    const session = this.session;
    link.outbox = new Outbox(socket, (bytesWritten) => session.written?.(bytesWritten));
    this.session.opened(link);
    if (this.options.framing !== "frame") this.linkReady(link);
    else link.outbox.append(encodeConn(link.ids.next(), this.options.token ?? ""));
  }

  linkData(link: Link, chunk: Uint8Array): void {
    if (link === this.current && !link.failure) this.session.data(chunk);
  }

  handshakeDone(link: Link, result: number): void {
    if (link.ready || this.options.framing !== "frame") {
      const reason =
        "ConnAck for a Conn that was not sent (do codes match the relay's --frame-codes?)";
      link.fail(this.error(ClientErrorCode.Protocol, reason));
    } else if (result === 0) {
      this.linkReady(link);
    } else {
      link.fail(this.error(ClientErrorCode.Auth, `ConnAck result ${result}: wrong token`), true);
    }
  }

  linkClosed(link: Link, cause: Error | undefined): void {
    clearTimeout(link.timer);
    link.outbox?.detach();
    if (link !== this.current || this.state === "closed") return;
    this.current = undefined;
    const error = link.failure ?? this.dropError(link, cause ?? link.socketError);
    const wasReady = link.ready;
    this.state = "connecting";
    const rejected = this.session.lost(error);
    if (!this.everReady) {
      this.finish(error);
      return;
    }
    if (wasReady) {
      this.downSince = performance.now();
      this.events.emit("disconnect", { peer: this.options.peer, error, rejected });
    }
    if (link.fatal || this.backoff === undefined) this.finish(error);
    else this.scheduleReconnect(error);
  }

  private dial(): void {
    const link = new Link(this);
    this.current = link;
    this.state = "connecting";
    const { host, port, tls, connectTimeoutMs } = this.options;
    link.timer = setTimeout(() => {
      const why = link.socket
        ? `no ConnAck within ${connectTimeoutMs} ms: ${NOT_A_FRAME_PORT}`
        : `${this.usesTls ? "no TCP connection or TLS handshake" : "no TCP connection"} within ${connectTimeoutMs} ms`;
      link.fail(this.error(ClientErrorCode.Connect, why));
    }, connectTimeoutMs);
    const attempt = dial({ host, port, tls }, link);
    link.cancelDial = attempt.cancel;
    attempt.connected.catch((error: Error) => {
      if (link.socket || link.abandoned) return;
      link.failure = this.error(ClientErrorCode.Connect, describeCause(error), error);
      this.linkClosed(link, error);
    });
  }

  private linkReady(link: Link): void {
    clearTimeout(link.timer);
    link.ready = true;
    this.state = "ready";
    this.session.ready();
    if (!this.everReady) {
      this.everReady = true;
      this.firstConnect?.resolve();
      this.firstConnect = undefined;
    } else {
      const attempts = this.backoff?.attempt ?? 0;
      const downtimeMs = Math.round(performance.now() - this.downSince);
      this.events.emit("reconnect", { peer: this.options.peer, attempts, downtimeMs });
    }
    this.backoff?.reset();
  }

  private scheduleReconnect(last: ClientError): void {
    const backoff = this.backoff as Backoff;
    if (!backoff.canRetry) {
      const reason = `gave up after ${backoff.attempt} reconnect attempts (last: ${last.reason})`;
      this.finish(this.error(ClientErrorCode.Closed, reason, last));
      return;
    }
    const delayMs = backoff.next();
    this.events.emit("reconnecting", {
      peer: this.options.peer,
      attempt: backoff.attempt,
      delayMs,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state !== "closed") this.dial();
    }, delayMs);
  }

  private finish(error: ClientError | undefined): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.retryTimer);
    const link = this.current;
    this.current = undefined;
    if (link) {
      clearTimeout(link.timer);
      link.abandoned = true;
      link.outbox?.detach();
      if (link.socket) link.socket.end();
      else link.cancelDial();
    }
    this.session.closed(error);
    if (error && this.firstConnect) this.firstConnect.reject(error);
    else this.firstConnect?.reject(this.error(ClientErrorCode.Closed, "closed while connecting"));
    this.firstConnect = undefined;
    this.resolveClosed(error);
    this.events.emit("close", { peer: this.options.peer, error });
  }

  private dropError(link: Link, cause: Error | undefined): ClientError {
    let why = cause ? describeCause(cause) : "the relay closed the connection";
    // A clean close right after the Conn: most likely a port that does not speak frames.
    if (!cause && !link.ready && link.socket && this.options.framing === "frame") {
      why += ` before its ConnAck: ${NOT_A_FRAME_PORT}`;
    }
    const code =
      link.ready || this.everReady ? ClientErrorCode.Disconnected : ClientErrorCode.Connect;
    return this.error(code, why, cause);
  }

  /** A ClientError about this connection's peer. */
  error(code: ClientErrorCode, reason: string, cause?: unknown): ClientError {
    return new ClientError(code, this.options.peer, reason, cause ? { cause } : undefined);
  }
}
