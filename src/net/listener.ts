/**
 * The one place that opens listening sockets: `openListener` wraps Bun.listen with what every
 * listener of every mode needs, so a mode only writes its own handlers.
 *
 * - TLS (`access.tls`): Bun's TLS. The mode's `open` runs only once the handshake has
 *   succeeded (and, with --tls-client-ca, the client certificate was verified), so a mode never
 *   sees, counts or logs a peer that failed it. Failures are counted and logged by reason (see
 *   HandshakeFailure), a handshake that does not finish within --handshake-timeout is closed.
 * - --allow-from (`access.allow`): a peer outside every range is closed at accept, before any
 *   TLS work and before the mode sees it; counted and logged (rate-limited).
 * - A client speaking the wrong protocol on a plaintext port (`expects`: the port's own
 *   protocol; first-bytes.ts decides) is closed at its first bytes instead of having them read
 *   as data: a TLS ClientHello, a seed 003 frame or an HTTP request on a line port, text on a
 *   frame port. While the first bytes are still the start of such an opening they are held
 *   (never delivered), for at most FIRST_BYTES_BOUND_MS; once accepted, the mode's `data` gets
 *   them as one chunk before anything later. The mode's `refused` hook sets its close reason.
 *   The holding and settling are in first-bytes-gate.ts.
 * - TCP keepalive on every accepted socket.
 * - The graceful close (graceful-close.ts): `closeGracefully(socket)` sends FIN, and the
 *   listener discards what the peer still sends until its FIN or the bound, then releases the
 *   socket; the mode's `close` handler runs at the release, as for any other close.
 * - listen errors as RelayErrors (`listenError`): "publisher port 0.0.0.0:7001 is already in
 *   use".
 * - Reload (SIGHUP, through NetAccess.reload): Bun cannot change the certificate of a listening
 *   socket (`listener.reload()` swaps handlers only), so a new socket with the new TLS
 *   configuration is opened on the same port beside the old one (SO_REUSEPORT, which TLS
 *   listeners therefore always set), then the old one stops accepting with `stop(false)`:
 *   established connections, and handshakes already under way, stay on it. Because SO_REUSEPORT
 *   would also let a second relay share the port silently, a TLS listener first checks the port
 *   with a plain listen (which fails when anyone holds it) unless `reusePort` was asked for.
 *
 * Per-socket state of the listener lives in one Map, only for sockets the mode has not been
 * given yet (TLS handshakes under way, refused peers on their way out): the mode's handlers see
 * `socket.data` exactly as they set it, and an established connection costs one `Map.size`
 * check per event at most.
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { formatPeer, listenError } from "../errors.ts";
import type { NetAccess, ReloadableListener } from "./access.ts";
import type { FirstBytesRefusal, PortProtocol } from "./first-bytes.ts";
import { FirstBytesGate } from "./first-bytes-gate.ts";
import {
  closeGracefully,
  defaultLingerGroup,
  isLingering,
  type LingerGroup,
  lingerClosed,
  lingerEnded,
} from "./graceful-close.ts";
import {
  AccessRefusal,
  classifyHandshakeError,
  HandshakeFailure,
  handshakeDetail,
} from "./net-events.ts";
import { describeTlsListenError, type LoadedTls } from "./tls-config.ts";

/** TCP keepalive idle time: a peer whose host vanished is found by the kernel's probes. */
export const DEFAULT_KEEPALIVE_MS = 60_000;

export interface ListenerOptions<T> {
  /** What listens, in errors, logs and metric labels: `publisher`, `subscriber`, `forward`. */
  what: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** TLS, --allow-from, counters and the event sink; none: plaintext and open to all. */
  access?: NetAccess | undefined;
  /** SO_REUSEPORT on purpose (several processes sharing the port); skips the port check. */
  reusePort?: boolean;
  allowHalfOpen?: boolean;
  /** TCP keepalive idle time in ms; 0 leaves keepalive off. */
  keepAliveMs?: number;
  /**
   * Plaintext ports only: the protocol this port speaks; a peer whose first bytes open another
   * one (TLS, HTTP, frames on a line port, text on a frame port) is closed (first-bytes.ts).
   * Undefined for ports that carry any bytes (forward, proxy, tunnel), where a TLS stream or
   * an HTTP request is just data.
   */
  expects?: PortProtocol;
  /** Where graceful closes of this listener's sockets are counted and waited for. */
  lingerGroup?: LingerGroup;
  /** The mode's handlers. `open` runs after the TLS handshake on a TLS listener. */
  socket: SocketHandler<T> & { binaryType?: "buffer" | "uint8array" | "arraybuffer" };
  /**
   * Called before the listener closes a socket the mode already has (a client speaking the
   * wrong protocol, see `expects`): the mode records why, its `close` handler then reports it.
   */
  refused?: (socket: Socket<T>, reason: FirstBytesRefusal, detail: string) => void;
}

