/**
 * NatsParser: reads what a NATS client sends to a server (core NATS, nats-server 2.9) out of
 * a byte stream that arrives in arbitrary chunks, and calls a NatsClientHandler per operation.
 * Pure: no socket, no timer, no Promise.
 *
 * The rules it applies, and the byte state machine that applies them (nats-server 2.9.10's
 * server/parser.go `client.parse`), are in nats-scanner.ts; what each line's arguments mean
 * is in nats-operations.ts. This is the parser's contract with the connection: its limits
 * (changeable while it runs), stop(), and suspend()/resume(), which hold the input while the
 * handler finishes work it cannot do at once. Every error closes: the handler gets one
 * NatsProtocolError, then all input is ignored.
 *
 * push takes chunks over: the parser and handler keep views of them, so the caller must not
 * write into a pushed chunk (Bun never reuses one).
 */

import {
  DEFAULT_MAX_CONTROL_LINE,
  DEFAULT_MAX_PAYLOAD,
  type NatsClientHandler,
  type NatsParserOptions,
  NatsPub,
} from "./nats-client-ops.ts";
import type { NatsProtocolError } from "./nats-errors.ts";
import { NatsScanner } from "./nats-scanner.ts";

export type { NatsClientHandler, NatsParserOptions };
export { DEFAULT_MAX_CONTROL_LINE, DEFAULT_MAX_PAYLOAD, NatsPub };

export class NatsParser {
  /** The state machine; the parser feeds it one chunk at a time (per chunk, not per message). */
  private readonly scanner: NatsScanner;

  /** @throws RangeError if a limit is not a positive integer (maxPayload may be 0). */
  constructor(handler: NatsClientHandler, options: NatsParserOptions = {}) {
    this.scanner = new NatsScanner(handler, options);
  }

  /** Whether anything but CONNECT is an Authorization Violation (nats-server `awaitingAuth`). */
  get awaitingConnect(): boolean {
    return this.scanner.awaitingConnect;
  }
  set awaitingConnect(awaiting: boolean) {
    this.scanner.awaitingConnect = awaiting;
  }

  /** Longest argument part of a control line, in bytes; takes effect from the next byte read. */
  get maxControlLine(): number {
    return this.scanner.line.limit;
  }
  set maxControlLine(bytes: number) {
    this.scanner.line.limit = bytes;
  }

  /** Largest PUB size / HPUB total, in bytes; takes effect from the next control line. */
  get maxPayload(): number {
    return this.scanner.operations.maxPayload;
  }
  set maxPayload(bytes: number) {
    this.scanner.operations.maxPayload = bytes;
  }

  /** Whether HPUB is allowed: the client's CONNECT said `"headers": true`. */
  get headers(): boolean {
    return this.scanner.operations.headers;
  }
  set headers(allowed: boolean) {
    this.scanner.operations.headers = allowed;
  }

  /** The error that stopped the parser, if one did. */
  get error(): NatsProtocolError | undefined {
    return this.scanner.failure;
  }

  /** True once the parser stopped (an error, or stop()): later pushes are ignored. */
  get stopped(): boolean {
    return this.scanner.stopped;
  }

  /** Bytes held back: an unfinished control line plus the part of a payload that crosses chunks. */
  get pendingBytes(): number {
    return this.scanner.line.heldBytes + this.scanner.payload.heldBytes;
  }

  /**
   * Makes the parser ignore everything from now on (the connection is closing, e.g. CONNECT
   * failed authentication). From inside a handler method: nothing after the current operation
   * is delivered.
   */
  stop(): void {
    this.scanner.stop();
  }

  /**
   * From inside a handler method: delivers nothing after the current operation until
   * `resume()`; the rest of the chunk and every chunk pushed meanwhile are kept, in order. For
   * work the handler cannot finish at once (a bcrypt check of CONNECT's password).
   */
  suspend(): void {
    this.scanner.suspended = true;
  }

  /** Ends a suspend(): the operations held since are delivered now, in order. */
  resume(): void {
    const scanner = this.scanner;
    scanner.suspended = false;
    const held = scanner.held;
    scanner.held = [];
    for (let i = 0; i < held.length; i++) {
      if (scanner.suspended) {
        scanner.held.push(...held.slice(i));
        return;
      }
      scanner.run(held[i] as Uint8Array);
    }
  }

  /** True between suspend() and resume(). */
  get isSuspended(): boolean {
    return this.scanner.suspended;
  }

  /**
   * Feeds the next chunk (any size, including empty) and calls the handler for every
   * operation it completes, in order. After an error or stop(), does nothing; while suspended,
   * keeps it for resume().
   */
  push(chunk: Uint8Array): undefined {
    const scanner = this.scanner;
    if (scanner.suspended) {
      scanner.held.push(chunk);
      return;
    }
    scanner.run(chunk);
  }
}
