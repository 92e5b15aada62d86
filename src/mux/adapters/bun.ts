/**
 * Runs Sessions over Bun TCP and TLS sockets (`Bun.connect`, `Bun.listen`): maps a socket to
 * the MuxTransport contract and its handlers to the Session's TransportEvents. Nothing else.
 *
 * One handler table serves every socket; each socket finds its Session on `socket.data`. The
 * Session is made in the `open` handler (for TLS, Bun calls it after the handshake when no
 * `handshake` handler is declared), so it exists before the first `data` event.
 *
 * No `end` handler and no `allowHalfOpen`: the peer's TCP FIN ends the whole session (Bun
 * closes the socket right after it), as a smux session cannot go on with one direction only.
 */

import type { Socket, SocketHandler, TCPSocketListener, TLSOptions } from "bun";
import { formatPeer } from "../../errors.ts";
import { closeGracefully, isLingering, lingerClosed } from "../../net/graceful-close.ts";
import { type MuxConfig, resolveConfig } from "../config.ts";
import { MuxError, MuxErrorCode } from "../errors.ts";
import { Session, type SessionOptions } from "../session.ts";
import type { MuxTransport } from "../transport.ts";

/** Which side of smux a socket plays: the client opens odd stream IDs, the server even ones. */
export type MuxRole = "client" | "server";

/** What a mux socket keeps on `socket.data`. */
export interface MuxSocketData {
  readonly role: MuxRole;
  readonly config: MuxConfig;
  readonly options: SessionOptions;
  /** Called with the new Session, inside the socket's `open` event. */
  readonly onSession?: ((session: Session) => void) | undefined;
  /** Called when the socket closes before `open` (a failed TLS handshake). */
  readonly onFailed?: ((error: Error | undefined) => void) | undefined;
  /**
   * A TLS client that must check the server's certificate. Bun still calls `open` when the
   * check failed (with `authorized` false, the socket already closing), so the adapter does.
   */
  readonly verifyPeer?: boolean | undefined;
  session: Session | undefined;
  /** The last error the socket reported, handed to the Session on close. */
  error: Error | undefined;
}

/** A Bun socket as a MuxTransport: the same calls, all three write arguments passed. */
export class BunSocketTransport implements MuxTransport {
  readonly peer: string;

  constructor(private readonly socket: Socket<MuxSocketData>) {
    this.peer = formatPeer(socket.remoteAddress, socket.remotePort);
  }

  write(bytes: Uint8Array, offset: number, length: number): number {
    return this.socket.write(bytes, offset, length);
  }

