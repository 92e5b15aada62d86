/**
 * The client's transport on Node 20+ (issue 23): `node:net`, or `node:tls` with `tls` set,
 * mapped onto the ClientSocket contract that Bun's sockets define (transport.ts).
 *
 * The mapping, and why:
 * - `write` copies the bytes: Node keeps a reference to what it is given until the kernel
 *   takes it, and the Outbox reuses its buffer. It returns the whole length when Node's
 *   `write` took the bytes and 0 from then on while Node reports its buffer full (`write`
 *   returned false), until `drain`. So the Outbox holds the rest, as on Bun, and Node's buffer
 *   stays within about one write past its high-water mark. "Taken" on Node means taken into
 *   the socket's own buffer, which a line publisher's resolve (docs/client.md) counts as sent.
 * - `data` chunks are Node Buffers; the client gets a plain Uint8Array view of the same bytes,
 *   because the sessions copy with `slice`, which on a Buffer would be a view.
 * - An error before the TCP connection rejects the dial (no `close` follows), as
 *   `Bun.connect` rejects; an error after it but before the TLS handshake finished is a failed
 *   handshake.
 */
import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { type ClientTlsOptions, readTls } from "./tls-options.ts";
import type { ClientSocket, DialAttempt, DialTarget, TransportEvents } from "./transport.ts";

class NodeClientSocket implements ClientSocket {
  /** Node's last `write` returned false: take nothing until `drain`. */
  private full = false;

  constructor(private readonly socket: Socket) {}

  write(data: Uint8Array, byteOffset: number, byteLength: number): number {
    if (this.socket.destroyed || this.socket.writableEnded) return -1;
    if (this.full) return 0;
    const copy = new Uint8Array(data.subarray(byteOffset, byteOffset + byteLength));
    this.full = !this.socket.write(copy);
    return byteLength;
  }

  /** Node's `drain`: its buffer emptied. */
  drained(): void {
    this.full = false;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }
}

/** Dials with node:net or node:tls (transport.ts, Dial). */
export function dialNode(target: DialTarget, events: TransportEvents): DialAttempt {
  let socket: Socket | undefined;
  let cancelled = false;
  const connected = connectNode(target, events, (connecting) => {
    socket = connecting;
    return cancelled;
  });
  return {
    connected,
    cancel() {
      cancelled = true;
      socket?.destroy();
    },
  };
}

/**
 * Connects; `created` hears of the socket as soon as it exists and answers whether the dial
 * was cancelled meanwhile (while the TLS files were read), in which case it is destroyed.
 */
async function connectNode(
  target: DialTarget,
  events: TransportEvents,
  created: (socket: Socket) => boolean,
): Promise<void> {
  const { host, port, tls } = target;
  const secure = tls !== undefined && tls !== false;
  const tlsOptions = secure ? await nodeTlsOptions(tls === true ? {} : tls) : undefined;
  return new Promise((resolve, reject) => {
    const socket =
      tlsOptions === undefined
        ? netConnect({ host, port })
        : tlsConnect({ host, port, ...tlsOptions });
    if (created(socket)) {
      socket.destroy();
      return;
    }
    const client = new NodeClientSocket(socket);
    let connected = false;
    let opened = false;
    let lastError: Error | undefined;
    const open = (): void => {
      opened = true;
      events.open(client);
    };
    socket.setNoDelay(true);
    // A TLSSocket emits `connect` for its TCP connection too, before `secureConnect`.
    socket.once("connect", () => {
      connected = true;
      resolve();
      if (!secure) open();
    });
    if (secure) socket.once("secureConnect", open);
    socket.on("data", (chunk: Buffer) => {
      events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on("drain", () => {
      client.drained();
      events.drain();
    });
    socket.on("error", (error: Error) => {
      lastError = error;
      if (!connected) reject(error);
      else if (!opened) events.handshakeFailed(client, error);
      else events.error(error);
    });
    socket.on("close", () => {
      if (connected) events.close(lastError);
    });
  });
}

/** ClientTlsOptions as node:tls takes them: PEM files read, `serverName` as `servername`. */
async function nodeTlsOptions(tls: ClientTlsOptions): Promise<ConnectionOptions> {
  const { serverName, ...rest } = await readTls(tls);
  return serverName === undefined ? rest : { ...rest, servername: serverName };
}
