/**
 * The one bidirectional byte pipe of every mode that moves whole streams (forward, proxy,
 * tunnel): two endpoints, both directions at once, each with its own backpressure, half-close
 * and reset propagation.
 *
 *   client ──data──▶ [upstream.outbox] ──write──▶ upstream      (bytesUp)
 *   client ◀──write── [client.outbox] ◀──data─── upstream      (bytesDown)
 *
 * An endpoint is anything that implements `Endpoint`: a Bun TCP socket (`PipeEnd`, here) or an
 * smux stream (`StreamEnd`, src/tunnel/stream-end.ts). The pipe only speaks to that interface,
 * so the forwarder's guarantees below hold for tunnel streams too.
 *
 * Backpressure: Bun's write() is one non-blocking send that keeps nothing, so the unwritten
 * rest goes into the far end's outbox and the near socket is paused (kernel-level, so TCP flow
 * control pushes back on its peer) until the far socket drains. Each outbox therefore holds at
 * most the chunk that did not fit plus what was already in flight: a few hundred KiB per
 * direction, whatever the speeds.
 *
 * Half-close: a FIN from one side becomes shutdown() of the other side's write half once its
 * outbox is flushed, and the reverse direction keeps flowing. A reset on one side resets the
 * other. The pipe is done when both sockets have closed.
 *
 * Sockets find their state on `socket.data` (a PipeEnd) and one handler table serves every
 * socket; the PipeEnd's `owner` decides what an event means (an idle pooled socket, a proxy
 * client still sending its request head, or a joined pipe).
 */
import type { Socket, SocketHandler } from "bun";
import { CloseReason } from "../errors.ts";
import type { NetAccess } from "../net/access.ts";
import { type NetListener, openListener } from "../net/listener.ts";

/**
 * Whoever currently handles an endpoint's events. Implementers may narrow `end` to the
 * endpoint class they own (the pool and the proxy's head phase take PipeEnds only).
 */
export interface EndOwner {
  /** Bytes read from the endpoint, in order; the chunk is the owner's to keep. */
  onData(end: Endpoint, chunk: Uint8Array): void;
  /** The endpoint can take more after `backlogged` was true (may also fire spuriously). */
  onDrain(end: Endpoint): void;
  /** The peer sent FIN (we may still write). */
  onEnd(end: Endpoint): void;
  /** The endpoint is gone; `error` is set for a reset (or a lost tunnel session). */
  onClose(end: Endpoint, error: Error | undefined): void;
}

/**
 * One side of a pipe, whatever carries it. The pipe reads and sets the state fields; the
 * endpoint reports its events to `owner` and does the I/O. Sizes are bytes.
 */
export interface Endpoint {
  owner: EndOwner;
  /** `host:port` (or a stream label) of the far end, for logs. */
  peerAddress: string;
  /** Connected: sent bytes go out (or wait behind backpressure), not wait for a connection. */
  readonly attached: boolean;
  /** Bytes queued here, not yet taken by the transport below. */
  readonly outboxBytes: number;
  /** The producer feeding this end should stop reading until `onDrain`. */
  readonly backlogged: boolean;
  /** Reading is paused (set through pauseReading/resumeReading). */
  readonly paused: boolean;
  /** FIN received from this end. */
  readEnded: boolean;
  /** We shut this end's write half down (or will, once its outbox is flushed). */
  writeShut: boolean;
  /** Close fully instead of half-closing once the outbox is flushed (the other end is gone). */
  endAfterFlush: boolean;
  /** Gone: no more events will come from it. */
  closed: boolean;
  /** Queues `chunk` and writes as much as the transport takes now. */
  send(chunk: Uint8Array): void;
  /** Writes queued bytes; returns true once nothing holds the producer back any more. */
  flush(): boolean;
  /** Half-closes our direction after the queued bytes (or closes, see endAfterFlush). */
  shutWrite(): void;
  /** Stops delivering data (the transport below pushes back on its peer). */
  pauseReading(): void;
  resumeReading(): void;
  /** Drops queued bytes and closes: FIN, or a reset when `reset`. */
  abort(reset: boolean): void;
  /** The CLOSE detail for an error that closed this end; the pipe's default when absent. */
  describeError?(error: Error, side: "client" | "upstream"): string;
}

