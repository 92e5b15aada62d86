/**
 * The relay's open publisher sockets, and how they are held, released and closed as a group.
 * Pacing (a subscriber behind, or the backplane behind on our batches) holds every publisher
 * at once, so none is starved while others run; a publisher also pauses itself while its
 * client does not read its acks, and one that sent something bad is closed only once what it
 * is owed (its acks) has reached the kernel. Every close is the graceful one of src/net (FIN,
 * then the publisher's further input is discarded until its FIN): closing a socket with unread
 * input would reset it and lose the acks the kernel still holds for it.
 */
import type { Socket } from "bun";
import type { CloseReason } from "../errors.ts";
import { isLingering } from "../net/graceful-close.ts";
import { FramePublisher } from "./frame-publisher.ts";
import type { PublisherConnection } from "./publisher.ts";

export class PublisherSockets {
  /**
   * @param closeSocket closes one socket gracefully (src/net/graceful-close.ts); its close
   * handler runs once the socket is released.
   */
  constructor(private readonly closeSocket: (socket: Socket<PublisherConnection>) => void) {}

  private readonly sockets = new Set<Socket<PublisherConnection>>();
  /** Publishers to close once their acks are written (they sent something bad). */
  private readonly closingAfterOutput = new Set<Socket<PublisherConnection>>();
  /** Every publisher is paused by pacing. */
  private held = false;

  get size(): number {
    return this.sockets.size;
  }

  /** A publisher was accepted; it starts paused while publishers are held. */
  add(socket: Socket<PublisherConnection>): void {
    this.sockets.add(socket);
    if (this.held) socket.pause();
  }

  /** Its socket closed. */
  remove(socket: Socket<PublisherConnection>): void {
    this.sockets.delete(socket);
    this.closingAfterOutput.delete(socket);
  }

  /**
   * Closes a publisher that sent something bad (its close reason is set), once what it is
   * owed (acks) has reached the kernel: `end()` with unwritten data would lose it.
   */
  end(socket: Socket<PublisherConnection>): void {
    const publisher = socket.data;
    if (publisher instanceof FramePublisher && publisher.pendingOutput > 0) {
      this.closingAfterOutput.add(socket);
      socket.pause();
      return;
    }
    this.closingAfterOutput.delete(socket);
    this.closeSocket(socket);
  }

  /** The socket drained: a publisher waiting to close on its acks closes once they are out. */
  drained(socket: Socket<PublisherConnection>): void {
    if (this.closingAfterOutput.has(socket)) this.end(socket);
  }

  /**
   * Closes one publisher with `reason` (its close handler reports it), once its acks are out.
   */
  close(socket: Socket<PublisherConnection>, reason: CloseReason): void {
    socket.data.closeReason = reason;
    this.end(socket);
  }

  /** Closes every publisher with `reason` (shutdown), each once its acks are out. */
  closeAll(reason: CloseReason): void {
    for (const socket of this.sockets) this.close(socket, reason);
  }

  /**
   * Holds (or releases) every publisher: kernel-level pause, so TCP pushes back on them.
   * Returns false when nothing changed. A publisher paused for its own reason (unread acks,
   * closing) is not resumed.
   */
  hold(hold: boolean, apply: boolean): boolean {
    if (hold === this.held) return false;
    this.held = hold;
    if (!apply) return true;
    for (const socket of this.sockets) {
      if (isLingering(socket)) continue; // closing: its input is being read and discarded
      if (hold) socket.pause();
      else if (!socket.data.selfPaused && !this.closingAfterOutput.has(socket)) socket.resume();
    }
    return true;
  }
}
