/**
 * NatsParser: reads what a NATS client sends to a server (core NATS, nats-server 2.9) out of
 * a byte stream that arrives in arbitrary chunks, and calls a NatsClientHandler per operation.
 *
 * Pure: no socket, no timer, no Promise. The reference is nats-server 2.9.10's byte state
 * machine (server/parser.go `client.parse`) and the argument handling in server/client.go;
 * states keep its names (OP_START, MSG_PAYLOAD, MSG_END_R...) where they do the same job.
 * The rules, as nats-server applies them to a CLIENT connection:
 *
 * - Operation names are case-insensitive; a field separator is a run of spaces or tabs. PUB,
 *   HPUB, SUB, UNSUB and -ERR need one blank after the name; CONNECT and INFO need none
 *   (`CONNECT{}` is accepted). The first byte after those blanks starts the arguments
 *   whatever it is, and the line ends at the next LF, one CR before it dropped.
 * - An unexpected byte where an operation name is read ends the connection with
 *   `-ERR 'Unknown Protocol Operation'` at once, before any CRLF ("ZZZ", "PUBS", "SUBZZZ", an
 *   empty line, a leading blank). So does MSG, HMSG, RS+, LS+, A+ or any server-to-server
 *   operation from a client. (nats-server walks HMSG's states for a client and then misreads
 *   what follows; refusing it at the M is this port's reading of that.)
 * - PING, PONG and +OK: everything up to the LF is ignored ("PING  \r  \n" is a PING), with no
 *   length limit, as in parser.go OP_PING.
 * - The arguments may be at most `maxControlLine` bytes (nats-server `max_control_line`,
 *   default MAX_CONTROL_LINE_SIZE 4096), counted from their first byte to the line's end
 *   without the CRLF, as nats-server measures `arg`. Checked while scanning: as soon as more
 *   bytes than that have come without the line's end, even one byte per chunk, the parser
 *   stops with `-ERR 'maximum control line exceeded'` (nats-server checks only at the end of
 *   each read and at the LF; this is the same limit, decided no later).
 * - PUB `<subject> [reply] <size>` and HPUB `<subject> [reply] <hdr_len> <total_len>`: a size
 *   is 1 to 9 digits (util.go parseSize). A wrong field count, a size that does not parse, or
 *   hdr_len above total_len: nats-server's processPub/processHeaderPub return an error,
 *   readLoop closes the connection (ProtocolViolation) and NO `-ERR` is sent. HPUB from a
 *   client whose CONNECT did not ask for headers (`headers` false here) closes the same way
 *   (ErrMsgHeadersNotSupported). A size above `maxPayload`: `-ERR 'Maximum Payload
 *   Violation'` and close, decided from the control line before any payload is read.
 * - After the payload, exactly CR LF must follow (parser.go MSG_END_R, MSG_END_N); any other
 *   byte is 'Unknown Protocol Operation' and the message is not delivered.
 * - SUB with other than 2 or 3 fields, UNSUB with other than 1 or 2: closed, no `-ERR`
 *   (parseSub/processUnsub errors). An UNSUB max that is not a size is no error: it removes the
 *   subscription at once (see NatsClientHandler.unsub).
 * - INFO from a client: ignored if its argument is JSON, else closed with no `-ERR`
 *   (processInfo). `-ERR` from a client: closed with no `-ERR` (processErr).
 * - With `awaitingConnect` set (the server requires authentication and no CONNECT passed
 *   yet), an operation that does not start with C is refused from its first byte with
 *   `-ERR 'Authorization Violation'` (parser.go OP_START `authErr`).
 *
 * Subject validity, verbose `+OK`, pedantic checks and permissions are the connection's.
 *
 * Hot path: a PUB line and its payload in one chunk cost one indexOf for the LF, a scan of the
 * arguments as bytes, and one subarray for the payload; the subject string is reused while
 * the publisher repeats it. Only a control line that crosses chunks is copied (into a small
 * reused buffer); only a payload that crosses chunks is copied (into a fresh array).
 *
 * Chunks are taken over by push: the parser and its handler keep views of them, so the caller
 * must not write into a chunk after pushing it (Bun hands every `data` call a fresh one).
 */

import { Fields, fieldText, isJsonObject, quote, readPubArgs, readSubArgs } from "./nats-args.ts";
import type { NatsClientHandler } from "./nats-client-ops.ts";
import { NatsPub } from "./nats-client-ops.ts";
import { NATS_ERR, type NatsErr, NatsErrorCode, NatsProtocolError } from "./nats-errors.ts";
import {
  AFTER_NAME,
  CONNECT,
  HPUB,
  INFO,
  OP_NAMES,
  OP_WORDS,
  opAfterP,
  opStartedBy,
  P_OPERATIONS,
  PING,
  PONG,
  PUB,
  SUB,
  UNSUB,
} from "./nats-op-names.ts";