/** Queued bytes waiting for an upstream that is not connected yet, before the client is paused. */
export const PRECONNECT_HIGH_WATER = 64 * 1024;

/** A Bun TCP socket as an Endpoint, with the bytes waiting to be written to it. */
export class PipeEnd implements Endpoint {
  socket: Socket<PipeEnd> | undefined;
  /** `host:port` of the far end of this socket. */
  peerAddress = "-";
  /** Bytes read from the other end, not yet taken by this socket's kernel buffer. */
  outbox: Uint8Array[] = [];
  outboxBytes = 0;
  /** This socket's reading is paused because the other end's outbox is full. */
  paused = false;
  /** FIN received from this socket. */
  readEnded = false;
  /** We shut this socket's write half down (or will, once its outbox is flushed). */
  writeShut = false;
  /** Close fully instead of shutdown() once the outbox is flushed (the other end is gone). */
  endAfterFlush = false;
  /** shutdown()/end() has been called on the socket. */
  private finSent = false;
  closed = false;

  constructor(public owner: EndOwner) {}

  get attached(): boolean {
    return this.socket !== undefined;
  }

  /** A short write left bytes here: the kernel buffer is full until `drain`. */
  get backlogged(): boolean {
    return this.outboxBytes > 0;
  }

  pauseReading(): void {
    this.paused = true;
    this.socket?.pause();
  }

  resumeReading(): void {
    this.paused = false;
    this.socket?.resume();
  }

  abort(reset: boolean): void {
    this.outbox = [];
    this.outboxBytes = 0;
    if (this.socket === undefined || this.closed) return;
    if (reset) this.socket.terminate();
    else this.socket.end();
  }

  /** Queues `chunk` and writes as much as the kernel takes now. */
  send(chunk: Uint8Array): void {
    const socket = this.socket;
    if (socket === undefined || this.outboxBytes > 0 || this.closed) {
      this.outbox.push(chunk);
      this.outboxBytes += chunk.length;
      return;
    }
    const written = socket.write(chunk, 0, chunk.length);
    if (written < chunk.length) {
      // -1 means the socket is already closing; its close handler settles the pipe.
      const rest = written <= 0 ? chunk : chunk.subarray(written);
      this.outbox.push(rest);
      this.outboxBytes += rest.length;
    }
  }

  /** Writes queued bytes until the kernel stops taking them. Returns true when all are out. */
  flush(): boolean {
    const socket = this.socket;
    if (socket === undefined) return this.outboxBytes === 0;
    while (this.outbox.length > 0) {
      const head = this.outbox[0] as Uint8Array;
      const written = socket.write(head, 0, head.length);
      if (written <= 0) return false;
      this.outboxBytes -= written;
      if (written < head.length) {
        this.outbox[0] = head.subarray(written);
        return false;
      }
      this.outbox.shift();
    }
    return true;
  }

  /** Sends FIN (or closes, when the peer already sent its FIN or the other end is gone). */
  shutWrite(): void {
    this.writeShut = true;
    const socket = this.socket;
    if (socket === undefined || this.closed || this.finSent || this.outboxBytes > 0) return;
    this.finSent = true;
    if (this.readEnded || this.endAfterFlush) socket.end();
    else socket.shutdown();
  }
}

/** A pipe between any two endpoints. */
export type AnyPipe = Pipe<Endpoint, Endpoint>;

/** What the pipe tells whoever tracks connections. */
export interface PipeListener {
  onPipeClosed(pipe: AnyPipe): void;
}

