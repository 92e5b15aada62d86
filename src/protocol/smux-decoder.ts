/**
 * SmuxDecoder: reads smux frames out of a byte stream that arrives in arbitrary chunks, and
 * hands each one to a sink. The wire format and the table of fatal rules are in
 * smux-frame.ts.
 *
 * Pure: no socket, no timer, no Promise. The Session feeds it each chunk its socket reads and
 * owns everything that needs the stream table (ignoring a duplicate SYN, frames for unknown
 * streams) or a clock (keepalive).
 *
 * Two states, HEADER and BODY. A header or body that lies within one chunk is read in
 * place: a PSH body reaches the sink as a range of the pushed chunk, with no copy and no
 * object made per frame. Only what crosses chunks is copied: a header or UPD body into a small
 * buffer kept for the purpose, a PSH body into a fresh buffer of exactly its length, which
 * the u16 length field caps at 64 KiB.
 *
 * Each header is judged as soon as its 8 bytes are in, before any of its body is buffered. On
 * a violation the decoder reports one SmuxProtocolError to the sink and stops: the frames
 * before it have been delivered, nothing after it is, and later pushes are ignored.
 *
 * The consumer can pause it (Go's recvLoop stops reading while the session's receive budget
 * is spent): the decoder stops after the frame being delivered, keeps the rest of the chunk
 * and any later pushes queued, and carries on when resumed.
 */

import {
  HEADER_SIZE,
  headerViolation,
  readU32,
  SmuxCmd,
  type SmuxErrorCode,
  SmuxProtocolError,
  type SmuxVersion,
  UPD_BODY_SIZE,
} from "./smux-frame.ts";

/** The commands that reach `SmuxFrameSink.frame`: every one but UPD. */
export type SmuxFrameCmd = Exclude<SmuxCmd, typeof SmuxCmd.UPD>;

/** Receives what a SmuxDecoder reads, in wire order. Its methods must not throw. */
export interface SmuxFrameSink {
  /**
   * A SYN, FIN, PSH or NOP frame for `streamId`. Its body is `bytes[start, end)`, empty
   * except for PSH (and possibly empty there too). `bytes` is either the chunk given to push,
   * when the body lay within it, or a fresh buffer the decoder filled because the body
   * crossed chunks. The decoder never writes to either afterwards, so the body may be kept by
   * reference (keeping a range keeps the whole chunk alive; copy small bodies of big chunks).
   */
  frame(cmd: SmuxFrameCmd, streamId: number, bytes: Uint8Array, start: number, end: number): void;
  /**
   * A v2 UPD frame for `streamId`: the peer has read `consumed` bytes of the stream so far,
   * and will hold `window` bytes of it. Both are u32 (0..0xFFFFFFFF); see smux-window.ts.
   */
  update(streamId: number, consumed: number, window: number): void;
  /** The peer broke a rule of the table: close the session with `error.reason`. Called once. */
  error(error: SmuxProtocolError): void;
}

const HEADER = 0;
const BODY = 1;
const EMPTY = new Uint8Array(0);

export class SmuxDecoder {
  private state: typeof HEADER | typeof BODY = HEADER;
  /** A header that crosses chunks, gathered here. */
  private readonly header = new Uint8Array(HEADER_SIZE);
  private headerFill = 0;
  /** The current frame, once its header is in. */
  private cmd: SmuxCmd = SmuxCmd.SYN;
  private streamId = 0;
  private length = 0;
  /** A body that crosses chunks: `updBody`, or a fresh buffer for PSH. */
  private body: Uint8Array = EMPTY;
  private bodyFill = 0;
  private readonly updBody = new Uint8Array(UPD_BODY_SIZE);
  /** Chunks not yet decoded: pushed while paused, or the rest of one a pause stopped in. */
  private readonly queue: Uint8Array[] = [];
  /** Where decoding resumes in `queue[0]`. */
  private queueHead = 0;
  private pausedFlag = false;
  /** True while a push or resume is decoding: a nested call must not decode too. */
  private running = false;
  private failure: SmuxProtocolError | undefined;
  /** Bytes decoded so far, as frames or parts of the current one. */
  private position = 0;

  /**
   * @param version the session's protocol version; a header with another is fatal, as is
   *   UPD on version 1.
   * @param sink receives the frames and the error.
   */
  constructor(
    readonly version: SmuxVersion,
    private readonly sink: SmuxFrameSink,
  ) {
    if (version !== 1 && version !== 2) {
      throw new RangeError(`smux version must be 1 or 2, got ${version}`);
    }
  }

  /** True between pause() and resume(), unless the decoder has failed. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  /** The violation that stopped the decoder, once there is one. */
  get error(): SmuxProtocolError | undefined {
    return this.failure;
  }

  /** Bytes consumed from the stream: delivered frames and the part of the current one. */
  get bytesDecoded(): number {
    return this.position;
  }

  /**
   * Bytes held and not yet delivered: a partial header or body, plus everything queued while
   * paused. A Session that pauses its socket late can cap its memory with this.
   */
  get bufferedBytes(): number {
    let bytes = this.headerFill + (this.state === BODY ? this.bodyFill : 0) - this.queueHead;
    for (const chunk of this.queue) bytes += chunk.length;
    return bytes;
  }

