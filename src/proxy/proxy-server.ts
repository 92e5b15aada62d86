/**
 * `proxy`: an HTTP CONNECT proxy. Reads a bounded request head (connect-head.ts), checks
 * --auth and --allow (proxy-policy.ts), dials the target with --connect-timeout, answers
 * `200 Connection Established`, then pipes exactly like `forward` (src/pipe/pipe.ts).
 *
 * Refusals: 400 (malformed or oversized head), 405 (not CONNECT), 407 (credentials), 403
 * (target not allowed), 408 (head too slow), 502 (target unreachable), 504 (connect timeout).
 */
import type { Socket } from "bun";
import { CloseReason, ErrorCode, formatPeer, type RelayError } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import type { NetListener } from "../net/listener.ts";
import { ConnectionTable, drainTable, type TableSettings } from "../pipe/connection-table.ts";
import { dialUpstream } from "../pipe/dialer.ts";
import type { EndOwner } from "../pipe/endpoint.ts";
import type { Pipe } from "../pipe/pipe.ts";
import { PipeEnd } from "../pipe/pipe-end.ts";
import type { ForwardEventListener } from "../pipe/pipe-events.ts";
import { ConnectHeadReader, type ConnectRequest } from "./connect-head.ts";
import { type AllowPattern, checkProxyAuthorization, isAllowed } from "./proxy-policy.ts";

export interface ProxySettings extends TableSettings {
  listenHost: string;
  listenPort: number;
  connectTimeout: number;
  /** Empty with allowAny: every target is allowed. */
  allow: readonly AllowPattern[];
  allowAny: boolean;
  /** `user:password`, or undefined for no authentication. */
  auth: string | undefined;
  maxHead: number;
  /** Seconds the whole request head may take to arrive. */
  headTimeout: number;
  /** A TLS listener (--tls-cert: `curl --proxy https://…`), --allow-from, reloads (src/net). */
  access?: NetAccess;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  502: "Bad Gateway",
  504: "Gateway Timeout",
};

const encoder = new TextEncoder();
const ESTABLISHED = encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n");

