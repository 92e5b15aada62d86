/**
 * The relay's open publisher sockets, and how they are held, released and closed as a group.
 * Pacing (a subscriber behind, or the backplane behind on our batches) holds every publisher
 * at once, so none is starved while others run; a publisher also pauses itself while its
 * client does not read its acks, and one that sent something bad is closed only once what it
 * is owed (its acks) has reached the kernel.
 */
import type { Socket } from "bun";
import type { CloseReason } from "../errors.ts";
import { FramePublisher } from "./frame-publisher.ts";
import type { PublisherConnection } from "./publisher.ts";

export class PublisherSockets {
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
    socket.end();
  }

  /** The socket drained: a publisher waiting to close on its acks closes once they are out. */
  drained(socket: Socket<PublisherConnection>): void {
    if (this.closingAfterOutput.has(socket)) this.end(socket);
  }

  /** Closes every publisher with `reason` (shutdown). */
  closeAll(reason: CloseReason): void {
    for (const socket of this.sockets) close(socket, reason);
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
      if (hold) socket.pause();
      else if (!socket.data.selfPaused && !this.closingAfterOutput.has(socket)) socket.resume();
    }
    return true;
  }
}

/** Closes one publisher with `reason`; its close handler reports it. */
export function close(socket: Socket<PublisherConnection>, reason: CloseReason): void {
  socket.data.closeReason = reason;
  socket.end();
}