  /**
   * Feeds the next chunk of the stream and delivers every frame it completes, unless paused.
   * Returns false if the decoder is now paused or failed (the caller should stop reading),
   * true if it wants more. Does nothing after a failure.
   */
  push(chunk: Uint8Array): boolean {
    if (this.failure !== undefined) return false;
    if (this.pausedFlag || this.running || this.queue.length > 0) {
      // Paused, or called from inside a sink method: keep the order, decode it later.
      if (chunk.length > 0) this.queue.push(chunk);
      return !this.pausedFlag;
    }
    this.running = true;
    const stop = this.decode(chunk, 0);
    if (stop < chunk.length) {
      // Paused by the sink: the rest of this chunk goes before anything pushed meanwhile.
      this.queue.unshift(chunk);
      this.queueHead = stop;
    }
    this.drain();
    return this.failure === undefined && !this.pausedFlag;
  }

  /**
   * Stops delivering after the frame being delivered now (when called from a sink method)
   * or before the next one. Chunks pushed while paused are queued, undecoded.
   */
  pause(): void {
    if (this.failure === undefined) this.pausedFlag = true;
  }

  /**
   * Undoes pause() and at once delivers the frames already queued, until the queue is empty
   * or the sink pauses again. From inside a sink method, decoding carries on when it returns.
   */
  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    if (!this.running) this.drain();
  }

  /** Decodes queued chunks while not paused. */
  private drain(): void {
    this.running = true;
    while (this.queue.length > 0 && !this.pausedFlag && this.failure === undefined) {
      const chunk = this.queue[0] as Uint8Array;
      const stop = this.decode(chunk, this.queueHead);
      if (stop < chunk.length) {
        this.queueHead = stop;
        break;
      }
      this.queue.shift();
      this.queueHead = 0;
    }
    this.running = false;
  }

  /**
   * Decodes `chunk` from `from` until its end or a pause; returns where it stopped (the end
   * after a failure too: the rest is dropped).
   */
  private decode(chunk: Uint8Array, from: number): number {
    const end = chunk.length;
    const base = this.position - from; // stream offset of chunk[0]
    let at = from;
    while (at < end && !this.pausedFlag) {
      if (this.state === BODY) {
        const take = Math.min(this.length - this.bodyFill, end - at);
        this.body.set(chunk.subarray(at, at + take), this.bodyFill);
        this.bodyFill += take;
        at += take;
        if (this.bodyFill < this.length) break;
        const body = this.body;
        this.body = EMPTY;
        this.state = HEADER;
        this.position = base + at;
        this.deliver(body, 0, this.length);
        continue;
      }

      let version: number;
      let cmd: number;
      let length: number;
      let streamId: number;
      if (this.headerFill === 0 && end - at >= HEADER_SIZE) {
        version = chunk[at] as number;
        cmd = chunk[at + 1] as number;
        length = (chunk[at + 2] as number) | ((chunk[at + 3] as number) << 8);
        streamId = readU32(chunk, at + 4);
        at += HEADER_SIZE;
      } else {
        const header = this.header;
        while (this.headerFill < HEADER_SIZE && at < end) {
          header[this.headerFill++] = chunk[at++] as number;
        }
        if (this.headerFill < HEADER_SIZE) break;
        this.headerFill = 0;
        version = header[0] as number;
        cmd = header[1] as number;
        length = (header[2] as number) | ((header[3] as number) << 8);
        streamId = readU32(header, 4);
      }

      const violation = headerViolation(this.version, version, cmd, length);
      if (violation !== null) {
        this.fail(violation, version, cmd, length, streamId, base + at - HEADER_SIZE);
        return end;
      }
      this.cmd = cmd as SmuxCmd;
      this.streamId = streamId;
      this.length = length;
      if (end - at >= length) {
        at += length;
        this.position = base + at;
        this.deliver(chunk, at - length, at);
      } else {
        this.state = BODY;
        this.bodyFill = 0;
        this.body = cmd === SmuxCmd.UPD ? this.updBody : new Uint8Array(length);
      }
    }
    this.position = base + at;
    return at;
  }

  private deliver(bytes: Uint8Array, start: number, end: number): void {
    if (this.cmd === SmuxCmd.UPD) {
      this.sink.update(this.streamId, readU32(bytes, start), readU32(bytes, start + 4));
    } else {
      this.sink.frame(this.cmd, this.streamId, bytes, start, end);
    }
  }

  private fail(
    code: SmuxErrorCode,
    version: number,
    cmd: number,
    length: number,
    streamId: number,
    offset: number,
  ): void {
    const error = new SmuxProtocolError(code, this.version, {
      version,
      cmd,
      length,
      streamId,
      offset,
    });
    this.failure = error;
    this.pausedFlag = false;
    this.queue.length = 0;
    this.queueHead = 0;
    this.body = EMPTY;
    this.state = HEADER;
    this.position = offset;
    this.sink.error(error);
  }
}
