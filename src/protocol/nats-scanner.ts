/**
 * NatsScanner: the byte state machine inside the NatsParser (nats-parser.ts). It reads what a
 * NATS client sends to a server (core NATS, nats-server 2.9) out of chunks of a byte stream
 * and calls a NatsClientHandler per operation; the parser around it holds chunks while the
 * handler is suspended and gives the limits and the stop their public names.
 *
 * Pure: no socket, no timer, no Promise. The reference is nats-server 2.9.10's byte state
 * machine, server/parser.go `client.parse`, whose state names this one keeps where they do
 * the same job. Its rules for a CLIENT connection:
 *
 * - Operation names are case-insensitive. PUB, HPUB, SUB, UNSUB and -ERR need a space or tab
 *   after the name, CONNECT and INFO none (`CONNECT{}` passes). The first byte after the
 *   blanks starts the arguments whatever it is; the line ends at the next LF, a CR before it
 *   dropped. PING, PONG and +OK ignore everything up to the LF, with no length limit.
 * - A byte no operation name allows is `-ERR 'Unknown Protocol Operation'` at once, before
 *   any CRLF ("ZZZ", "PUBS", an empty line, a leading blank, MSG or any server-to-server
 *   operation; HMSG too, which nats-server refuses only after its line, this port at the M).
 * - The arguments may be at most `maxControlLine` bytes (see nats-control-line.ts), decided
 *   while scanning, even one byte per chunk: `-ERR 'maximum control line exceeded'`.
 * - A PUB size or HPUB total above `maxPayload`: `-ERR 'Maximum Payload Violation'`, decided
 *   from the control line before any payload is read. After the payload, exactly CR LF must
 *   follow (parser.go MSG_END_R, MSG_END_N), else 'Unknown Protocol Operation' and the
 *   message is not delivered.
 * - What each line's arguments must be, and what nats-server does when they are not (mostly:
 *   close without an `-ERR`), is in nats-operations.ts.
 * - While `awaitingConnect` (authentication required, no CONNECT passed yet), an operation
 *   not starting with C is refused at its first byte: `-ERR 'Authorization Violation'`.
 *
 * Every error closes: the handler gets one NatsProtocolError, then all input is ignored.
 * Subject validity, verbose `+OK` and permissions are the connection's. Hot path: a PUB and
 * its payload in one chunk cost a short scan for the LF and the fields, and no view of the
 * payload until a consumer asks for one (the subject string is reused while it repeats); only
 * what crosses chunks is copied; views of the chunks are kept (NatsParser.push says why
 * that is safe).
 */

import {
  DEFAULT_MAX_CONTROL_LINE,
  DEFAULT_MAX_PAYLOAD,
  type NatsClientHandler,
  type NatsParserOptions,
} from "./nats-client-ops.ts";
import { ControlLineBuffer, OVER_LIMIT } from "./nats-control-line.ts";
import { NATS_ERR, type NatsErr, NatsErrorCode, NatsProtocolError } from "./nats-errors.ts";
import * as names from "./nats-op-names.ts";
import { AWAIT_PAYLOAD, LINE_REFUSED, NatsOperations } from "./nats-operations.ts";
import { PayloadBuffer } from "./nats-payload.ts";

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
/** "PUB" in upper case, for the hot path. */
const [UPPER_P, UPPER_U, UPPER_B] = [0x50, 0x55, 0x42];

// States (parser.go names where they match).
const OP_START = 0;
/** Matching the rest of the operation's name (after P, the next byte picks the name). */
const OP_NAME = 1;
/** After PUB, HPUB, SUB, UNSUB or -ERR: one blank must follow (parser.go OP_PUB etc.). */
const OP_SPC = 2;
/** Blanks before the arguments (parser.go OP_PUB_SPC etc.). */
const ARG_SPC = 3;
/** Arguments begun in an earlier chunk, held in `line` (parser.go PUB_ARG with argBuf). */
const ARG = 4;
/** PING, PONG, +OK: everything up to the LF is ignored (parser.go OP_PING). */
const OP_TO_LF = 5;
const MSG_PAYLOAD = 6;
const MSG_END_R = 7;
const MSG_END_N = 8;
const STOPPED = 9;

/** Where each state is, for an Unknown Protocol Operation's reason. */
const UNEXPECTED_WHERE = ["where an operation starts", "in the name", "after the name"];
UNEXPECTED_WHERE[MSG_END_R] = "after the payload";
UNEXPECTED_WHERE[MSG_END_N] = "after the payload's CR";

/** The state after each kind of name ending (nats-op-ts AFTER_NAME). */
const STATE_AFTER = [OP_SPC, ARG_SPC, OP_TO_LF];