/** A socket the mode has not been given (yet): handshake under way, or being refused. */
interface Shadow {
  peer: string;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Settled: refused, failed or timed out; its remaining events are swallowed. */
  done: boolean;
}

/**
 * Checks that nobody holds `host:port` with a plain listen (which fails when anyone does),
 * before a listener that sets SO_REUSEPORT, which would share it silently. Returns the port
 * (the one the kernel picked for 0).
 * @throws what Bun.listen throws (EADDRINUSE).
 */
export function claimPort(host: string, port: number): number {
  const probe = Bun.listen({ hostname: host, port, socket: { data() {} } });
  const bound = probe.port;
  probe.stop(true);
  return bound;
}

export class NetListener<T> implements ReloadableListener {
  private current: TCPSocketListener<T>;
  /** Listening sockets replaced by a reload: stopped, their connections still served. */
  private readonly retired: TCPSocketListener<T>[] = [];
  private readonly shadows = new Map<Socket<T>, Shadow>();
  /** The first-bytes check of a plaintext port that `expects` a protocol (first-bytes-gate.ts). */
  private readonly firstBytes: FirstBytesGate<T>;
  private readonly handlers: SocketHandler<T>;
  private tls: LoadedTls | undefined;
  private stopped = false;

  constructor(private readonly options: ListenerOptions<T>) {
    this.tls = options.access?.tls;
    this.firstBytes = new FirstBytesGate(options, (socket) => this.closeGracefully(socket));
    this.handlers = this.wrapHandlers();
    this.current = this.listen(options.port, this.tls, true);
    options.access?.register(this, options.what);
  }

  /** The bound port (the real one when opened with port 0). */
  get port(): number {
    return this.current.port;
  }

  get hostname(): string {
    return this.current.hostname;
  }

  /** Connections waiting for their TLS handshake (or on their way out after a refusal). */
  get pendingHandshakes(): number {
    return this.shadows.size;
  }

  /**
   * Stops accepting. With `closeActive`, also closes every connection, those accepted by
   * listening sockets a reload replaced included.
   */
  stop(closeActive = false): void {
    this.stopped = true;
    this.options.access?.unregister(this);
    this.current.stop(closeActive);
    if (closeActive) for (const old of this.retired) old.stop(true);
    for (const shadow of this.shadows.values()) clearTimeout(shadow.timer);
    this.firstBytes.stop();
  }

  /**
   * Closes an accepted socket without losing what the kernel holds for it: FIN now, its input
   * discarded until its FIN or the linger bound, then released (graceful-close.ts).
   */
  closeGracefully(socket: Socket<T>): void {
    closeGracefully(socket, this.options.lingerGroup ?? defaultLingerGroup);
  }

  /** ReloadableListener: a new listening socket with `tls`, beside the current one. */
  prepareTls(tls: LoadedTls): { commit(): void; abort(): void } {
    if (this.stopped) return { commit() {}, abort() {} };
    const next = this.listen(this.current.port, tls, false);
    return {
      commit: () => {
        const old = this.current;
        this.current = next;
        this.tls = tls;
        this.retired.push(old);
        old.stop(false);
      },
      abort: () => next.stop(true),
    };
  }

  private listen(port: number, tls: LoadedTls | undefined, first: boolean): TCPSocketListener<T> {
    const { what, host } = this.options;
    // TLS listeners set SO_REUSEPORT so that a reload can open its successor on the same
    // port. A plain listen first makes sure nobody else holds the port.
    const reusePort = this.options.reusePort === true || tls !== undefined;
    try {
      if (first && tls !== undefined && this.options.reusePort !== true) {
        port = claimPort(host, port);
      }
      return Bun.listen<T>({
        hostname: host,
        port,
        // Bun 1.4.5 honours reusePort (SO_REUSEPORT) though its listen types do not declare it.
        ...(reusePort ? ({ reusePort: true } as object) : {}),
        allowHalfOpen: this.options.allowHalfOpen ?? false,
        ...(tls === undefined ? {} : { tls: tls.options }),
        socket: this.handlers,
      });
    } catch (error) {
      const tlsProblem = describeTlsListenError(error);
      if (tlsProblem !== undefined) {
        throw listenError(what, host, port, { code: tlsProblem });
      }
      throw listenError(what, host, port, error);
    }
  }