/**
 * Both directions between a client endpoint and an upstream endpoint, with the bytes and
 * times of the CLOSE line. `C` and `U` are the endpoint classes: PipeEnd (a Bun socket) for
 * forward and proxy; a tunnel pipes a socket to a StreamEnd or a StreamEnd to a socket.
 */
export class Pipe<C extends Endpoint = PipeEnd, U extends Endpoint = PipeEnd> implements EndOwner {
  readonly client: C;
  readonly upstream: U;
  bytesUp = 0;
  bytesDown = 0;
  readonly openedAt = performance.now();
  /** Set by the data path, cleared by the timeout sweeper: cheaper than reading a clock per chunk. */
  active = true;
  /** When the sweeper last saw activity (performance.now() ms). */
  lastActiveAt = this.openedAt;
  reason: CloseReason | undefined;
  detail: string | undefined;
  /** The upstream was handed over from the pool. */
  pooled = false;
  /** `host:port` of the target this pipe goes (or tried to go) to. */
  targetLabel = "-";
  /** The target whose open-connection count includes this pipe (least-conn reads it). */
  countedIn: { active: number } | undefined;
  private reported = false;

  /**
   * Without `ends`, both ends are new PipeEnds (forward, proxy). Given ends are taken over:
   * their `owner` becomes this pipe.
   */
  constructor(
    readonly id: number,
    private readonly listener: PipeListener,
    ends?: { client: C; upstream: U },
  ) {
    // The default type arguments are PipeEnd, which is what is built when no ends are given.
    this.client = ends?.client ?? (new PipeEnd(this) as Endpoint as C);
    this.upstream = ends?.upstream ?? (new PipeEnd(this) as Endpoint as U);
    this.client.owner = this;
    this.upstream.owner = this;
  }

  get finished(): boolean {
    return this.reported;
  }

  /** One side has finished sending: the half-close timeout applies instead of the idle one. */
  get halfClosed(): boolean {
    return this.client.readEnded || this.upstream.readEnded;
  }

  /** Joins the upstream socket; bytes the client sent meanwhile (and any the upstream sent) flow now. */
  attachUpstream(
    this: Pipe<C, PipeEnd>,
    socket: Socket<PipeEnd>,
    early: readonly Uint8Array[] = [],
  ): void {
    const end = this.upstream;
    const previous = socket.data;
    end.socket = socket;
    end.peerAddress = previous.peerAddress;
    end.paused = previous.paused; // a pooled socket may hold a greeting and be paused
    socket.data = end;
    this.upstreamAttached(early);
  }

  /**
   * The upstream endpoint has just become attached (a socket connected, a stream opened):
   * the bytes the client sent meanwhile go out, then `early` bytes the upstream sent before
   * the pipe owned it (a pooled socket's greeting). When the client left meanwhile, the
   * upstream is closed instead.
   */
  upstreamAttached(early: readonly Uint8Array[] = []): void {
    const end = this.upstream;
    if (this.reported) {
      end.abort(false);
      return;
    }
    for (const chunk of early) this.onData(end, chunk);
    this.onDrain(end);
    if (end.paused && this.client.outboxBytes === 0) end.resumeReading();
  }

  /**
   * Ends the pipe on our initiative (timeout, no upstream, shutdown). A reset sends RST both
   * ways (a stream has no RST: it is closed); otherwise both ends get FIN and queued bytes
   * are dropped.
   */
  close(reason: CloseReason, detail?: string, reset = false): void {
    this.reason ??= reason;
    if (detail !== undefined) this.detail ??= detail;
    for (const end of [this.client, this.upstream]) {
      if (!end.attached || end.closed) continue;
      end.abort(reset);
    }
    this.reportIfDone();
  }