export type { NatsClientHandler };
export { NatsPub };

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

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const UPPER_P = 0x50;
const UPPER_U = 0x55;
const UPPER_B = 0x42;

// States (parser.go names where they match).
const OP_START = 0;
/** After P: U, I or O says PUB, PING or PONG. */
const OP_P = 1;
/** Matching the rest of the operation's name. */
const OP_NAME = 2;
/** After PUB, HPUB, SUB, UNSUB or -ERR: one blank must follow (parser.go OP_PUB etc.). */
const OP_SPC = 3;
/** Blanks before the arguments (parser.go OP_PUB_SPC etc.). */
const ARG_SPC = 4;
/** Arguments begun in an earlier chunk, held in `line` (parser.go PUB_ARG with argBuf). */
const ARG = 5;
/** PING, PONG, +OK: everything up to the LF is ignored (parser.go OP_PING). */
const OP_TO_LF = 6;
const MSG_PAYLOAD = 7;
const MSG_END_R = 8;
const MSG_END_N = 9;
const STOPPED = 10;

/** The state after each kind of name ending (nats-op-names.ts AFTER_NAME). */
const STATE_AFTER = [OP_SPC, ARG_SPC, OP_TO_LF];

const utf8 = new TextDecoder();
const EMPTY = new Uint8Array(0);
/** The first size of the buffer for a control line that crosses chunks. */
const MIN_LINE_CAPACITY = 128;

export class NatsParser {
  private state = OP_START;
  private op = PUB;
  /** Bytes of the operation name matched so far (OP_NAME). */
  private nameMatched = 0;
  /** Stream offset of the current operation's first byte, for errors. */
  private opOffset = 0;
  /** Bytes pushed before the current chunk. */
  private streamOffset = 0;
  /** Arguments that cross chunks: their first `lineLength` bytes. */
  private line = EMPTY;
  private lineLength = 0;
  /** The PUB/HPUB being read, reused for every message (see NatsPub). */
  private readonly msg = new NatsPub();
  /** A payload that crosses chunks, filled up to `payloadFill`; undefined until one does. */
  private heldPayload: Uint8Array | undefined = undefined;
  private payloadFill = 0;
  private payloadSize = 0;
  private readonly fields = new Fields();
  private failure: NatsProtocolError | undefined = undefined;
  private controlLineLimit = DEFAULT_MAX_CONTROL_LINE;
  private payloadLimit = DEFAULT_MAX_PAYLOAD;
  /** Whether HPUB is allowed (nats-server `c.headers`, from CONNECT). */
  headers: boolean;
  /** Whether anything but CONNECT is an Authorization Violation (nats-server `awaitingAuth`). */
  awaitingConnect: boolean;

  /** @throws RangeError if a limit is not a positive integer (maxPayload may be 0). */
  constructor(
    private readonly handler: NatsClientHandler,
    options: NatsParserOptions = {},
  ) {
    this.maxControlLine = options.maxControlLine ?? DEFAULT_MAX_CONTROL_LINE;
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.headers = options.headers ?? false;
    this.awaitingConnect = options.awaitingConnect ?? false;
  }

