/**
 * What a subscriber does with its connection: cut the relay's bytes into messages with the
 * shared codecs (FrameDecoder or LineSplitter, never a second parser), queue them for the
 * iterator, and pause the socket while too many wait.
 *
 * - Frame port: each Submit frame is one message. The whole frame is queued (a view of the
 *   read chunk when it lies in one, else a copy), so the iterator can hand out its payload and,
 *   if asked, its ID without another allocation here.
 * - Line port: the LineSplitter hands back runs of wire-form lines (`\r\n` already made `\n`);
 *   they are cut at each `\n` here, zero-copy when a line lies in one read.
 *
 * Backpressure: once the queue holds more than maxQueueBytes the socket is paused, so the
 * kernel's buffers fill and TCP holds the relay back; it resumes once the iterator brings the
 * queue under half of it. The relay then applies its slow-consumer policy to this subscriber
 * (by default it is cut after --stall-timeout behind by --max-pending; it reconnects and misses
 * what was published meanwhile).
 */
import {
  BODY_OFFSET,
  FrameDecoder,
  type FrameError,
  FrameErrorCode,
  type FrameSink,
} from "../protocol/frame-codec.ts";
import { LineSplitter, type SegmentSink } from "../protocol/line-splitter.ts";
import type { Connection, Link, Session } from "./connection.ts";
import { type ClientError, ClientErrorCode } from "./errors.ts";
import { MessageQueue } from "./message-queue.ts";
import type { ResolvedOptions } from "./options.ts";

const NEWLINE = 10;

export class SubscriberSession implements Session, FrameSink, SegmentSink {
  readonly queue: MessageQueue;
  /** Where a queued message's payload starts: 13 in frame mode (the whole frame is queued). */
  readonly payloadOffset: number;
  /** Messages received since connect, over every connection. */
  received = 0;
  private paused = false;
  private link: Link | undefined;
  private connection!: Connection;
  private decoder: FrameDecoder | undefined;
  private splitter: LineSplitter | undefined;
  /** Line mode: the start of a line whose `\n` has not come yet, as pieces. */
  private partial: Uint8Array[] = [];

  constructor(private readonly options: ResolvedOptions) {
    this.payloadOffset = options.framing === "frame" ? BODY_OFFSET : 0;
    this.queue = new MessageQueue((queuedBytes) => {
      if (this.paused && queuedBytes <= options.maxQueueBytes / 2) {
        this.paused = false;
        this.link?.resume();
      }
    });
  }

  bind(connection: Connection): void {
    this.connection = connection;
  }

  /** True while the socket is paused because the iterator fell behind. */
  get isPaused(): boolean {
    return this.paused;
  }

  // Session

  opened(link: Link): void {
    this.link = link;
    const { framing, codes, maxPayload } = this.options;
    if (framing === "frame") {
      this.decoder = new FrameDecoder({
        codes,
        maxFrame: BODY_OFFSET + maxPayload,
        acceptAcks: true,
      });
    } else {
      this.splitter = new LineSplitter(maxPayload);
      this.partial = [];
    }
    if (this.paused) link.pause();
  }

  data(chunk: Uint8Array): void {
    if (this.decoder) {
      this.decoder.push(chunk, this);
    } else if (this.splitter) {
      this.splitter.push(chunk, this);
      if (this.splitter.tooLong) {
        this.fail(ClientErrorCode.TooLong, `a line above maxPayload ${this.options.maxPayload} B`);
      }
    }
    if (!this.paused && this.queue.queuedBytes > this.options.maxQueueBytes) {
      this.paused = true;
      this.link?.pause();
    }
  }

  ready(): void {}

  lost(): number {
    this.link = undefined;
    this.decoder = undefined;
    this.splitter = undefined;
    this.partial = [];
    return 0;
  }

  closed(error: ClientError | undefined): void {
    this.link = undefined;
    if (error === undefined) this.queue.clear(); // close(): the iteration ends now
    this.queue.end(error);
  }

  // FrameSink (frame mode)

  submit(
    bytes: Uint8Array,
    frameStart: number,
    frameEnd: number,
    _idStart: number,
    _payloadStart: number,
    stable: boolean,
  ): void {
    this.received++;
    this.queue.push(
      stable ? bytes.subarray(frameStart, frameEnd) : bytes.slice(frameStart, frameEnd),
    );
  }

  connAck(_bytes: Uint8Array, _idStart: number, result: number): void {
    this.link?.connAck(result);
  }

  submitAck(): void {
    this.fail(ClientErrorCode.Protocol, "the relay sent a SubmitAck to a subscriber");
  }

  conn(): void {
    this.fail(ClientErrorCode.Protocol, "the relay sent a Conn");
  }

  error(error: FrameError): void {
    const code =
      error.code === FrameErrorCode.TooLong ? ClientErrorCode.TooLong : ClientErrorCode.Protocol;
    this.fail(code, error.message, error);
  }

  // SegmentSink (line mode): runs of lines, each ending in `\n`, a line possibly across runs.

  segment(bytes: Uint8Array, start: number, end: number, stable: boolean): void {
    let at = start;
    while (at < end) {
      const newline = bytes.indexOf(NEWLINE, at);
      if (newline === -1 || newline >= end) {
        this.partial.push(bytes.slice(at, end)); // unstable or not: kept past this call
        return;
      }
      this.received++;
      if (this.partial.length === 0) {
        this.queue.push(stable ? bytes.subarray(at, newline) : bytes.slice(at, newline));
      } else {
        this.partial.push(bytes.subarray(at, newline));
        this.queue.push(concat(this.partial));
        this.partial = [];
      }
      at = newline + 1;
    }
  }

  private fail(code: ClientErrorCode, reason: string, cause?: unknown): void {
    this.link?.fail(this.connection.error(code, reason, cause));
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