export class NatsScanner {
  private state = OP_START;
  private op = names.PUB;
  /** Bytes of the operation name matched so far (OP_NAME). */
  private nameMatched = 0;
  /** Stream offset of the current operation's first byte, for errors. */
  private opOffset = 0;
  /** Bytes pushed before the current chunk. */
  private streamOffset = 0;
  /** Arguments that cross chunks, and the max_control_line rule. */
  readonly line: ControlLineBuffer;
  /** What each complete line means; holds the reused NatsPub. */
  readonly operations: NatsOperations;
  /** A payload that crosses chunks. */
  readonly payload = new PayloadBuffer();
  /** The error that stopped the scanner, if one did. */
  failure: NatsProtocolError | undefined = undefined;
  /**
   * Set by NatsParser.suspend (from inside a handler method): `run` stops after the current
   * operation and keeps the rest of its chunk in `held`, for NatsParser.resume.
   */
  suspended = false;
  held: Uint8Array[] = [];
  /** Whether anything but CONNECT is an Authorization Violation (nats-server `awaitingAuth`). */
  awaitingConnect: boolean;

  /** @throws RangeError if a limit is not a positive integer (maxPayload may be 0). */
  constructor(
    private readonly handler: NatsClientHandler,
    options: NatsParserOptions,
  ) {
    this.operations = new NatsOperations(handler, options.maxPayload ?? DEFAULT_MAX_PAYLOAD);
    this.line = new ControlLineBuffer(options.maxControlLine ?? DEFAULT_MAX_CONTROL_LINE);
    this.operations.headers = options.headers ?? false;
    this.awaitingConnect = options.awaitingConnect ?? false;
  }

  /** True once stopped (an error, or stop()). */
  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /** Ignores everything from now on; drops what is held of a line or a payload. */
  stop(): void {
    this.state = STOPPED;
    this.line.release();
    this.payload.release();
  }