  onData(end: Endpoint, chunk: Uint8Array): void {
    this.active = true;
    let target: Endpoint;
    if (end === this.client) {
      this.bytesUp += chunk.length;
      target = this.upstream;
    } else {
      this.bytesDown += chunk.length;
      target = this.client;
    }
    if (target.closed || target.writeShut) return; // nobody left to take it
    target.send(chunk);
    // Backlogged means the far transport is full: stop reading until it drains.
    // Before the upstream exists, buffer a little first so a short request costs no pause.
    if (
      target.backlogged &&
      !end.paused &&
      (target.attached || target.outboxBytes >= PRECONNECT_HIGH_WATER)
    ) {
      end.pauseReading();
    }
  }

  onDrain(end: Endpoint): void {
    // Drain also fires spuriously; flush() does nothing on an empty outbox.
    if (!end.flush()) return;
    this.active = true;
    const source = end === this.client ? this.upstream : this.client;
    if (source.paused && !source.closed) source.resumeReading();
    if (end.writeShut || end.endAfterFlush) end.shutWrite();
  }

  onEnd(end: Endpoint): void {
    if (end.readEnded) return;
    end.readEnded = true;
    const target = end === this.client ? this.upstream : this.client;
    if (!target.attached) {
      target.writeShut = true; // upstreamAttached shuts it once the early bytes are out
      return;
    }
    target.shutWrite();
  }

  onClose(end: Endpoint, error: Error | undefined): void {
    if (end.closed) return;
    end.closed = true;
    const other = end === this.client ? this.upstream : this.client;
    if (error !== undefined) {
      const side = end === this.client ? "client" : "upstream";
      this.reason ??= CloseReason.PeerReset;
      this.detail ??=
        end.describeError?.(error, side) ??
        `${side} reset (${(error as { code?: string }).code ?? error.message})`;
      end.abort(true);
      if (other.attached && !other.closed) other.abort(true);
    } else {
      this.reason ??= CloseReason.PeerClosed;
      // This end can take nothing more: deliver what it sent, then close the other fully.
      end.readEnded = true;
      other.endAfterFlush = true;
      if (other.attached && !other.closed) other.shutWrite();
    }
    this.reportIfDone();
  }

  private reportIfDone(): void {
    if (this.reported) return;
    const upstreamGone = !this.upstream.attached || this.upstream.closed;
    if (!this.client.closed || !upstreamGone) return;
    this.reported = true;
    this.listener.onPipeClosed(this);
  }
}

/** One handler table for every socket of the forwarding modes; state lives on `socket.data`. */
export const pipeEndHandlers = {
  binaryType: "uint8array",
  data(socket: Socket<PipeEnd>, chunk: Uint8Array) {
    const end = socket.data;
    end.owner.onData(end, chunk);
  },
  drain(socket: Socket<PipeEnd>) {
    const end = socket.data;
    end.owner.onDrain(end);
  },
  end(socket: Socket<PipeEnd>) {
    const end = socket.data;
    end.owner.onEnd(end);
  },
  close(socket: Socket<PipeEnd>, error?: Error) {
    const end = socket.data;
    end.owner.onClose(end, error);
  },
  error() {
    // The close handler follows and settles the pipe.
  },
} satisfies SocketHandler<PipeEnd, "uint8array">;

/**
 * Listens for the clients of a forwarding mode: half-open allowed (a client's FIN is passed
 * on, not taken as the end), the shared handler table, `accept` for each new socket (after
 * the TLS handshake with `access.tls`: TLS termination). Opened by src/net's openListener, so
 * --tls-cert, --allow-from and SIGHUP reloads work as on the relay's ports.
 * Throws a RelayError naming the mode and the address when the port cannot be opened.
 */
export function listenForClients(
  mode: string,
  host: string,
  port: number,
  accept: (socket: Socket<PipeEnd>) => void,
  access?: NetAccess,
): NetListener<PipeEnd> {
  return openListener<PipeEnd>({
    what: mode,
    host,
    port,
    access,
    allowHalfOpen: true,
    socket: { ...pipeEndHandlers, open: accept },
  });
}
