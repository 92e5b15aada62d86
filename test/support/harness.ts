/**
 * Test support: a relay in this process on 127.0.0.1 with ephemeral ports, and real client
 * sockets for publishers and subscribers. Everything waits on events (relay events, socket
 * callbacks), never on sleeps.
 */
import { afterEach } from "bun:test";
import type { Socket } from "bun";
import { DEFAULT_CONFIG, type RelayConfig } from "../../src/cli/config.ts";
import { NetAccess } from "../../src/net/access.ts";
import type { RelayEvent, Side } from "../../src/relay/events.ts";
import { Relay } from "../../src/relay/server.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Registers an afterEach that shuts down the relay the test started; returns `start`, which
 * starts a TestRelay with config overrides.
 */
export function relayPerTest(): (overrides?: Partial<RelayConfig>) => TestRelay {
  let current: TestRelay | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return (overrides = {}) => {
    current = new TestRelay(overrides);
    return current;
  };
}

/** Matches a close event of one side, and reason if given. */
export const closeOf =
  (side: Side, reason?: string) =>
  (event: RelayEvent): boolean =>
    event.type === "close" &&
    event.side === side &&
    (reason === undefined || event.reason === reason);

/** A deterministic xorshift generator, so random inputs are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** `count` numbered lines of `size` bytes each (newline included), as one buffer. */
export function numberedLines(count: number, size: number, tag = "m"): Uint8Array {
  const out = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) {
    const head = `${tag}${i}:`;
    out.set(encoder.encode(head.padEnd(size - 1, ".")), i * size);
    out[i * size + size - 1] = 10;
  }
  return out;
}

type Waiter<T> = { test: (value: T) => boolean; resolve: (value: T) => void };

/** A relay plus its event log, with a way to wait for an event. */
export class TestRelay {
  readonly events: RelayEvent[] = [];
  private waiters: Waiter<RelayEvent>[] = [];
  readonly relay: Relay;

  constructor(overrides: Partial<RelayConfig> = {}) {
    const config: RelayConfig = {
      ...DEFAULT_CONFIG,
      host: "127.0.0.1",
      pubPort: 0,
      subPort: 0,
      statsInterval: 0,
      ...overrides,
    };
    // The ports' access rules as main.ts loads them, so TLS and --allow-from overrides apply.
    const record = (event: RelayEvent) => this.record(event);
    this.relay = new Relay(config, record, NetAccess.load(config, record));
  }

  /** Resolves with the first event (already seen or to come) that satisfies `test`. */
  waitFor(test: (event: RelayEvent) => boolean): Promise<RelayEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Resolves once `count` events satisfy `test`. */
  async waitForCount(test: (event: RelayEvent) => boolean, count: number): Promise<void> {
    let seen = 0;
    await this.waitFor((event) => test(event) && ++seen >= count);
  }

  /**
   * Connects `count` subscribers and waits until the relay has registered all of them.
   * At most 256 handshakes are in flight at once: Bun's listen backlog is fixed at 512, and a
   * burst past it makes the kernel drop handshakes (syncookies) that the client never learns of.
   */
  async subscribers(count: number): Promise<TestClient[]> {
    const opened = this.events.filter(isSubscriberOpen).length;
    const clients: TestClient[] = [];
    for (let wave = 0; wave < count; wave += 256) {
      const size = Math.min(256, count - wave);
      const connecting = Array.from({ length: size }, () => TestClient.connect(this.relay.subPort));
      clients.push(...(await Promise.all(connecting)));
    }
    await this.waitForCount(isSubscriberOpen, opened + count);
    return clients;
  }

  /**
   * Connects one subscriber with TestClient options (`paused: true` for one that never
   * reads, `trickleMs` for a slow one) and waits until the relay has registered it.
   */
  async subscriberWith(options: Parameters<typeof TestClient.connect>[1]): Promise<TestClient> {
    const opened = this.events.filter(isSubscriberOpen).length;
    const client = await TestClient.connect(this.relay.subPort, options);
    await this.waitForCount(isSubscriberOpen, opened + 1);
    return client;
  }

  publisher(): Promise<TestClient> {
    return TestClient.connect(this.relay.pubPort);
  }

  async stop(): Promise<void> {
    await this.relay.shutdown(0);
  }

  private record(event: RelayEvent): void {
    this.events.push(event);
    const pending = this.waiters;
    this.waiters = [];
    for (const waiter of pending) {
      if (waiter.test(event)) waiter.resolve(event);
      else this.waiters.push(waiter);
    }
  }
}

function isSubscriberOpen(event: RelayEvent): boolean {
  return event.type === "open" && event.side === "subscriber";
}