  /**
   * Scans one chunk, calling the handler for every operation it completes, in order. Only
   * NatsParser calls it: never while suspended, and once per chunk, in stream order.
   */
  run(chunk: Uint8Array): undefined {
    const base = this.streamOffset;
    this.streamOffset += chunk.length;
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      if (this.suspended) {
        // A handler suspended: the rest waits for resume() (and is counted again then).
        this.streamOffset -= end - at;
        this.held.push(chunk.subarray(at));
        return;
      }
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
            this.op = names.PUB;
            this.state = ARG_SPC;
            at += 4;
            break;
          }
          if (!this.startName(b)) return;
          at++;
          break;
        }
        case OP_NAME: {
          if (this.op === names.P_OPERATIONS) {
            // parser.go OP_P: the second byte says PUB, PING or PONG.
            const op = names.opAfterP(chunk[at] as number);
            if (op < 0) return this.unexpected(chunk[at] as number);
            this.op = op;
            this.nameMatched = 2;
            at++;
            continue;
          }
          const word = names.OP_WORDS[this.op] as Uint8Array;
          let matched = this.nameMatched;
          while (at < end && matched < word.length) {
            if (((chunk[at] as number) | 0x20) !== word[matched]) {
              this.unexpected(chunk[at] as number);
              return;
            }
            at++;
            matched++;
          }
          this.nameMatched = matched;
          if (matched === word.length) {
            this.state = STATE_AFTER[names.AFTER_NAME[this.op] as number] as number;
          }
          break;
        }
        case OP_SPC:
          if (!isBlank(chunk[at] as number)) {
            return this.unexpected(chunk[at] as number);
          }
          this.state = ARG_SPC;
          at++;
          break;
        case ARG_SPC: {
          while (at < end && isBlank(chunk[at] as number)) at++;
          if (at === end) break;
          // The first argument byte is taken whatever it is, even a CR or LF: parser.go's
          // *_SPC states move to *_ARG on it without looking at it. So the LF is sought after it.
          // A loop beats indexOf's call on lines this short, and a line with no LF within
          // limit + 2 bytes is over the limit whatever follows, so the scan stops there.
          const scanEnd = Math.min(end, at + this.line.limit + 2);
          let lf = at + 1;
          while (lf < scanEnd && chunk[lf] !== LF) lf++;
          if (lf === scanEnd) {
            if (scanEnd < end) return this.overControlLine();
            lf = -1;
          }
          const length =
            lf === -1 ? this.line.hold(chunk, at, end) : this.line.measure(chunk, at, lf);
          if (length === OVER_LIMIT) return this.overControlLine();
          if (lf === -1) {
            this.state = ARG;
            at = end;
          } else {
            if (!this.completeLine(chunk, at, at + length, true)) return;
            at = lf + 1;
          }
          break;
        }
        case ARG: {
          const lf = chunk.indexOf(LF, at);
          const length =
            lf === -1 ? this.line.hold(chunk, at, end) : this.line.complete(chunk, at, lf);
          if (length === OVER_LIMIT) return this.overControlLine();
          if (lf === -1) {
            at = end;
          } else {
            if (!this.completeLine(this.line.line, 0, length, false)) return;
            at = lf + 1;
          }
          break;
        }
        case OP_TO_LF: {
          const lf = chunk.indexOf(LF, at);
          if (lf === -1) return;
          at = lf + 1;
          this.state = OP_START;
          if (this.op === names.PING) this.handler.ping();
          else if (this.op === names.PONG) this.handler.pong();
          break;
        }
        case MSG_PAYLOAD:
          at = this.readPayload(chunk, at);
          break;
        case MSG_END_R:
        case MSG_END_N: {
          const expected = this.state === MSG_END_R ? CR : LF;
          if (chunk[at++] !== expected) return this.unexpected(chunk[at - 1] as number);
          if (expected === CR) {
            this.state = MSG_END_N;
          } else {
            this.state = OP_START;
            this.handler.pub(this.operations.msg);
          }
          break;
        }
        default:
          return;
      }
    }
  }

  /** OP_START: the first byte of an operation name. False if it starts none. */
  private startName(b: number): boolean {
    const op = names.opStartedBy(b);
    if (op === -1) {
      this.unexpected(b);
      return false;
    }
    this.op = op;
    this.nameMatched = 1;
    this.state = OP_NAME;
    return true;
  }

  private overControlLine(): undefined {
    const reason = `${names.OP_NAMES[this.op]} arguments over max_control_line ${this.line.limit}`;
    this.fail(NatsErrorCode.MaxControlLine, NATS_ERR.maxControlLine, reason);
    return undefined;
  }

  /**
   * A whole control line's arguments, `bytes[start, end)` (CRLF excluded); `stable` as for
   * NatsOperations.line. False if the parser stopped.
   */
  private completeLine(bytes: Uint8Array, start: number, end: number, stable: boolean): boolean {
    this.state = OP_START;
    const ops = this.operations;
    const status = ops.line(this.op, bytes, start, end, stable);
    if (status === LINE_REFUSED) {
      this.fail(ops.refusedCode, ops.refusedErr, ops.refusedReason);
      return false;
    }
    if (status === AWAIT_PAYLOAD) this.state = MSG_PAYLOAD;
    return this.state !== STOPPED;
  }

  /**
   * MSG_PAYLOAD: reads the payload from `chunk` at `at`, delivers the message when its CRLF is
   * there too, and returns where it stopped.
   */
  private readPayload(chunk: Uint8Array, at: number): number {
    const msg = this.operations.msg;
    const payload = this.payload;
    if (payload.active) {
      const stop = payload.fill(chunk, at);
      if (payload.complete) {
        const taken = payload.take();
        msg.setPayload(taken, 0, taken.length);
        this.state = MSG_END_R;
      }
      return stop;
    }
    // The payload starts in this chunk: a view when it lies wholly in it.
    const size = this.operations.payloadSize;
    const end = chunk.length;
    if (end - at >= size + 2) {
      const bad =
        chunk[at + size] !== CR ? at + size : chunk[at + size + 1] !== LF ? at + size + 1 : -1;
      if (bad >= 0) {
        this.state = bad === at + size ? MSG_END_R : MSG_END_N;
        this.unexpected(chunk[bad] as number);
        return end;
      }
      msg.setPayload(chunk, at, at + size);
      this.state = OP_START;
      this.handler.pub(msg);
      return at + size + 2;
    }
    if (end - at >= size) {
      msg.setPayload(chunk, at, at + size);
      this.state = MSG_END_R;
      return at + size;
    }
    payload.begin(size, chunk, at);
    return end;
  }

  /**
   * parser.go `goto parseErr` on byte `b`. Returns undefined, for `return this.unexpected(b)`
   * in push.
   */
  private unexpected(b: number): undefined {
    const hex = b.toString(16).padStart(2, "0");
    const where = UNEXPECTED_WHERE[this.state];
    const name = this.op === names.P_OPERATIONS ? "P" : names.OP_NAMES[this.op];
    const reason = `unexpected byte 0x${hex} ${this.state === OP_START ? where : `${where} of ${name}`}`;
    this.fail(NatsErrorCode.UnknownOperation, NATS_ERR.unknownOperation, reason);
    return undefined;
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
