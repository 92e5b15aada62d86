/**
 * A TLS (or plaintext) test client over Bun.connect: waits for the handshake, keeps what it
 * receives, writes with backpressure, reports its close.
 */
import type { Socket } from "bun";

export interface TlsClientOptions {
  port: number;
  host?: string;
  /** Plaintext instead of TLS. */
  plain?: boolean;
  /** PEM contents. */
  ca?: string;
  cert?: string;
  key?: string;
  /** SNI and the name checked against the server certificate (default localhost). */
  serverName?: string;
  /** Bind the client to this local address (127.0.0.2 to come from outside 127.0.0.1/32). */
  localAddress?: string;
  /** false: count and hash what arrives without keeping it (bulk transfers). */
  keep?: boolean;
}

export interface HandshakeResult {
  ok: boolean;
  error: Error | null;
  cipher: string | undefined;
  version: string | undefined;
  /** The server certificate's subject CN. */
  peerName: string | undefined;
}

const decoder = new TextDecoder();

export class TlsTestClient {
  readonly chunks: Uint8Array[] = [];
  received = 0;
  readonly closed: Promise<Error | undefined>;
  handshake: HandshakeResult | undefined;
  /** SHA-256 of everything received. */
  readonly hash = new Bun.CryptoHasher("sha256");
  private keep = true;
  private resolveClosed!: (error: Error | undefined) => void;
  private byteWaiters: { count: number; resolve: () => void }[] = [];
  private writes: { data: Uint8Array; offset: number; resolve: () => void }[] = [];
  private socket!: Socket<TlsTestClient>;
  private isClosed = false;

  private constructor() {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /**
   * Connects; for TLS, resolves once the handshake is over (`handshake.ok` says how it went)
   * or the connection closed before it. Rejects only when the TCP connect fails.
   */
  static async connect(options: TlsClientOptions): Promise<TlsTestClient> {
    const client = new TlsTestClient();
    client.keep = options.keep ?? true;
    let handshakeDone!: () => void;
    const handshaken = new Promise<void>((resolve) => {
      handshakeDone = resolve;
    });
    const tls = options.plain
      ? undefined
      : {
          ...(options.ca ? { ca: options.ca } : {}),
          ...(options.cert ? { cert: options.cert } : {}),
          ...(options.key ? { key: options.key } : {}),
          serverName: options.serverName ?? "localhost",
        };
    client.socket = await Bun.connect<TlsTestClient>({
      hostname: options.host ?? "127.0.0.1",
      port: options.port,
      data: client,
      ...(tls ? { tls } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      socket: {
        binaryType: "uint8array",
        handshake(socket, ok, error) {
          const cipher = socket.getCipher?.();
          socket.data.handshake = {
            ok,
            error,
            cipher: cipher?.name,
            version: socket.getTLSVersion?.() ?? undefined,
            peerName: String(socket.getPeerCertificate?.()?.subject?.CN ?? ""),
          };
          handshakeDone();
          socket.data.flushWrites();
        },
        data(socket, chunk) {
          socket.data.onData(chunk);
        },
        drain(socket) {
          socket.data.flushWrites();
        },
        close(socket, error) {
          socket.data.isClosed = true;
          handshakeDone();
          socket.data.resolveClosed(error);
          for (const waiter of socket.data.byteWaiters.splice(0)) waiter.resolve();
          for (const write of socket.data.writes.splice(0)) write.resolve();
        },
        error() {},
        connectError() {},
      },
    });
    if (!options.plain) await handshaken;
    return client;
  }

  get text(): string {
    return decoder.decode(this.bytes());
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.received);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** Resolves once `count` bytes have arrived in total (or the socket closed). */
  waitForBytes(count: number): Promise<void> {
    if (this.received >= count || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.byteWaiters.push({ count, resolve }));
  }

  /** Writes all of `data`, waiting on drain; resolves when the kernel took it (or closed). */
  write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      this.writes.push({ data: bytes, offset: 0, resolve });
      this.flushWrites();
    });
  }

  end(): void {
    this.socket.end();
  }

  terminate(): void {
    this.socket.terminate();
  }

  get localPort(): number {
    return this.socket.localPort;
  }

  private onData(chunk: Uint8Array): void {
    if (this.keep) this.chunks.push(chunk);
    this.hash.update(chunk);
    this.received += chunk.length;
    this.byteWaiters = this.byteWaiters.filter((waiter) => {
      if (this.received < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  private flushWrites(): void {
    while (this.writes.length > 0) {
      const head = this.writes[0] as (typeof this.writes)[number];
      const left = head.data.length - head.offset;
      const written = this.socket.write(head.data, head.offset, left);
      if (written < 0) {
        for (const write of this.writes.splice(0)) write.resolve();
        return;
      }
      head.offset += written;
      if (head.offset < head.data.length) return;
      this.writes.shift();
      head.resolve();
    }
  }
}

/** Resolves when `test()` holds, checking every 5 ms; rejects after `timeoutMs`. */
export async function until(
  test: () => boolean,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
