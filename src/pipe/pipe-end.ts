/**
 * A Bun TCP socket as one end of the byte pipe (pipe.ts), the one handler table every socket
 * of the forwarding modes shares (state on `socket.data`), and the listener for their clients.
 */
import type { Socket, SocketHandler } from "bun";
import type { NetAccess } from "../net/access.ts";
import { closeGracefully, isLingering, lingerClosed, lingerEnded } from "../net/graceful-close.ts";
import { type NetListener, openListener } from "../net/listener.ts";
import type { EndOwner, Endpoint } from "./endpoint.ts";

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

  /**
   * Drops what waits in the outbox and closes: a reset, or the graceful close of src/net (FIN
   * after what the kernel holds; the peer's further input is discarded until its FIN).
   */
  abort(reset: boolean): void {
    this.outbox = [];
    this.outboxBytes = 0;
    if (this.socket === undefined || this.closed) return;
    if (reset) this.socket.terminate();
    else this.closeGracefully(this.socket);
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

  /**
   * Sends FIN once the outbox is flushed. Closes when the peer already sent its FIN; when the
   * other end is gone (`endAfterFlush`) while this peer may still send, closes gracefully
   * (src/net/graceful-close.ts) so that its late bytes cannot turn the close into a reset.
   */
  shutWrite(): void {
    this.writeShut = true;
    const socket = this.socket;
    if (socket === undefined || this.closed || this.finSent || this.outboxBytes > 0) return;
    this.finSent = true;
    if (this.readEnded) socket.end();
    else if (this.endAfterFlush) this.closeGracefully(socket);
    else socket.shutdown();
  }

  /**
   * Our side is done with this socket: it lingers (graceful-close.ts) until the peer's FIN or
   * the bound, but for its owner it is closed now, so a pipe reports its CLOSE (and a shutdown
   * stops waiting for it) without waiting for a peer that does not close.
   */
  private closeGracefully(socket: Socket<PipeEnd>): void {
    closeGracefully(socket);
    this.owner.onClose(this, undefined);
  }
}

/**
 * One handler table for every socket of the forwarding modes; state lives on `socket.data`.
 * A socket that is closing gracefully (dialed ones too, which no listener wraps) has its input
 * discarded and is released at its FIN.
 */
export const pipeEndHandlers = {
  binaryType: "uint8array",
  data(socket: Socket<PipeEnd>, chunk: Uint8Array) {
    if (isLingering(socket)) return;
    const end = socket.data;
    end.owner.onData(end, chunk);
  },
  drain(socket: Socket<PipeEnd>) {
    if (isLingering(socket)) return;
    const end = socket.data;
    end.owner.onDrain(end);
  },
  end(socket: Socket<PipeEnd>) {
    if (lingerEnded(socket)) return;
    const end = socket.data;
    end.owner.onEnd(end);
  },
  close(socket: Socket<PipeEnd>, error?: Error) {
    lingerClosed(socket);
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
  reusePort = false,
): NetListener<PipeEnd> {
  return openListener<PipeEnd>({
    what: mode,
    host,
    port,
    access,
    reusePort,
    allowHalfOpen: true,
    socket: { ...pipeEndHandlers, open: accept },
  });
}
