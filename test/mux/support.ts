/**
 * Test support for src/mux: session pairs over real sockets on 127.0.0.1 (ephemeral ports),
 * raw TCP peers that speak bytes, a scripted in-memory transport, stream helpers and hashing.
 * Everything waits on events; nothing sleeps except where a test is about time passing.
 *
 * Standalone on purpose: it imports nothing from test/support (whose harness pulls in the
 * relay), so the mux tests only break for mux reasons.
 */

import { afterEach } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import {
  connectSession,
  listenSessions,
  type MuxConfig,
  type MuxError,
  type MuxTransport,
  type Session,
  type Stream,
} from "../../src/mux/index.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Bytes from hex, spaces allowed. */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

export function sha256(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** `length` random bytes (crypto quality is irrelevant; it is fast and never repeats). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536) {
    crypto.getRandomValues(out.subarray(at, Math.min(at + 65_536, length)));
  }
  return out;
}

export { seededRandom } from "../support/harness.ts";

/**
 * Reads a stream to its end (async iteration) and returns all its bytes. With `finAfter`,
 * half-closes the stream once that many bytes have been read.
 */
export async function readAll(stream: Stream, finAfter?: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (finAfter === 0) stream.closeWrite();
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.length;
    if (total === finAfter) stream.closeWrite();
  }
  return concat(chunks);
}

/** Echoes every chunk of `stream` back with onData, then half-closes after the peer's FIN. */
export function echo(stream: Stream): void {
  stream.onData(
    (chunk) => {
      stream.write(chunk).catch(() => {});
    },
    (cause) => {
      if (cause === undefined) stream.closeWrite();
    },
  );
}

/** Writes `data` in pieces of `piece` bytes, awaiting each (the intended backpressure use). */
export async function writeAll(stream: Stream, data: Uint8Array, piece = 16_384): Promise<void> {
  for (let at = 0; at < data.length; at += piece) {
    await stream.write(data.subarray(at, Math.min(at + piece, data.length)));
  }
}

/**
 * Resolves once `predicate()` holds, checked after each event-loop turn: for states no event
 * announces (a writer stopped at its window, a counter). Rejects after `timeoutMs`.
 */
export async function until(
  predicate: () => boolean,
  what: string,
  timeoutMs = 4000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Things to close after the current test, registered by the helpers below. */
const cleanups: (() => void | Promise<void>)[] = [];

/** Registers `cleanup` to run after the current test, newest first. */
export function onCleanup(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup);
}

/**
 * Call once at the top of every test file that uses these helpers. A hook registered here
 * at import time would bind to the first file that imports this module only (bun test loads
 * it once), and the other files would leak sessions, listeners and Go processes.
 */
export function cleanupAfterEach(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
}

/** A client Session connected to a server Session in this process, both with `config`. */
export interface SessionPair {
  client: Session;
  server: Session;
  listener: TCPSocketListener<unknown>;
}

export async function sessionPair(
  config: Partial<MuxConfig>,
  serverConfig: Partial<MuxConfig> = config,
): Promise<SessionPair> {
  let resolveServer!: (session: Session) => void;
  const serverReady = new Promise<Session>((resolve) => {
    resolveServer = resolve;
  });
  const listener = listenSessions({
    hostname: "127.0.0.1",
    port: 0,
    config: serverConfig,
    onSession: resolveServer,
  });
  const client = await connectSession({ hostname: "127.0.0.1", port: listener.port, config });
  const server = await serverReady;
  onCleanup(() => {
    client.close("test over");
    server.close("test over");
    listener.stop(true);
  });
  return { client, server, listener: listener as TCPSocketListener<unknown> };
}

/** A raw TCP socket connected to something, recording all it receives. */
export class RawPeer {
  readonly received: Uint8Array[] = [];
  receivedBytes = 0;
  closed = false;
  socket!: Socket<RawPeer>;
  private waiters: (() => void)[] = [];

  write(data: Uint8Array): void {
    const written = this.socket.write(data, 0, data.length);
    if (written !== data.length) throw new Error(`raw write took ${written} of ${data.length}`);
  }

  all(): Uint8Array {
    return concat(this.received);
  }

  /** Resolves when `predicate` holds over the peer's state (checked on every event). */
  when(predicate: (peer: RawPeer) => boolean): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate(this)) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** @internal */
  notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

const rawHandlers = {
  binaryType: "uint8array" as const,
  data(socket: Socket<RawPeer>, chunk: Uint8Array) {
    socket.data.received.push(chunk);
    socket.data.receivedBytes += chunk.length;
    socket.data.notify();
  },
  close(socket: Socket<RawPeer>) {
    socket.data.closed = true;
    socket.data.notify();
  },
  error() {},
};

/** A raw TCP client connected to a mux listener; resolves with the peer and the server Session. */
export async function rawClientOf(
  config: Partial<MuxConfig>,
): Promise<{ raw: RawPeer; session: Session }> {
  let resolveServer!: (session: Session) => void;
  const serverReady = new Promise<Session>((resolve) => {
    resolveServer = resolve;
  });
  const listener = listenSessions({
    hostname: "127.0.0.1",
    port: 0,
    config,
    onSession: resolveServer,
  });
  const raw = new RawPeer();
  raw.socket = await Bun.connect<RawPeer>({
    hostname: "127.0.0.1",
    port: listener.port,
    data: raw,
    socket: rawHandlers,
  });
  const session = await serverReady;
  onCleanup(() => {
    session.close("test over");
    raw.socket.end();
    listener.stop(true);
  });
  return { raw, session };
}

/** A raw TCP server with one client Session connected to it. */
export async function rawServerOf(
  config: Partial<MuxConfig>,
): Promise<{ raw: RawPeer; session: Session }> {
  const raw = new RawPeer();
  let resolveOpen!: () => void;
  const opened = new Promise<void>((resolve) => {
    resolveOpen = resolve;
  });
  const listener = Bun.listen<RawPeer>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      ...rawHandlers,
      open(socket) {
        socket.data = raw;
        raw.socket = socket;
        resolveOpen();
      },
    },
  });
  const session = await connectSession({ hostname: "127.0.0.1", port: listener.port, config });
  await opened;
  onCleanup(() => {
    session.close("test over");
    raw.socket.end();
    listener.stop(true);
  });
  return { raw, session };
}

/**
 * An in-memory transport whose writes take what `accept(length)` says (all by default) and
 * are recorded; `paused` reflects pause()/resume(). For unit tests of batching and partial
 * writes, where a real socket would not short-write on demand.
 */
export class ScriptedTransport implements MuxTransport {
  readonly peer = "scripted:0";
  readonly writes: Uint8Array[] = [];
  ended = false;
  paused = false;
  /** Bytes to take from a write of `length` bytes; -1 for "closed". */
  accept: (length: number) => number = (length) => length;

  write(data: Uint8Array, offset: number, length: number): number {
    if (this.ended) return -1;
    const taken = this.accept(length);
    if (taken > 0) this.writes.push(data.slice(offset, offset + taken));
    return taken;
  }

  end(): void {
    this.ended = true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  all(): Uint8Array {
    return concat(this.writes);
  }
}

/** A promise's state without awaiting it: "pending", "resolved" or "rejected". */
export async function stateOf(promise: Promise<unknown>): Promise<string> {
  const marker = {};
  try {
    const value = await Promise.race([promise, Promise.resolve(marker)]);
    return value === marker ? "pending" : "resolved";
  } catch {
    return "rejected";
  }
}

/** The cause a session closed with, as `{ code, reason }`. */
export async function closeCode(session: Session): Promise<string> {
  const cause: MuxError = await session.closed;
  return cause.code;
}
