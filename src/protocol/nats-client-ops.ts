/**
 * The NatsParser's (nats-parser.ts) interface with the connection: the handler interface, one
 * method per client operation of core NATS (nats-server 2.9: CONNECT, PUB, HPUB, SUB, UNSUB,
 * PING, PONG), the reused NatsPub record that carries each PUB/HPUB, and the parser's options.
 */

import type { NatsProtocolError } from "./nats-errors.ts";

const utf8 = new TextDecoder();

/**
 * One PUB or HPUB, as the parser delivers it. The parser owns ONE of these and refills it for
 * every message, so the handler must copy the fields it keeps past its `pub` call (the object
 * itself must not be kept). What each field may be kept for:
 *
 * - `subject`, `reply`: strings, keep freely.
 * - `subjectBytes`, `replyBytes`, `payload`: the parser never writes into them after handing
 *   them over, so views of them may be kept (they keep their buffer alive, so copy small
 *   parts of big buffers when keeping them long).
 */
export class NatsPub {
  /**
   * The subject, decoded as UTF-8 (bytes that are not UTF-8 become U+FFFD; `subjectBytes` has
   * them raw). The same string object while a publisher repeats its subject.
   */
  subject = "";
  /**
   * The subject's raw bytes, for writing MSG heads without re-encoding: a parser-owned copy,
   * the same array while the subject repeats, replaced (never overwritten) when it changes.
   */
  subjectBytes: Uint8Array = new Uint8Array(0);
  /** The reply subject's raw bytes, or undefined when the PUB has none. */
  replyBytes: Uint8Array | undefined = undefined;
  /**
   * HPUB's header byte count (`<hdr_len>`, 0 to `payload.length`), or -1 for PUB. Note that
   * nats-server treats an HPUB with 0 header bytes as a plain message (client.go msgHeader:
   * `hasHeader := c.pa.hdr > 0`); see deliveryHeadLength in nats-encoder.ts.
   */
  headerSize = -1;
  /**
   * Where the `<size>` (PUB) or `<total_len>` (HPUB: headers then body) bytes are, exactly:
   * `source[payloadStart, payloadEnd)`. `source` is the pushed chunk when they lay within one
   * chunk, else a fresh array of their own. A hot path copies the range as it is (no view
   * made per message: Buffer.prototype.copy takes ranges).
   */
  source: Uint8Array = new Uint8Array(0);
  payloadStart = 0;
  payloadEnd = 0;
  private view: Uint8Array | undefined = undefined;

  /** The payload as a view (made on first use for this message). */
  get payload(): Uint8Array {
    if (this.view === undefined)
      this.view = this.source.subarray(this.payloadStart, this.payloadEnd);
    return this.view;
  }

  /** Sets the next message's payload (the parser's). */
  setPayload(source: Uint8Array, start: number, end: number): void {
    this.source = source;
    this.payloadStart = start;
    this.payloadEnd = end;
    this.view = undefined;
  }

  private replyText: string | undefined = undefined;

  /** The reply subject decoded as UTF-8 (on first use, then cached), or undefined. */
  get reply(): string | undefined {
    if (this.replyBytes === undefined) return undefined;
    if (this.replyText === undefined) this.replyText = utf8.decode(this.replyBytes);
    return this.replyText;
  }

  /**
   * Sets the subject from `bytes[start, end)`, keeping the last subject's string and bytes
   * when they are the same (a publisher usually repeats its subject, and the router's shared
   * runs compare subjects by identity); otherwise a copy of the bytes and their UTF-8 text.
   */
  setSubject(bytes: Uint8Array, start: number, end: number): void {
    const last = this.subjectBytes;
    const length = end - start;
    if (last.length === length) {
      let i = 0;
      while (i < length && last[i] === bytes[start + i]) i++;
      if (i === length) return;
    }
    const copy = bytes.slice(start, end);
    this.subjectBytes = copy;
    this.subject = utf8.decode(copy);
  }

  /** Sets the reply for the next message (the parser's; clears the cached string). */
  setReply(bytes: Uint8Array | undefined): void {
    this.replyBytes = bytes;
    this.replyText = undefined;
  }
}

/**
 * Receives what a NatsParser reads from one client, in wire order. Methods are called
 * synchronously from `push`; they may call the parser's `stop()` (then nothing after that
 * operation is delivered) or change its settings (`awaitingConnect`, `headers`, limits), which
 * take effect from the next operation. They must not throw.
 */
export interface NatsClientHandler {
  /**
   * CONNECT: its argument's raw bytes (the JSON options object, as sent; not validated here).
   * nats-server closes a client whose CONNECT is not JSON without an `-ERR` (client.go
   * processConnect returns the json error; readLoop closes with ProtocolViolation).
   */
  connect(json: Uint8Array): void;
  /** PUB or HPUB, complete with its payload. `msg` is reused: see NatsPub. */
  pub(msg: NatsPub): void;
  /**
   * SUB `<subject> [queue] <sid>`. Strings are UTF-8 decoded; the subject is not validated
   * here (the connection checks it and sends 'Invalid Subject' itself).
   */
  sub(subject: string, queue: string | undefined, sid: string): void;
  /**
   * UNSUB `<sid> [max]`. `max` is the count after which to remove the subscription, or
   * undefined to remove it now: when absent, 0 or not a number of 1 to 9 digits, since
   * nats-server (client.go processUnsub) parses it with parseSize and keeps a limit only
   * when it is positive (and above the messages already delivered, which the connection checks).
   */
  unsub(sid: string, max: number | undefined): void;
  /** PING: answer PONG (the connection's job). */
  ping(): void;
  /** PONG: an answer to the server's PING. */
  pong(): void;
  /**
   * The client broke a rule: send `error.err?.wire` if there is one, then close. Called once;
   * the parser then ignores everything pushed.
   */
  error(error: NatsProtocolError): void;
}

/** nats-server's MAX_CONTROL_LINE_SIZE (server/const.go). */
export const DEFAULT_MAX_CONTROL_LINE = 4096;
/** nats-server's MAX_PAYLOAD_SIZE, 1 MiB (server/const.go). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** How a NatsParser judges its input; every field can be changed later on the parser. */
export interface NatsParserOptions {
  /** Longest argument part of a control line, in bytes (default 4096). */
  maxControlLine?: number;
  /** Largest PUB size / HPUB total, in bytes (default 1 MiB). */
  maxPayload?: number;
  /** Whether HPUB is allowed: the client's CONNECT said `"headers": true` (default false). */
  headers?: boolean;
  /** Whether only CONNECT may come next: authentication is awaited (default false). */
  awaitingConnect?: boolean;
}