/** A real TCP client: keeps what it receives, writes with backpressure, reports its close. */
export class TestClient {
  private chunks: Uint8Array[] = [];
  private received = 0;
  private byteWaiters: { count: number; resolve: () => void }[] = [];
  private pendingWrites: { data: Uint8Array; offset: number; resolve: () => void }[] = [];
  /** Resolves when the socket closes, with the error for a reset. */
  readonly closed: Promise<Error | undefined>;
  /** Resolves when the peer's FIN arrives (or the socket closes). */
  readonly ended: Promise<void>;
  /** SHA-256 of everything received, when connected with `hash`. */
  readonly hash: Bun.CryptoHasher | undefined;
  private resolveClosed!: (error: Error | undefined) => void;
  private resolveEnded!: () => void;
  private socket!: Socket<TestClient>;
  private isClosed = false;

  private constructor(
    private readonly keep: boolean,
    hash: boolean,
  ) {
    this.hash = hash ? new Bun.CryptoHasher("sha256") : undefined;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /**
   * `paused`: start with reading paused (a subscriber that does not read).
   * `trickleMs`: after each chunk, stop reading for that long (a slow reader that keeps moving).
   * `halfOpen`: keep writing after the peer's FIN (forwarding tests).
   * `keep: false`: count and hash what arrives without keeping it (bulk transfers).
   * `hash`: keep a SHA-256 of everything received.
   * `chattyMs`: send one byte (`\n`) every that many ms while open, as clients with a
   *   keepalive do: a relay that closes it without draining its input would reset it.
   */
  static async connect(
    port: number,
    options: {
      paused?: boolean;
      trickleMs?: number;
      halfOpen?: boolean;
      keep?: boolean;
      hash?: boolean;
      chattyMs?: number;
    } = {},
  ): Promise<TestClient> {
    const client = new TestClient(options.keep ?? true, options.hash ?? false);
    client.socket = await Bun.connect<TestClient>({
      hostname: "127.0.0.1",
      port,
      data: client,
      allowHalfOpen: options.halfOpen ?? false,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          if (options.paused) socket.pause();
        },
        data(socket, chunk) {
          socket.data.onData(chunk);
          if (options.trickleMs) {
            socket.pause();
            setTimeout(() => socket.resume(), options.trickleMs);
          }
        },
        drain(socket) {
          socket.data.onDrain();
        },
        // Declared always: Bun honours allowHalfOpen only when an `end` handler exists.
        end(socket) {
          socket.data.resolveEnded();
        },
        close(socket, error) {
          socket.data.isClosed = true;
          socket.data.resolveEnded();
          socket.data.resolveClosed(error);
        },
        error() {},
      },
    });
    if (options.chattyMs) {
      const keepalive = new Uint8Array([10]);
      const timer = setInterval(() => {
        if (client.isClosed) clearInterval(timer);
        else client.socket.write(keepalive, 0, 1);
      }, options.chattyMs);
    }
    return client;
  }

  /** This client's own port, as the relay's logs show it (`OPEN subscriber 127.0.0.1:PORT`). */
  get localPort(): number {
    return this.socket.localPort;
  }

  get receivedBytes(): number {
    return this.received;
  }

  /** Everything received so far, as one buffer. */
  bytes(): Uint8Array {
    if (this.chunks.length > 1) this.chunks = [concat(this.chunks)];
    return this.chunks[0] ?? new Uint8Array(0);
  }

  text(): string {
    return decoder.decode(this.bytes());
  }

  /** Resolves once at least `count` bytes have arrived in total. */
  waitForBytes(count: number): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    return new Promise((resolve) => this.byteWaiters.push({ count, resolve }));
  }

  /** Writes everything, waiting for drain when the kernel takes less. */
  write(data: Uint8Array | string): Promise<void> {
    const buffer = typeof data === "string" ? bytes(data) : data;
    return new Promise((resolve) => {
      this.pendingWrites.push({ data: buffer, offset: 0, resolve });
      if (this.pendingWrites.length === 1) this.onDrain();
    });
  }

  /** Clean close (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Half-close: send FIN, keep reading. */
  halfClose(): void {
    this.socket.shutdown();
  }

  /** Abortive close (RST). */
  reset(): void {
    this.socket.terminate();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private onData(chunk: Uint8Array): void {
    if (this.keep) this.chunks.push(chunk);
    this.hash?.update(chunk);
    this.received += chunk.length;
    this.byteWaiters = this.byteWaiters.filter((waiter) => {
      if (this.received < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  private onDrain(): void {
    while (this.pendingWrites.length > 0) {
      const head = this.pendingWrites[0] as (typeof this.pendingWrites)[number];
      const left = head.data.length - head.offset;
      const written = this.socket.write(head.data, head.offset, left);
      if (written < 0) throw new Error("write on a closed test socket");
      head.offset += written;
      if (written < left) return;
      this.pendingWrites.shift();
      head.resolve();
    }
  }
}
