/**
 * The bidirectional pipe between a client socket and an upstream socket: both directions flow
 * at once, each with its own backpressure, half-close and reset propagation.
 *
 *   client ──data──▶ [upstream.outbox] ──write──▶ upstream      (bytesUp)
 *   client ◀──write── [client.outbox] ◀──data─── upstream      (bytesDown)
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
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { CloseReason, listenError } from "../errors.ts";

/** Whoever currently handles a PipeEnd's socket events. */
export interface EndOwner {
  onData(end: PipeEnd, chunk: Uint8Array): void;
  onDrain(end: PipeEnd): void;
  /** The peer sent FIN (we may still write). */
  onEnd(end: PipeEnd): void;
  /** The socket is gone; `error` is set for a reset. */
  onClose(end: PipeEnd, error: Error | undefined): void;
}

/** Queued bytes waiting for an upstream that is not connected yet, before the client is paused. */
export const PRECONNECT_HIGH_WATER = 64 * 1024;

/** One socket of a pipe, with the bytes waiting to be written to it. */
export class PipeEnd {
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

/** What the pipe tells whoever tracks connections. */
export interface PipeListener {
  onPipeClosed(pipe: Pipe): void;
}

/** Bytes and times of a pipe, for the CLOSE line. */
export class Pipe implements EndOwner {
  readonly client: PipeEnd;
  readonly upstream: PipeEnd;
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

  constructor(
    readonly id: number,
    private readonly listener: PipeListener,
  ) {
    this.client = new PipeEnd(this);
    this.upstream = new PipeEnd(this);
  }

  get finished(): boolean {
    return this.reported;
  }

  /** One side has finished sending: the half-close timeout applies instead of the idle one. */
  get halfClosed(): boolean {
    return this.client.readEnded || this.upstream.readEnded;
  }

  /** Joins the upstream socket; bytes the client sent meanwhile (and any the upstream sent) flow now. */
  attachUpstream(socket: Socket<PipeEnd>, early: readonly Uint8Array[] = []): void {
    const end = this.upstream;
    const previous = socket.data;
    end.socket = socket;
    end.peerAddress = previous.peerAddress;
    end.paused = previous.paused; // a pooled socket may hold a greeting and be paused
    socket.data = end;
    if (this.reported) {
      // The client left while we were connecting.
      socket.end();
      return;
    }
    for (const chunk of early) this.onData(end, chunk);
    this.onDrain(end);
    if (end.paused && this.client.outboxBytes === 0) {
      end.paused = false;
      socket.resume();
    }
  }

  /**
   * Ends the pipe on our initiative (timeout, no upstream, shutdown). A reset sends RST both
   * ways; otherwise both sockets get FIN and queued bytes are dropped.
   */
  close(reason: CloseReason, detail?: string, reset = false): void {
    this.reason ??= reason;
    if (detail !== undefined) this.detail ??= detail;
    for (const end of [this.client, this.upstream]) {
      if (end.socket === undefined || end.closed) continue;
      end.outbox = [];
      end.outboxBytes = 0;
      if (reset) end.socket.terminate();
      else end.socket.end();
    }
    this.reportIfDone();
  }

  onData(end: PipeEnd, chunk: Uint8Array): void {
    this.active = true;
    let target: PipeEnd;
    if (end === this.client) {
      this.bytesUp += chunk.length;
      target = this.upstream;
    } else {
      this.bytesDown += chunk.length;
      target = this.client;
    }
    if (target.closed || target.writeShut) return; // nobody left to take it
    target.send(chunk);
    // A partial write means the kernel buffer is full: stop reading until drain.
    // Before the upstream exists, buffer a little first so a short request costs no pause.
    if (
      target.outboxBytes > 0 &&
      !end.paused &&
      (target.socket !== undefined || target.outboxBytes >= PRECONNECT_HIGH_WATER)
    ) {
      end.paused = true;
      end.socket?.pause();
    }
  }

  onDrain(end: PipeEnd): void {
    // Drain also fires spuriously; flush() does nothing on an empty outbox.
    if (!end.flush()) return;
    this.active = true;
    const source = end === this.client ? this.upstream : this.client;
    if (source.paused && !source.closed) {
      source.paused = false;
      source.socket?.resume();
    }
    if (end.writeShut || end.endAfterFlush) end.shutWrite();
  }

  onEnd(end: PipeEnd): void {
    if (end.readEnded) return;
    end.readEnded = true;
    const target = end === this.client ? this.upstream : this.client;
    if (target.socket === undefined) {
      target.writeShut = true; // attachUpstream shuts it once the early bytes are out
      return;
    }
    target.shutWrite();
  }

  onClose(end: PipeEnd, error: Error | undefined): void {
    if (end.closed) return;
    end.closed = true;
    const other = end === this.client ? this.upstream : this.client;
    if (error !== undefined) {
      this.reason ??= CloseReason.PeerReset;
      this.detail ??= `${end === this.client ? "client" : "upstream"} reset (${(error as { code?: string }).code ?? error.message})`;
      end.outbox = [];
      end.outboxBytes = 0;
      if (other.socket !== undefined && !other.closed) other.socket.terminate();
    } else {
      this.reason ??= CloseReason.PeerClosed;
      // This socket can take nothing more: deliver what it sent, then close the other fully.
      end.readEnded = true;
      other.endAfterFlush = true;
      if (other.socket !== undefined && !other.closed) other.shutWrite();
    }
    this.reportIfDone();
  }

  private reportIfDone(): void {
    if (this.reported) return;
    const upstreamGone = this.upstream.socket === undefined || this.upstream.closed;
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
 * on, not taken as the end), the shared handler table, `accept` for each new socket.
 * Throws a RelayError naming the mode and the address when the port cannot be opened.
 */
export function listenForClients(
  mode: "forward" | "proxy",
  host: string,
  port: number,
  accept: (socket: Socket<PipeEnd>) => void,
): TCPSocketListener<PipeEnd> {
  try {
    return Bun.listen<PipeEnd>({
      hostname: host,
      port,
      allowHalfOpen: true,
      socket: { ...pipeEndHandlers, open: accept },
    });
  } catch (error) {
    throw listenError(mode, host, port, error);
  }
}
