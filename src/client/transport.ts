/**
 * The one seam between the client and a runtime's sockets (issue 23): Bun's `Bun.connect`
 * (transport-bun.ts) when `Bun` is defined, Node's `node:net` / `node:tls` (transport-node.ts)
 * otherwise. Everything above this file (Connection, Outbox, the sessions) sees only a
 * ClientSocket and calls a TransportEvents object, so both runtimes run the same client code,
 * the same codecs and the same backpressure (style habit 12; nats.js's `Transport`).
 *
 * The contract is Bun's, since the client was written against it
 * (/work/shared/notes/bun-sockets.md): `write` is one non-blocking send that returns the bytes
 * taken (0 when full, -1 once closed) and keeps nothing; `drain` follows a short write; `data`
 * chunks may be kept (views into them stay valid). The Node adapter maps Node's buffering
 * stream onto that contract.
 */

import type { ClientTlsOptions } from "./tls-options.ts";
import { dialBun } from "./transport-bun.ts";
import { dialNode } from "./transport-node.ts";

/** What the client needs of a connected socket. Bun's Socket has exactly these members. */
export interface ClientSocket {
  /** One non-blocking send: the bytes taken (fewer, or 0, when full), -1 once closed. */
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
  /** Stops reading: TCP flow control pushes back on the relay. */
  pause(): void;
  resume(): void;
  /** Closes after what was written (FIN). */
  end(): void;
  /** Closes now, dropping what is unsent (RST where the runtime can). */
  terminate(): void;
}

/** What a transport reports about one dial; called in this order, each at most as noted. */
export interface TransportEvents {
  /** Connected, and over TLS the handshake succeeded: the socket may be written. Once. */
  open(socket: ClientSocket): void;
  /** TLS only: the handshake failed (`error` says why). `close` follows. At most once. */
  handshakeFailed(socket: ClientSocket, error: Error | undefined): void;
  /** Bytes from the relay, in order; the chunk is the client's to keep. */
  data(chunk: Uint8Array): void;
  /** The socket can take bytes again after a short write (may fire spuriously). */
  drain(): void;
  /** A socket error; `close` follows with it. */
  error(error: Error): void;
  /** The socket is closed; `error` is undefined for a clean close. Once, after a connect. */
  close(error: Error | undefined): void;
}

/** Where to dial. */
export interface DialTarget {
  host: string;
  port: number;
  /** `true`: TLS verified against the system's CAs; an object: ClientTlsOptions. */
  tls: boolean | ClientTlsOptions | undefined;
}

/** One dial in progress. */
export interface DialAttempt {
  /**
   * Resolves once the TCP connection is up; rejects (ECONNREFUSED, ENOTFOUND, ...) when it
   * could not be made, and then no event follows.
   */
  connected: Promise<void>;
  /**
   * Gives up on a dial that has not opened (the connect timeout, or close()): Node destroys
   * the connecting socket, which would otherwise keep the process alive until the kernel
   * gives up. Bun.connect cannot be aborted; such a socket is terminated when it opens.
   */
  cancel(): void;
}

/** Dials `target` and reports to `events`. */
export type Dial = (target: DialTarget, events: TransportEvents) => DialAttempt;

/** The runtime's transport: Bun's sockets under Bun, node:net / node:tls elsewhere (Node 20+). */
export const dial: Dial = typeof Bun !== "undefined" ? dialBun : dialNode;