  /** The graceful close of src/net: FIN, the peer's late frames discarded until its FIN. */
  end(): void {
    closeGracefully(this.socket);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

function attach(socket: Socket<MuxSocketData>): void {
  const data = socket.data;
  if (data.verifyPeer === true && !socket.authorized) {
    data.onFailed?.(socket.getAuthorizationError() ?? new Error("server certificate not trusted"));
    socket.end();
    return;
  }
  const transport = new BunSocketTransport(socket);
  // The config was resolved (and verified) when the socket was set up.
  const session =
    data.role === "client"
      ? Session.client(transport, data.config, data.options)
      : Session.server(transport, data.config, data.options);
  data.session = session;
  data.onSession?.(session);
}

/** The handlers every mux socket uses; `open` builds the Session from `socket.data`. */
export const muxSocketHandlers = {
  binaryType: "uint8array",
  open: attach,
  data(socket: Socket<MuxSocketData>, chunk: Uint8Array) {
    if (isLingering(socket)) return;
    socket.data.session?.onData(chunk);
  },
  drain(socket: Socket<MuxSocketData>) {
    socket.data.session?.onDrain();
  },
  error(socket: Socket<MuxSocketData>, error: Error) {
    // A listener's socket has no data before `open` (a TLS handshake that failed).
    const data = socket.data as MuxSocketData | undefined;
    if (data !== undefined) data.error = error;
  },
  close(socket: Socket<MuxSocketData>, error?: Error) {
    lingerClosed(socket);
    const data = socket.data as MuxSocketData | undefined;
    if (data === undefined) return;
    if (data.session !== undefined) data.session.onClose(error ?? data.error);
    else data.onFailed?.(error ?? data.error);
  },
} satisfies SocketHandler<MuxSocketData, "uint8array">;

/** Where and how to connect; config fields default to Go's DefaultConfig. */
export interface ConnectSessionOptions extends SessionOptions {
  hostname: string;
  port: number;
  /** TLS: `true` or Bun's TLS options (ca, serverName, ...). */
  tls?: boolean | TLSOptions;
  /** Default "client", as the side that dials usually is in smux. */
  role?: MuxRole;
  config?: Partial<MuxConfig>;
}

/**
 * Connects and starts a Session on the connection. Resolves with it once the socket is open
 * (for TLS: after the handshake, which Bun.connect does not wait for). Rejects with MuxError
 * MUX_ERR_BAD_CONFIG for a bad config, or MUX_ERR_TRANSPORT_ERROR when the connection or
 * the TLS handshake fails (the system code or TLS error in the reason).
 */
export async function connectSession(options: ConnectSessionOptions): Promise<Session> {
  const config = resolveConfig(options.config);
  const where = formatPeer(options.hostname, options.port);
  const failed = (error: unknown): MuxError => {
    const code =
      (error as { code?: string } | undefined)?.code ?? (error as Error | undefined)?.message;
    return new MuxError(
      MuxErrorCode.TransportError,
      `connect failed (${code ?? "closed before it opened"})`,
      { peer: where },
      { cause: error },
    );
  };
  return new Promise<Session>((resolve, reject) => {
    const data: MuxSocketData = {
      role: options.role ?? "client",
      config,
      options: { onStream: options.onStream, onClose: options.onClose },
      onSession: resolve,
      onFailed: (error) => reject(failed(error)),
      verifyPeer:
        options.tls !== undefined &&
        options.tls !== false &&
        (options.tls === true || options.tls.rejectUnauthorized !== false),
      session: undefined,
      error: undefined,
    };
    Bun.connect<MuxSocketData>({
      hostname: options.hostname,
      port: options.port,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      data,
      socket: {
        ...muxSocketHandlers,
        connectError() {
          // The promise rejects with the same error.
        },
      },
    }).catch((error: unknown) => reject(failed(error)));
  });
}

/** Where and how to listen; every accepted connection becomes a Session. */
export interface ListenSessionsOptions extends SessionOptions {
  hostname: string;
  /** 0 for an ephemeral port (read it from the listener). */
  port: number;
  tls?: TLSOptions;
  /** Default "server". */
  role?: MuxRole;
  config?: Partial<MuxConfig>;
  /** Each new Session, as its connection opens. */
  onSession(session: Session): void;
}

/**
 * Listens and runs a Session on each accepted connection. Throws MuxError MUX_ERR_BAD_CONFIG
 * for a bad config, and Bun's error when the port cannot be opened. Stop with `stop(true)`,
 * which closes the connections and so their sessions.
 */
export function listenSessions(options: ListenSessionsOptions): TCPSocketListener<MuxSocketData> {
  return Bun.listen<MuxSocketData>({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    socket: sessionAcceptHandlers(options),
  });
}

/**
 * The handlers of a listening socket whose every accepted connection becomes a Session, for
 * a listener opened elsewhere (src/net/listener.ts openListener, which calls `open` only once
 * a TLS handshake has succeeded). Throws MuxError MUX_ERR_BAD_CONFIG for a bad config.
 */
export function sessionAcceptHandlers(
  options: Omit<ListenSessionsOptions, "hostname" | "port" | "tls">,
) {
  const config = resolveConfig(options.config);
  const role = options.role ?? "server";
  const sessionOptions: SessionOptions = { onStream: options.onStream, onClose: options.onClose };
  const onSession = options.onSession;
  return {
    ...muxSocketHandlers,
    open(socket: Socket<MuxSocketData>) {
      socket.data = {
        role,
        config,
        options: sessionOptions,
        onSession,
        session: undefined,
        error: undefined,
      };
      attach(socket);
    },
  };
}
