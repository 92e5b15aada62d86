/**
 * The one bidirectional byte pipe of every mode that moves whole streams (forward, proxy,
 * tunnel): two endpoints, both directions at once, each with its own backpressure, half-close
 * and reset propagation.
 *
 *   client ──data──▶ [upstream.outbox] ──write──▶ upstream      (bytesUp)
 *   client ◀──write── [client.outbox] ◀──data─── upstream      (bytesDown)
 *
 * An endpoint is anything that implements `Endpoint` (endpoint.ts): a Bun TCP socket
 * (`PipeEnd`, pipe-end.ts) or an smux stream (`StreamEnd`, src/tunnel/stream-end.ts). The
 * pipe only speaks to that interface, so the forwarder's guarantees below hold for tunnel
 * streams too.
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
 * Sockets find their state on `socket.data` (a PipeEnd) and one handler table (pipe-end.ts)
 * serves every socket; the PipeEnd's `owner` decides what an event means (an idle pooled
 * socket, a proxy client still sending its request head, or a joined pipe).
 */
import type { Socket } from "bun";
import { CloseReason } from "../errors.ts";
import type { EndOwner, Endpoint } from "./endpoint.ts";
import { PipeEnd } from "./pipe-end.ts";

/** Queued bytes waiting for an upstream that is not connected yet, before the client is paused. */
export const PRECONNECT_HIGH_WATER = 64 * 1024;

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
