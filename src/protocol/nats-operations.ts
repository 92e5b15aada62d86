/**
 * What each complete control line of a NATS client means: NatsOperations reads a line's
 * arguments (nats-args.ts) and calls the NatsClientHandler, or, for PUB and HPUB, fills the
 * reused NatsPub and tells the NatsParser to read the payload. It is the part of nats-server
 * 2.9.10's server/client.go the parser calls at each LF: processPub, processHeaderPub,
 * parseSub, processUnsub, processConnect (its JSON is left to the connection), processInfo,
 * processErr.
 *
 * The rules, as nats-server applies them to a CLIENT connection:
 *
 * - PUB `<subject> [reply] <size>` and HPUB `<subject> [reply] <hdr_len> <total_len>`: a size
 *   is 1 to 9 digits (util.go parseSize). A wrong field count, a size that does not parse, or
 *   hdr_len above total_len: processPub/processHeaderPub return an error, readLoop closes the
 *   connection (ProtocolViolation) and NO `-ERR` is sent. HPUB from a client whose CONNECT
 *   did not ask for headers (the parser's `headers` false) closes the same way
 *   (ErrMsgHeadersNotSupported). A size above max_payload: `-ERR 'Maximum Payload
 *   Violation'` and close (maxPayloadViolation).
 * - SUB with other than 2 or 3 fields, UNSUB with other than 1 or 2: closed, no `-ERR`
 *   (parseSub/processUnsub errors). An UNSUB max that is not a size is no error: it removes
 *   the subscription at once (see NatsClientHandler.unsub).
 * - CONNECT: its bytes go to the handler, which parses the JSON (a bad one closes, no `-ERR`).
 * - INFO from a client: ignored if its argument is a JSON object, else closed with no `-ERR`
 *   (processInfo). `-ERR` from a client: closed with no `-ERR` (processErr).
 *
 * A line it refuses is described in `refusedCode`, `refusedErr`, `refusedReason`; the parser
 * turns that into its one NatsProtocolError.
 */

import { Fields, fieldText, isJsonObject, quote, readPubArgs, readSubArgs } from "./nats-args.ts";
import { type NatsClientHandler, NatsPub } from "./nats-client-ops.ts";
import { NATS_ERR, type NatsErr, NatsErrorCode } from "./nats-errors.ts";
import { CONNECT, HPUB, INFO, PUB, SUB, UNSUB } from "./nats-op-names.ts";

/** The line was handled (a handler method was called, or it was an INFO to ignore). */
export const LINE_DONE = 0;
/** A PUB/HPUB line was accepted: `msg` is filled but its payload; `payloadSize` bytes follow. */
export const AWAIT_PAYLOAD = 1;
/** The line broke a rule: see `refusedCode`, `refusedErr`, `refusedReason`. */
export const LINE_REFUSED = 2;

export class NatsOperations {
  /** The PUB/HPUB being read, reused for every message (see NatsPub). */
  readonly msg = new NatsPub();
  /** After AWAIT_PAYLOAD: the PUB size or HPUB total, in bytes. */
  payloadSize = 0;
  refusedCode: NatsErrorCode = NatsErrorCode.UnknownOperation;
  refusedErr: NatsErr | undefined = undefined;
  refusedReason = "";
  /** Whether HPUB is allowed (nats-server `c.headers`, from CONNECT). */
  headers = false;
  private payloadLimit = 0;
  private readonly fields = new Fields();

  constructor(
    private readonly handler: NatsClientHandler,
    maxPayload: number,
  ) {
    this.maxPayload = maxPayload;
  }

  /** Largest PUB size / HPUB total, in bytes. @throws RangeError if not an integer >= 0. */
  get maxPayload(): number {
    return this.payloadLimit;
  }
  set maxPayload(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`maxPayload must be a non-negative integer, got ${bytes}`);
    }
    this.payloadLimit = bytes;
  }

  /**
   * Handles operation `op`'s arguments, `bytes[start, end)` (CRLF excluded). `stable`: `bytes`
   * is a pushed chunk, whose views may be kept, rather than a reused line buffer. Returns
   * LINE_DONE, AWAIT_PAYLOAD or LINE_REFUSED. (PING, PONG and +OK have no arguments and never
   * come here.)
   */
  line(op: number, bytes: Uint8Array, start: number, end: number, stable: boolean): number {
    switch (op) {
      case PUB:
      case HPUB:
        return this.message(op === HPUB, bytes, start, end, stable);
      case SUB:
      case UNSUB: {
        const unsub = op === UNSUB;
        const fields = this.fields;
        const problem = readSubArgs(bytes, start, end, unsub, fields);
        if (problem !== undefined) {
          const code = unsub ? NatsErrorCode.BadUnsubArgs : NatsErrorCode.BadSubArgs;
          return this.refuse(code, undefined, problem);
        }
        const first = fieldText(bytes, fields, 0);
        if (unsub) {
          this.handler.unsub(first, fields.size > 0 ? fields.size : undefined);
        } else {
          const queue = fields.count === 3 ? fieldText(bytes, fields, 1) : undefined;
          this.handler.sub(first, queue, fieldText(bytes, fields, fields.count - 1));
        }
        return LINE_DONE;
      }
      case CONNECT:
        this.handler.connect(bytes.slice(start, end));
        return LINE_DONE;
      case INFO:
        if (isJsonObject(bytes, start, end)) return LINE_DONE;
        return this.refuse(
          NatsErrorCode.BadInfo,
          undefined,
          "INFO whose argument is not a JSON object",
        );
      default: // -ERR
        return this.refuse(
          NatsErrorCode.ClientErr,
          undefined,
          `the client sent -ERR ${quote(bytes, start, end)}`,
        );
    }
  }

  /** PUB/HPUB: checks the arguments as processPub/processHeaderPub do, then fills `msg`. */
  private message(
    hpub: boolean,
    bytes: Uint8Array,
    start: number,
    end: number,
    stable: boolean,
  ): number {
    if (hpub && !this.headers) {
      const reason = "HPUB from a client whose CONNECT did not enable headers";
      return this.refuse(NatsErrorCode.HeadersNotSupported, undefined, reason);
    }
    const fields = this.fields;
    const problem = readPubArgs(bytes, start, end, hpub, fields);
    if (problem !== undefined) {
      const code = hpub ? NatsErrorCode.BadHpubArgs : NatsErrorCode.BadPubArgs;
      return this.refuse(code, undefined, problem);
    }
    if (fields.size > this.payloadLimit) {
      const limit = this.payloadLimit;
      const reason = `${hpub ? "HPUB" : "PUB"} of ${fields.size} bytes, over max_payload ${limit}`;
      return this.refuse(NatsErrorCode.MaxPayload, NATS_ERR.maxPayload, reason);
    }
    const msg = this.msg;
    this.msg.setSubject(bytes, fields.starts[0] as number, fields.ends[0] as number);
    if (fields.reply > 0) {
      const replyStart = fields.starts[1] as number;
      const replyEnd = fields.ends[1] as number;
      // A view of a chunk may be kept; the reused line buffer must be copied.
      msg.setReply(
        stable ? bytes.subarray(replyStart, replyEnd) : bytes.slice(replyStart, replyEnd),
      );
    } else {
      msg.setReply(undefined);
    }
    msg.headerSize = fields.headerSize;
    this.payloadSize = fields.size;
    return AWAIT_PAYLOAD;
  }

  private refuse(code: NatsErrorCode, err: NatsErr | undefined, reason: string): number {
    this.refusedCode = code;
    this.refusedErr = err;
    this.refusedReason = reason;
    return LINE_REFUSED;
  }
}
