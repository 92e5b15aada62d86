/**
 * Test support for `forward` and `proxy`: upstream servers written here (echo, greeter,
 * silent), a client that can half-close and reset, and event waiting. Real sockets on
 * 127.0.0.1 with ephemeral ports; everything waits on events, never on sleeps.
 */

import { dlopen, FFIType } from "bun:ffi";
import { afterEach } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { flushOutbox, type OutboxConn, sendWithBackpressure } from "../../bench/forward/echo-io.ts";
import type { ForwardEvent } from "../../src/pipe/pipe-events.ts";
import { TypedEventLog } from "../support/event-log.ts";
import { TestClient } from "../support/harness.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** Forward's and proxy's events, to wait on (test/support/event-log.ts). */
export class EventLog extends TypedEventLog<ForwardEvent> {
  closes(): Extract<ForwardEvent, { type: "close" }>[] {
    return this.of("close");
  }
}

/** Per-connection state of a test server socket. */
type ServerConn = OutboxConn;

/**
 * An echo upstream with backpressure: echoes every byte, answers FIN with FIN once its
 * echo is out. `greeting` is sent on accept. Counts connections for the pool tests.
 */
export class EchoServer {
  readonly listener: TCPSocketListener<ServerConn>;
  readonly sockets = new Set<Socket<ServerConn>>();
  accepted = 0;
  private acceptWaiters: { count: number; resolve: () => void }[] = [];

  constructor(options: { greeting?: string; port?: number } = {}) {
    const server = this;
    this.listener = Bun.listen<ServerConn>({
      hostname: "127.0.0.1",
      port: options.port ?? 0,
      allowHalfOpen: true,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          socket.data = { outbox: [], shutAfterFlush: false };
          server.sockets.add(socket);
          server.accepted++;
          if (options.greeting) sendWithBackpressure(socket, encoder.encode(options.greeting));
          server.acceptWaiters = server.acceptWaiters.filter((w) => {
            if (server.accepted < w.count) return true;
            w.resolve();
            return false;
          });
        },
        data(socket, chunk) {
          sendWithBackpressure(socket, chunk);
        },
        drain(socket) {
          flushOutbox(socket);
        },
        end(socket) {
          socket.data.shutAfterFlush = true;
          flushOutbox(socket);
        },
        close(socket) {
          server.sockets.delete(socket);
        },
        error() {},
      },
    });
  }

  get port(): number {
    return this.listener.port;
  }

  /** Resolves once `count` connections have been accepted in total. */
  waitForAccepted(count: number): Promise<void> {
    if (this.accepted >= count) return Promise.resolve();
    return new Promise((resolve) => this.acceptWaiters.push({ count, resolve }));
  }

  /** Resets every open connection (an upstream dying mid-stream). */
  resetAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  stop(): void {
    this.listener.stop(true);
  }
}

/** A client for the forwarding modes: half-open, hashing; see TestClient in test/support. */
export type PipeClient = TestClient;
export const PipeClient = {
  connect: (port: number, options: { keep?: boolean } = {}): Promise<PipeClient> =>
    TestClient.connect(port, { halfOpen: true, hash: true, keep: options.keep ?? true }),
};

/**
 * Teardown for the calling test file: steps pushed during a test run after it, last first
 * (stop the forwarder before the upstream it forwards to).
 */
export function cleanupAfterEach(): { push(...steps: (() => void)[]): void } {
  let steps: (() => void)[] = [];
  afterEach(() => {
    for (const step of steps.reverse()) step();
    steps = [];
  });
  return { push: (...added) => void steps.push(...added) };
}

/** Sends `text` through a forwarder on `port`, half-closes, and waits for the whole reply. */
export async function roundTrip(port: number, text: string): Promise<PipeClient> {
  const client = await PipeClient.connect(port);
  await client.write(text);
  client.halfClose();
  await client.closed;
  return client;
}

/** A port with nothing listening on it (bound, then released). */
export function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/**
 * A listening socket that never accepts, with its accept queue filled: the next connect to it
 * stays in SYN_SENT, which is what an upstream slow to accept looks like. Bun.listen always
 * accepts, so this uses the C library directly. Returns the port and a close function.
 */
export async function unacceptedPort(): Promise<{ port: number; close: () => void }> {
  const libc = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  const fd = libc.symbols.socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
  const port = closedPort();
  const address = new Uint8Array(16); // sockaddr_in: family, port (big-endian), 127.0.0.1
  new DataView(address.buffer).setUint16(0, 2, true);
  new DataView(address.buffer).setUint16(2, port, false);
  address.set([127, 0, 0, 1], 4);
  if (libc.symbols.bind(fd, address, 16) !== 0 || libc.symbols.listen(fd, 0) !== 0) {
    throw new Error("cannot set up the unaccepted listener");
  }
  // Linux queues backlog + 1 connections: one filler makes the queue full, and from then on
  // SYNs are dropped and connects hang until the caller's timeout.
  const filler = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
  return {
    port,
    close: () => {
      filler.terminate();
      libc.symbols.close(fd);
      libc.close();
    },
  };
}
