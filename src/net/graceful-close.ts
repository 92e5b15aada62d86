/**
 * The one graceful close of every mode: how we close a TCP (or TLS) connection while its peer
 * may still be sending, without the kernel turning the close into a reset.
 *
 * Why: Linux resets a socket that the application closes while received bytes are unread, or
 * that receives bytes after it was closed (`TcpExt.TCPAbortOnData`), and a reset throws away
 * everything the kernel had not sent yet: a slow subscriber that sends a keepalive byte now and
 * then lost megabytes that way at shutdown, though the relay had flushed them all to the kernel.
 * `socket.end()` in Bun closes the descriptor at once, so it has the same fault.
 *
 * What `closeGracefully` does instead (RFC 9293 §3.6: a half-close, then an orderly release):
 *   1. `shutdown()`: our FIN goes out after every byte the kernel already holds;
 *   2. reading resumes (a paused socket would leave its input unread), and whatever the peer
 *      still sends is read and discarded (`isLingering` tells the socket's handlers so);
 *   3. the socket is released (`end()`) at the peer's FIN, or when the bound passes (default
 *      LINGER_MS; a peer still sending then is reset, and `lingerTimeouts` counts it).
 * The caller's own queue must be empty (flushed, or dropped on purpose) before it calls: what
 * the kernel holds is delivered; what the caller still held would not be.
 *
 * Which sockets linger is kept in one Map for the process, so that any handler table (the
 * listener's wrapper, the pipe's ends) can ask in O(1) with nothing per socket; each close also
 * belongs to a LingerGroup (a relay, a forwarding table) whose shutdown waits for its own
 * sockets: the process must not exit before they are released, since exiting resets them too.
 */
import type { Socket } from "bun";

/** How long a closed connection may keep draining the peer's input before it is released. */
export const LINGER_MS = 2000;

/** One lingering socket. */
interface Linger {
  timer: ReturnType<typeof setTimeout>;
  group: LingerGroup;
}

const lingering = new Map<Socket<unknown>, Linger>();

/**
 * The lingering sockets of one owner (a relay, a forwarding mode's table): counted, and waited
 * for at shutdown.
 */
export class LingerGroup {
  /** Sockets of this group between closeGracefully and their release. */
  size = 0;
  /** Sockets released at the bound while the peer had not finished (it may see a reset). */
  lingerTimeouts = 0;
  private waiters: (() => void)[] = [];

  /**
   * Resolves once every socket of this group is released (at once when none lingers), or
   * after `timeoutMs` at the latest.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.waiters;
      function done(): void {
        clearTimeout(timer);
        const at = waiters.indexOf(done);
        if (at >= 0) waiters.splice(at, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  /** @internal A socket of this group was released. */
  released(): void {
    this.size--;
    if (this.size === 0 && this.waiters.length > 0) {
      for (const resolve of this.waiters.slice()) resolve();
    }
  }
}

/** The group of sockets closed by code that names none (they are still bounded by LINGER_MS). */
export const defaultLingerGroup = new LingerGroup();

/**
 * Closes `socket` gracefully (see the file comment): FIN now, read and discard until the peer's
 * FIN or `lingerMs`, then release. Calling it again for a lingering socket does nothing. The
 * socket's handlers must drop data of a lingering socket (`isLingering`) and call
 * `lingerEnded`/`lingerClosed` from their `end`/`close` handlers; NetListener and the pipe's
 * handler table do.
 */
export function closeGracefully(
  socket: Socket<unknown>,
  group: LingerGroup = defaultLingerGroup,
  lingerMs: number = LINGER_MS,
): void {
  if (lingering.has(socket)) return;
  const timer = setTimeout(() => {
    group.lingerTimeouts++;
    socket.end();
  }, lingerMs);
  lingering.set(socket, { timer, group });
  group.size++;
  socket.resume();
  socket.shutdown();
}

/** True while `socket` is closing gracefully: its input is to be discarded. */
export function isLingering(socket: Socket<unknown>): boolean {
  return lingering.size !== 0 && lingering.has(socket);
}

/**
 * From an `end` handler: the peer's FIN. Returns true when the socket was lingering, and
 * releases it (both sides have finished, so nothing can be reset).
 */
export function lingerEnded(socket: Socket<unknown>): boolean {
  if (!isLingering(socket)) return false;
  socket.end();
  return true;
}

/** From a `close` handler: forgets a lingering socket (no-op for any other). */
export function lingerClosed(socket: Socket<unknown>): void {
  if (lingering.size === 0) return;
  const linger = lingering.get(socket);
  if (linger === undefined) return;
  lingering.delete(socket);
  clearTimeout(linger.timer);
  linger.group.released();
}