  /** Longest argument part of a control line, in bytes; takes effect from the next byte read. */
  get maxControlLine(): number {
    return this.controlLineLimit;
  }
  set maxControlLine(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 1) {
      throw new RangeError(`maxControlLine must be a positive integer, got ${bytes}`);
    }
    this.controlLineLimit = bytes;
  }

  /** Largest PUB size / HPUB total, in bytes; takes effect from the next control line. */
  get maxPayload(): number {
    return this.payloadLimit;
  }
  set maxPayload(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`maxPayload must be a non-negative integer, got ${bytes}`);
    }
    this.payloadLimit = bytes;
  }

  /** The error that stopped the parser, if one did. */
  get error(): NatsProtocolError | undefined {
    return this.failure;
  }

  /** True once the parser stopped (an error, or stop()): later pushes are ignored. */
  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /** Bytes held back: an unfinished control line plus the part of a payload that crosses chunks. */
  get pendingBytes(): number {
    return this.lineLength + (this.heldPayload === undefined ? 0 : this.payloadFill);
  }

  /**
   * Makes the parser ignore everything from now on (the connection is closing, e.g. CONNECT
   * failed authentication). From inside a handler method: nothing after the current operation
   * is delivered.
   */
  stop(): void {
    this.state = STOPPED;
    this.line = EMPTY;
    this.lineLength = 0;
    this.heldPayload = undefined;
  }

  /**
   * Feeds the next chunk (any size, including empty) and calls the handler for every
   * operation it completes, in order. After an error or stop(), does nothing.
   */
  push(chunk: Uint8Array): void {
    const base = this.streamOffset;
    this.streamOffset += chunk.length;
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      switch (this.state) {
        case OP_START: {
          this.opOffset = base + at;
          const b = chunk[at] as number;
          if (this.awaitingConnect && (b | 0x20) !== 0x63) {
            this.fail(
              NatsErrorCode.AuthorizationViolation,
              NATS_ERR.authorizationViolation,
              "an operation other than CONNECT while authentication is awaited",
            );
            return;
          }
          // The hot case, an upper-case "PUB " in one piece, skips the name states.
          if (
            b === UPPER_P &&
            end - at >= 4 &&
            chunk[at + 1] === UPPER_U &&
            chunk[at + 2] === UPPER_B &&
            isBlank(chunk[at + 3] as number)
          ) {
            this.op = PUB;
            this.state = ARG_SPC;
            at += 4;
            break;
          }
          if (!this.startName(b)) return;
          at++;
          break;
        }
        case OP_P: {
          const op = opAfterP(chunk[at] as number);
          if (op < 0) {
            this.unexpected(chunk, at);
            return;
          }
          this.op = op;
          this.nameMatched = 2;
          this.state = OP_NAME;
          at++;
          break;
        }
        case OP_NAME: {
          const word = OP_WORDS[this.op] as Uint8Array;
          let matched = this.nameMatched;
          while (at < end && matched < word.length) {
            if (((chunk[at] as number) | 0x20) !== word[matched]) {
              this.unexpected(chunk, at);
              return;
            }
            at++;
            matched++;
          }
          this.nameMatched = matched;
          if (matched === word.length) {
            this.state = STATE_AFTER[AFTER_NAME[this.op] as number] as number;
          }
          break;
        }
        case OP_SPC:
          if (!isBlank(chunk[at] as number)) {
            this.unexpected(chunk, at);
            return;
          }
          this.state = ARG_SPC;
          at++;
          break;
        case ARG_SPC: {
          while (at < end && isBlank(chunk[at] as number)) at++;
          if (at === end) break;
          // The first argument byte is taken whatever it is, even a CR or LF: parser.go's
          // *_SPC states move to *_ARG on it without looking at it. So the LF is sought after it.
          const lf = at + 1 < end ? chunk.indexOf(LF, at + 1) : -1;
          if (lf === -1) {
            if (!this.holdLine(chunk, at, end)) return;
            at = end;
            break;
          }
          const lineEnd = lf - 1 > at && chunk[lf - 1] === CR ? lf - 1 : lf;
          if (!this.withinControlLine(lineEnd - at)) return;
          if (!this.completeLine(chunk, at, lineEnd, true)) return;
          at = lf + 1;
          break;
        }
        case ARG: {
          const lf = chunk.indexOf(LF, at);
          if (lf === -1) {
            if (!this.holdLine(chunk, at, end)) return;
            at = end;
            break;
          }
          const length = this.lineLength + lf - at;
          const last = lf > at ? chunk[lf - 1] : this.line[this.lineLength - 1];
          const argLength = length > 1 && last === CR ? length - 1 : length;
          if (!this.withinControlLine(argLength)) return;
          this.appendLine(chunk, at, lf);
          this.lineLength = 0;
          if (!this.completeLine(this.line, 0, argLength, false)) return;
          at = lf + 1;
          break;
        }
        case OP_TO_LF: {
          const lf = chunk.indexOf(LF, at);
          if (lf === -1) return;
          at = lf + 1;
          this.state = OP_START;
          if (this.op === PING) this.handler.ping();
          else if (this.op === PONG) this.handler.pong();
          break;
        }
        case MSG_PAYLOAD:
          at = this.readPayload(chunk, at);
          break;
        case MSG_END_R:
          if (chunk[at] !== CR) {
            this.unexpected(chunk, at);
            return;
          }
          this.state = MSG_END_N;
          at++;
          break;
        case MSG_END_N:
          if (chunk[at] !== LF) {
            this.unexpected(chunk, at);
            return;
          }
          this.state = OP_START;
          at++;
          this.handler.pub(this.msg);
          break;
        default:
          return;
      }
    }
  }

  /** OP_START: the first byte of an operation name. False if it starts none. */
  private startName(b: number): boolean {
    const op = opStartedBy(b);
    if (op === P_OPERATIONS) {
      this.state = OP_P;
      return true;
    }
    if (op < 0) {
      this.unexpectedByte(b);
      return false;
    }
    this.op = op;
    this.nameMatched = 1;
    this.state = OP_NAME;
    return true;
  }

  /**
   * The arguments so far run to the end of the chunk: keeps `chunk[from, end)` in `line`,
   * unless that makes them longer than maxControlLine (one byte over is allowed when it is a
   * CR, which may be the line's end). False if the parser stopped.
   */
  private holdLine(chunk: Uint8Array, from: number, end: number): boolean {
    const length = this.lineLength + end - from;
    const limit = this.controlLineLimit;
    if (length > limit + 1 || (length === limit + 1 && chunk[end - 1] !== CR)) {
      return this.withinControlLine(length);
    }
    this.appendLine(chunk, from, end);
    this.state = ARG;
    return true;
  }

  private appendLine(chunk: Uint8Array, from: number, to: number): void {
    const needed = this.lineLength + to - from;
    if (needed > this.line.length) {
      const doubled = Math.max(this.line.length * 2, MIN_LINE_CAPACITY);
      const grown = new Uint8Array(Math.max(needed, Math.min(doubled, this.controlLineLimit + 1)));
      grown.set(this.line.subarray(0, this.lineLength));
      this.line = grown;
    }
    this.line.set(chunk.subarray(from, to), this.lineLength);
    this.lineLength = needed;
  }

  /** False (and the parser stopped) if `argLength` is over maxControlLine. */
  private withinControlLine(argLength: number): boolean {
    if (argLength <= this.controlLineLimit) return true;
    this.fail(
      NatsErrorCode.MaxControlLine,
      NATS_ERR.maxControlLine,
      `${OP_NAMES[this.op]} arguments of ${argLength}+ bytes, over max_control_line ${this.controlLineLimit}`,
    );
    return false;
  }

  /**
   * A whole control line's arguments, `bytes[start, end)` (CRLF excluded). `stable`: `bytes`
   * is a pushed chunk (views may be kept), not the reused `line` buffer. Calls the handler or,
   * for PUB/HPUB, sets up the payload read. False if the parser stopped.
   */
  private completeLine(bytes: Uint8Array, start: number, end: number, stable: boolean): boolean {
    this.state = OP_START;
    const fields = this.fields;
    switch (this.op) {
      case PUB:
      case HPUB:
        return this.startMessage(bytes, start, end, stable);
      case SUB:
      case UNSUB: {
        const unsub = this.op === UNSUB;
        const problem = readSubArgs(bytes, start, end, unsub, fields);
        if (problem !== undefined) {
          this.fail(
            unsub ? NatsErrorCode.BadUnsubArgs : NatsErrorCode.BadSubArgs,
            undefined,
            problem,
          );
          return false;
        }
        if (unsub) {
          this.handler.unsub(
            fieldText(bytes, fields, 0),
            fields.size > 0 ? fields.size : undefined,
          );
        } else {
          const queue = fields.count === 3 ? fieldText(bytes, fields, 1) : undefined;
          const sid = fieldText(bytes, fields, fields.count - 1);
          this.handler.sub(fieldText(bytes, fields, 0), queue, sid);
        }
        break;
      }
      case CONNECT:
        this.handler.connect(bytes.slice(start, end));
        break;
      case INFO:
        if (!isJsonObject(bytes, start, end)) {
          this.fail(NatsErrorCode.BadInfo, undefined, "INFO whose argument is not a JSON object");
          return false;
        }
        break;
      default: // ERR
        this.fail(
          NatsErrorCode.ClientErr,
          undefined,
          `the client sent -ERR ${quote(bytes, start, end)}`,
        );
        return false;
    }
    return this.state !== STOPPED;
  }

  /** PUB/HPUB arguments: checks them as processPub/processHeaderPub do, then awaits the payload. */
  private startMessage(bytes: Uint8Array, start: number, end: number, stable: boolean): boolean {
    const headers = this.op === HPUB;
    if (headers && !this.headers) {
      const reason = "HPUB from a client whose CONNECT did not enable headers";
      this.fail(NatsErrorCode.HeadersNotSupported, undefined, reason);
      return false;
    }
    const fields = this.fields;
    const problem = readPubArgs(bytes, start, end, headers, fields);
    if (problem !== undefined) {
      this.fail(headers ? NatsErrorCode.BadHpubArgs : NatsErrorCode.BadPubArgs, undefined, problem);
      return false;
    }
    if (fields.size > this.payloadLimit) {
      const reason = `${OP_NAMES[this.op]} of ${fields.size} bytes, over max_payload ${this.payloadLimit}`;
      this.fail(NatsErrorCode.MaxPayload, NATS_ERR.maxPayload, reason);
      return false;
    }
    const msg = this.msg;
    this.setSubject(bytes, fields.starts[0] as number, fields.ends[0] as number);
    if (fields.reply > 0) {
      const replyStart = fields.starts[1] as number;
      const replyEnd = fields.ends[1] as number;
      // A view of the chunk may be kept; the reused line buffer must be copied.
      const reply = stable
        ? bytes.subarray(replyStart, replyEnd)
        : bytes.slice(replyStart, replyEnd);
      msg.setReply(reply);
    } else {
      msg.setReply(undefined);
    }
    msg.headerSize = fields.headerSize;
    this.payloadSize = fields.size;
    this.state = MSG_PAYLOAD;
    return true;
  }

  /**
   * Sets the message's subject from `bytes[start, end)`, reusing the last subject's string
   * and bytes when they are the same (a publisher usually repeats its subject).
   */
  private setSubject(bytes: Uint8Array, start: number, end: number): void {
    const msg = this.msg;
    const last = msg.subjectBytes;
    const length = end - start;
    if (last.length === length) {
      let i = 0;
      while (i < length && last[i] === bytes[start + i]) i++;
      if (i === length) return;
    }
    const copy = bytes.slice(start, end);
    msg.subjectBytes = copy;
    msg.subject = utf8.decode(copy);
  }

  /**
   * MSG_PAYLOAD: reads the payload from `chunk` at `at`, delivers the message when its CRLF is
   * there too, and returns where it stopped.
   */
  private readPayload(chunk: Uint8Array, at: number): number {
    const size = this.payloadSize;
    const end = chunk.length;
    const held = this.heldPayload;
    if (held === undefined) {
      // The payload starts in this chunk: a view when it lies wholly in it.
      const available = end - at;
      if (available >= size + 2) {
        if (chunk[at + size] !== CR) {
          this.unexpected(chunk, at + size);
          return end;
        }
        if (chunk[at + size + 1] !== LF) {
          this.unexpected(chunk, at + size + 1);
          return end;
        }
        this.msg.payload = chunk.subarray(at, at + size);
        this.state = OP_START;
        this.handler.pub(this.msg);
        return at + size + 2;
      }
      if (available >= size) {
        this.msg.payload = chunk.subarray(at, at + size);
        this.state = MSG_END_R;
        return at + size;
      }
      // It crosses chunks: a fresh array, never reused, as the handler may keep views of it.
      const fresh = new Uint8Array(size);
      fresh.set(chunk.subarray(at));
      this.heldPayload = fresh;
      this.payloadFill = available;
      return end;
    }
    const take = Math.min(size - this.payloadFill, end - at);
    held.set(chunk.subarray(at, at + take), this.payloadFill);
    this.payloadFill += take;
    if (this.payloadFill === size) {
      this.msg.payload = held;
      this.heldPayload = undefined;
      this.payloadFill = 0;
      this.state = MSG_END_R;
    }
    return at + take;
  }

  /** parser.go `goto parseErr` on `chunk[at]`. */
  private unexpected(chunk: Uint8Array, at: number): void {
    this.unexpectedByte(chunk[at] as number);
  }

  private unexpectedByte(b: number): void {
    let where: string;
    switch (this.state) {
      case OP_START:
        where = "where an operation starts";
        break;
      case OP_P:
        where = "after P (PUB, PING or PONG expected)";
        break;
      case OP_NAME:
        where = `in the name ${OP_NAMES[this.op]}`;
        break;
      case OP_SPC:
        where = `after ${OP_NAMES[this.op]} (a space or tab expected)`;
        break;
      default:
        where = `after the ${this.payloadSize}-byte payload (CRLF expected)`;
    }
    this.fail(
      NatsErrorCode.UnknownOperation,
      NATS_ERR.unknownOperation,
      `unexpected byte 0x${b.toString(16).padStart(2, "0")} ${where}`,
    );
  }

  private fail(code: NatsErrorCode, err: NatsErr | undefined, reason: string): void {
    this.failure = new NatsProtocolError(code, err, reason, this.opOffset);
    this.stop();
    this.handler.error(this.failure);
  }
}

function isBlank(b: number): boolean {
  return b === SPACE || b === TAB;
}