  private wrapHandlers(): SocketHandler<T> {
    const listener = this;
    const { what, access, socket: user } = this.options;
    const keepAliveMs = this.options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    const shadows = this.shadows;
    const firstBytes = this.firstBytes;
    const sniffing = firstBytes.sockets;
    const sniff = this.options.expects !== undefined;
    const userData = user.data;
    const userOpen = user.open;

    const handlers: SocketHandler<T> & { binaryType?: string } = {
      open(socket) {
        if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
        const allow = access?.allow;
        if (allow !== undefined && !allow.allows(socket.remoteAddress)) {
          const peer = formatPeer(socket.remoteAddress, socket.remotePort);
          shadows.set(socket, { peer, timer: undefined, done: true });
          access?.refused(
            what,
            AccessRefusal.AllowFrom,
            peer,
            `not in --allow-from ${allow.toString() || "(empty)"}`,
          );
          socket.terminate();
          return;
        }
        if (listener.tls !== undefined) {
          const peer = formatPeer(socket.remoteAddress, socket.remotePort);
          const shadow: Shadow = { peer, timer: undefined, done: false };
          const timeoutMs = access?.handshakeTimeoutMs ?? 0;
          if (timeoutMs > 0) {
            shadow.timer = setTimeout(() => listener.handshakeTimedOut(socket, shadow), timeoutMs);
          }
          shadows.set(socket, shadow);
          return;
        }
        if (sniff) firstBytes.watch(socket);
        return userOpen?.(socket);
      },
      handshake(socket, success, error) {
        const shadow = shadows.get(socket);
        if (shadow === undefined || shadow.done) return;
        clearTimeout(shadow.timer);
        const tls = listener.tls;
        const verified = tls?.mutual ? socket.authorized === true : success;
        if (!success || !verified) {
          shadow.done = true;
          const reason = classifyHandshakeError(error);
          access?.handshakeFailed(what, reason, shadow.peer, handshakeDetail(reason, error));
          // Bun closes a failed handshake itself; a certificate it let through is ours to close.
          if (success) socket.end();
          return;
        }
        shadows.delete(socket);
        access?.handshakeSucceeded(what);
        userOpen?.(socket);
      },
      data(socket, chunk) {
        if (shadows.size !== 0 && shadows.has(socket)) return;
        if (isLingering(socket)) return;
        if (sniffing.size !== 0) {
          const state = sniffing.get(socket);
          if (state !== undefined) return firstBytes.chunk(socket, state, chunk);
        }
        return userData?.(socket, chunk);
      },
      drain(socket) {
        if (shadows.size !== 0 && shadows.has(socket)) return;
        if (isLingering(socket)) return;
        return user.drain?.(socket);
      },
      end(socket) {
        if (shadows.size !== 0 && shadows.has(socket)) return;
        if (lingerEnded(socket)) return;
        // The peer sent all it will: undecided first bytes are decided now.
        if (sniffing.size !== 0) firstBytes.settleHeld(socket, "peer_closed");
        return user.end?.(socket);
      },
      close(socket, error) {
        if (shadows.size !== 0) {
          const shadow = shadows.get(socket);
          if (shadow !== undefined) {
            shadows.delete(socket);
            clearTimeout(shadow.timer);
            if (!shadow.done) {
              access?.handshakeFailed(
                what,
                HandshakeFailure.Aborted,
                shadow.peer,
                "closed during the handshake",
              );
            }
            return;
          }
        }
        lingerClosed(socket);
        if (sniffing.size !== 0) firstBytes.forget(socket);
        return user.close?.(socket, error);
      },
      error(socket, error) {
        if (shadows.size !== 0 && shadows.has(socket)) return;
        return user.error?.(socket, error);
      },
    };
    if (user.binaryType !== undefined) handlers.binaryType = user.binaryType;
    // Declared only when the mode declares it: Bun honours allowHalfOpen only with an `end`
    // handler, and a mode without one relies on Bun closing at the peer's FIN.
    if (user.end === undefined) delete handlers.end;
    return handlers;
  }

  private handshakeTimedOut(socket: Socket<T>, shadow: Shadow): void {
    if (shadow.done) return;
    shadow.done = true;
    const seconds = (this.options.access?.handshakeTimeoutMs ?? 0) / 1000;
    this.options.access?.handshakeFailed(
      this.options.what,
      HandshakeFailure.Timeout,
      shadow.peer,
      `no finished handshake within --handshake-timeout ${seconds}s`,
    );
    socket.terminate();
  }
}

/**
 * Opens a listener (see the file comment). Throws a RelayError (RELAY_ERR_ADDRESS_IN_USE or
 * RELAY_ERR_LISTEN_FAILED) when the port cannot be opened.
 */
export function openListener<T>(options: ListenerOptions<T>): NetListener<T> {
  return new NetListener(options);
}