/** An error response with a one-line text body that says why. */
export function errorResponse(status: number, reason: string): Uint8Array {
  const body = `${status} ${STATUS_TEXT[status] ?? "Error"}: ${reason}\n`;
  const extra = status === 407 ? 'Proxy-Authenticate: Basic realm="bun-relay"\r\n' : "";
  const allow = status === 405 ? "Allow: CONNECT\r\n" : "";
  return encoder.encode(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n${extra}${allow}` +
      `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The client's owner until its CONNECT head is complete. */
class HeadPhase implements EndOwner {
  readonly reader: ConnectHeadReader;
  readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    readonly pipe: Pipe,
    private readonly server: ProxyServer,
  ) {
    this.reader = new ConnectHeadReader(server.settings.maxHead);
    this.timer = setTimeout(
      () =>
        server.refuse(
          pipe,
          408,
          CloseReason.HeadTimeout,
          `no complete request head within ${server.settings.headTimeout}s`,
        ),
      server.settings.headTimeout * 1000,
    );
  }

  onData(_end: PipeEnd, chunk: Uint8Array): void {
    const result = this.reader.push(chunk);
    if (result.kind === "incomplete") return;
    clearTimeout(this.timer);
    if (result.kind === "rejected") {
      this.server.refuse(this.pipe, result.status, CloseReason.BadRequest, result.reason);
    } else {
      this.server.admit(this.pipe, result.request, result.rest);
    }
  }

  onDrain(): void {}

  onEnd(end: PipeEnd): void {
    end.readEnded = true;
    clearTimeout(this.timer);
    this.server.refuse(
      this.pipe,
      400,
      CloseReason.BadRequest,
      "client closed before the request head ended",
    );
  }

  onClose(end: PipeEnd, error: Error | undefined): void {
    clearTimeout(this.timer);
    this.pipe.onClose(end, error);
  }
}

/**
 * The owner of a refused client while its error response is being written: what it still
 * sends is dropped; once the response is out, the graceful close of src/net takes over.
 */
class Refused implements EndOwner {
  constructor(private readonly pipe: Pipe) {}

  onData(): void {}

  onDrain(end: PipeEnd): void {
    if (end.flush()) end.shutWrite();
  }

  onEnd(end: PipeEnd): void {
    end.readEnded = true;
    end.shutWrite(); // closes once the response is out
  }

  onClose(end: PipeEnd, error: Error | undefined): void {
    this.pipe.onClose(end, error);
  }
}

export class ProxyServer {
  readonly table: ConnectionTable;
  private readonly listener: NetListener<PipeEnd>;
  private stopped = false;

  constructor(
    readonly settings: ProxySettings,
    private readonly emit: ForwardEventListener = () => {},
  ) {
    this.table = new ConnectionTable("proxy", settings, emit, () => ({
      poolHits: 0,
      poolMisses: 0,
      targetsUp: 0,
      targets: 0,
    }));
    this.listener = this.table.listen("proxy", settings, (socket) => this.accept(socket));
    emit({ type: "listening", mode: "proxy", host: settings.listenHost, port: this.port });
  }

  get port(): number {
    return this.listener.port;
  }

  /**
   * Graceful stop (--shutdown-timeout): stops accepting; open tunnels may finish for
   * `graceSeconds`, then everything is closed. Resolves once done.
   */
  async shutdown(graceSeconds: number): Promise<void> {
    this.listener.stop(false);
    await drainTable(this.table, this.emit, "proxy", graceSeconds);
    this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.listener.stop(false);
    this.table.stop();
  }

  private accept(socket: Socket<PipeEnd>): void {
    const pipe = this.table.admit(socket, this.stopped);
    if (pipe) pipe.client.owner = new HeadPhase(pipe, this);
  }

  /** The head is complete: check credentials and target, then dial. */
  admit(pipe: Pipe, request: ConnectRequest, rest: Uint8Array): void {
    pipe.targetLabel = formatPeer(request.host, request.port);
    const { auth, allow, allowAny } = this.settings;
    if (
      auth !== undefined &&
      !checkProxyAuthorization(request.headers.get("proxy-authorization"), auth)
    ) {
      this.refuse(pipe, 407, CloseReason.AuthRequired, "missing or wrong Proxy-Authorization");
      return;
    }
    if (!allowAny && !isAllowed(allow, request.host, request.port)) {
      this.refuse(
        pipe,
        403,
        CloseReason.Forbidden,
        `${request.authority} is not allowed by --allow`,
      );
      return;
    }
    // From here the pipe owns the client: bytes sent after the head wait in the upstream's
    // outbox (the client is paused past a limit) until the target is connected.
    pipe.client.owner = pipe;
    if (rest.length > 0) pipe.onData(pipe.client, rest);
    void this.dial(pipe, request);
  }

  private async dial(pipe: Pipe, request: ConnectRequest): Promise<void> {
    let socket: Socket<PipeEnd>;
    try {
      socket = await dialUpstream(
        request.host,
        request.port,
        this.settings.connectTimeout,
        new PipeEnd(pipe),
      );
    } catch (error) {
      const failure = error as RelayError;
      if (pipe.finished) return;
      const timedOut = failure.code === ErrorCode.ConnectTimeout;
      this.refuse(
        pipe,
        timedOut ? 504 : 502,
        timedOut ? CloseReason.ConnectTimeout : CloseReason.ConnectFailed,
        failure.reason,
      );
      return;
    }
    if (pipe.finished) {
      socket.end();
      return;
    }
    // The 200 goes first; whatever the target sends queues behind it in the client's outbox.
    pipe.client.send(ESTABLISHED);
    pipe.attachUpstream(socket);
    this.table.opened(pipe);
  }

  /**
   * Answers with an error status and closes gracefully once the response is written (FIN,
   * then the client's further input is dropped until its FIN): closing a socket with unread
   * input sends RST, which can destroy the response before the client reads it.
   */
  refuse(pipe: Pipe, status: number, reason: CloseReason, detail: string): void {
    const client = pipe.client;
    if (pipe.finished || client.closed || client.socket === undefined) return;
    pipe.reason ??= reason;
    pipe.detail ??= `${status}: ${detail}`;
    client.outbox = [];
    client.outboxBytes = 0;
    client.send(errorResponse(status, detail));
    client.owner = new Refused(pipe);
    if (client.paused) client.resumeReading();
    client.endAfterFlush = true;
    client.shutWrite();
  }
}
