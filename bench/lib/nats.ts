/**
 * A minimal NATS client protocol for the bench, so the same load can be put
 * on nats-server: publishers send `PUB bench N\r\n<payload>\r\n`, subscribers
 * send `SUB bench 1\r\n` and count the `MSG` frames they get back. The payload
 * is the bench's own message (`pubId,seq,timestampNs,xxx…\n`, msgSize bytes),
 * so every delivery carries the same 80 bytes as with the line relays.
 *
 * Pure: framing and parsing on bytes, no socket.
 */
import { encodeMessage } from "./message.ts";

export const NATS_SUBJECT = "bench";
const encoder = new TextEncoder();

/** Sent first on every connection: no +OK per PUB (verbose), no echo of our own messages. */
export const NATS_CONNECT = encoder.encode(
  'CONNECT {"verbose":false,"pedantic":false,"echo":false,"name":"bun-relay-bench"}\r\n',
);
export const NATS_SUB = encoder.encode(`SUB ${NATS_SUBJECT} 1\r\n`);
export const NATS_PONG = encoder.encode("PONG\r\n");

const CR = 13;
const LF = 10;
const DIGIT_0 = 48;

/** `PUB bench <msgSize>\r\n`, the header of every publish. */
export function pubHeader(msgSize: number): Uint8Array {
  return encoder.encode(`PUB ${NATS_SUBJECT} ${msgSize}\r\n`);
}

/** Bytes one published message takes on the wire. */
export function pubFrameLength(header: Uint8Array, msgSize: number): number {
  return header.length + msgSize + 2;
}

/**
 * Encodes `PUB bench N\r\n<message>\r\n` at `pos`; returns the end. The
 * message must come out exactly `msgSize` bytes (the header announced it).
 */
export function encodePubFrame(
  buf: Uint8Array,
  pos: number,
  header: Uint8Array,
  pubId: number,
  seq: number,
  stampMs: number,
  msgSize: number,
): number {
  buf.set(header, pos);
  const start = pos + header.length;
  const end = encodeMessage(buf, start, pubId, seq, stampMs, msgSize);
  if (end - start !== msgSize) {
    throw new RangeError(`--msg-size ${msgSize} is too small for this message's fields (NATS)`);
  }
  buf[end] = CR;
  buf[end + 1] = LF;
  return end + 2;
}

/** Called with `bytes[start, end)`: one sampled payload. */
export type PayloadSink = (bytes: Uint8Array, start: number, end: number) => void;

/**
 * Counts `MSG` frames in what a NATS server sends a subscriber, whatever the
 * chunking. Control lines may span chunks (kept in a small carry); payloads
 * are skipped by length, never copied. Every `every`th frame whose payload
 * lies in one chunk goes to the sample sink (a later whole one when not).
 */
export class NatsFrameReader {
  /** MSG frames seen. */
  count = 0;
  /** `-ERR` lines from the server. */
  errors = 0;
  /** Lines that are no NATS operation we know. */
  unknown = 0;
  /** Bytes of payload (and its \r\n) still to skip. */
  private skip = 0;
  private carry = new Uint8Array(256);
  private carryLength = 0;
  private nextSampleAt = 1;

  constructor(
    readonly every: number,
    private readonly onSample: PayloadSink,
    private readonly onPing: () => void,
  ) {
    if (!(every >= 1)) throw new RangeError(`sample interval must be >= 1, got ${every}`);
  }

  /** Parses `chunk`; returns how many MSG frames it completed the header of. */
  push(chunk: Uint8Array): number {
    const before = this.count;
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - pos);
        this.skip -= take;
        pos += take;
        continue;
      }
      const newline = chunk.indexOf(LF, pos);
      if (newline < 0) {
        this.keep(chunk, pos, n);
        return this.count - before;
      }
      let line: Uint8Array = chunk;
      let start = pos;
      let end = newline;
      if (this.carryLength > 0) {
        this.keep(chunk, pos, newline);
        line = this.carry;
        start = 0;
        end = this.carryLength;
        this.carryLength = 0;
      }
      pos = newline + 1;
      if (end > start && line[end - 1] === CR) end--;
      this.controlLine(line, start, end, chunk, pos);
    }
    return this.count - before;
  }

  /** One control line `line[start, end)`; its payload, if any, starts at `chunk[payloadAt]`. */
  private controlLine(
    line: Uint8Array,
    start: number,
    end: number,
    chunk: Uint8Array,
    payloadAt: number,
  ): void {
    const c0 = line[start];
    if (c0 === 77 /* M */ && line[start + 1] === 83 && line[start + 2] === 71) {
      // MSG <subject> <sid> [reply-to] <#bytes>: the size is the last field.
      let size = 0;
      let scale = 1;
      let at = end - 1;
      for (; at > start; at--) {
        const c = line[at] as number;
        if (c < DIGIT_0 || c > DIGIT_0 + 9) break;
        size += (c - DIGIT_0) * scale;
        scale *= 10;
      }
      if (scale === 1) {
        this.unknown++;
        return;
      }
      this.count++;
      if (this.count >= this.nextSampleAt && payloadAt + size <= chunk.length) {
        this.nextSampleAt = this.count + this.every;
        this.onSample(chunk, payloadAt, payloadAt + size);
      }
      this.skip = size + 2;
    } else if (c0 === 80 /* P */ && line[start + 1] === 73 /* I */) {
      this.onPing();
    } else if (c0 === 45 /* - */) {
      this.errors++;
    } else if (c0 !== 73 /* INFO */ && c0 !== 43 /* +OK */ && c0 !== 80 /* PONG */) {
      if (end > start) this.unknown++;
    }
  }

  /** Appends `chunk[from, to)` to the carried partial control line. */
  private keep(chunk: Uint8Array, from: number, to: number): void {
    const needed = this.carryLength + (to - from);
    if (needed > this.carry.length) {
      const bigger = new Uint8Array(Math.max(needed, this.carry.length * 2));
      bigger.set(this.carry.subarray(0, this.carryLength));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(from, to), this.carryLength);
    this.carryLength = needed;
  }
}
