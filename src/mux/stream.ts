/**
 * Stream: one logical connection inside a Session. Bytes in (PSH frames the session hands it)
 * and bytes out (`write()`, framed by the session's FrameWriter through the stream's Outbox),
 * with smux's half-close and, in version 2, its per-stream flow control.
 *
 * Reading. The primary interface is push: `onData(handler, onEnd)` delivers each received
 * chunk as it arrives, and `pause()`/`resume()` hold delivery back; async iteration
 * (`for await (const chunk of stream)`, StreamReader in reader.ts) is a thin layer over those.
 * A chunk counts as read (stream.go `Read`: session tokens returned, v2 `numRead` advanced)
 * when it is handed to the handler, never before. Chunks arriving while paused, or before a
 * reader is attached, wait in the stream and hold the session's receive budget.
 *
 * Half-close as smux: a FIN from the peer ends our reader (after the chunks before it), and we
 * may still write; `closeWrite()` sends our FIN after our queued bytes and we may still read.
 * `close()` does both and discards unread input (stream.go `Close` + session.go
 * `streamClosed`, which returns the unread bytes' tokens).
 *
 * Not copied from Go: Go 1.5.16's v2 writer gives up (io.EOF, stream.go `writeV2`) when the
 * peer's FIN is in while it waits for window, because a Go peer sends FIN only from Close and
 * so will send no more UPDs. Our peers may half-close and keep reading, so our writer keeps
 * waiting for the window after a FIN. The other way round matters for interop: against a Go
 * v2 peer, a FIN sent while the peer still writes to us can cut its writes short (its echo
 * server then returns less than it was sent), so send the FIN after the peer's data, as Go's
 * own clients do; v1 has no such limit.
 *
 * v2 flow control (stream.go `tryReadv2`, `writeV2`, `update`; uint32 math in smux-window.ts):
 * - receiving: after each read, once the bytes read since our last UPD reach
 *   maxStreamBuffer/2, or on the very first read, we send UPD(consumed = all bytes read,
 *   window = maxStreamBuffer). A reader that never reads sends none, so the peer stops at the
 *   initial window of 262144 bytes: a stalled reader holds at most that much.
 * - sending: the Outbox keeps `inflight = numWritten - peerConsumed` under the peer's window.
 * Version 1 has no window: a stalled reader's chunks pile up until the session's whole
 * receive budget is spent, and then the session stops reading and every stream stalls. The
 * protocol offers nothing finer.
 */

import { SmuxCmd } from "../protocol/smux-frame.ts";
import { u32Add } from "../protocol/smux-window.ts";
import { Fifo } from "../util/fifo.ts";
import type { MuxConfig } from "./config.ts";
import { newStreamCounters, type SessionCounters, type StreamCounters } from "./counters.ts";
import { MuxError, MuxErrorCode } from "./errors.ts";
import { Outbox } from "./outbox.ts";
import { StreamReader } from "./reader.ts";
import type { FrameWriter, UpdateSource } from "./writer.ts";

/** Receives each chunk read from a stream. The chunk is the handler's to keep. */
export type StreamDataHandler = (chunk: Uint8Array) => void;
/** Called once when reading ends: `cause` undefined after the peer's FIN or close(). */
export type StreamEndHandler = (cause: MuxError | undefined) => void;

/** What a Stream needs from its Session. */
export interface StreamHost {
  readonly config: MuxConfig;
  readonly writer: FrameWriter;
  readonly counters: SessionCounters;
  readonly peer: string | undefined;
  /** The session's close cause, once closed. */
  readonly cause: MuxError | undefined;
  /** Gives `bytes` back to the receive budget (session.go `returnTokens`). */
  returnTokens(bytes: number): void;
  /** The stream is finished: forget its ID, count it. Called once. */
  streamFinished(stream: Stream): void;
}

/**
 * A queued chunk is copied when it would otherwise pin a backing buffer this many times its
 * size (a 100-byte frame in a 512 KiB socket chunk): a stalled reader's memory then stays
 * near the bytes it holds. Chunks delivered at once are never copied.
 */
const PIN_RATIO = 4;

export class Stream implements UpdateSource {
  /** Counters of this stream; they only grow. */
  readonly counters: StreamCounters = newStreamCounters();
  /** v2: bytes handed to the reader, mod 2^32 (stream.go `numRead`). */
  numRead = 0;
  /** Writer bookkeeping: an UPD for this stream is queued. */
  updateQueued = false;

  private readonly outbox: Outbox;
  private readonly inbox = new Fifo<Uint8Array>();
  private inboxBytes = 0;
  /** v2: bytes read since our last UPD (stream.go `incr`). */
  private unannounced = 0;
  private dataHandler: StreamDataHandler | undefined;
  private endHandler: StreamEndHandler | undefined;
  private paused = false;
  private delivering = false;
  private finReceived = false;
  /** Why reading ends without a FIN: the session closed. */
  private readCause: MuxError | undefined;
  /** The reader got its end (or close() dropped the read side). */
  private readDone = false;
  private writeClosed = false;
  private finished = false;
  private closedPromise: Promise<MuxError | undefined> | undefined;
  private resolveClosed: ((cause: MuxError | undefined) => void) | undefined;
  private finishCause: MuxError | undefined;

  /** @internal Made by Session.open() and by the session for an accepted SYN. */
  constructor(
    /** The stream ID: odd when the client side opened it, even for the server side. */
    readonly id: number,
    private readonly host: StreamHost,
  ) {
    const config = host.config;
    this.outbox = new Outbox(
      id,
      config.version,
      config.maxFrameSize,
      this.counters,
      host.counters,
      () => this.maybeFinish(),
    );
  }

  /** Bytes received and not yet handed to the reader. */
  get bufferedBytes(): number {
    return this.inboxBytes;
  }

  /** Bytes of write() calls not yet framed (the limit is config.maxStreamWriteQueue). */
  get queuedBytes(): number {
    return this.outbox.queuedBytes;
  }

  /** v2: the peer's last announced window and consumed count, and what we have sent. */
  get sendWindow(): { peerWindow: number; peerConsumed: number; numWritten: number } {
    const box = this.outbox;
    return {
      peerWindow: box.peerWindow,
      peerConsumed: box.peerConsumed,
      numWritten: box.numWritten,
    };
  }

  /** True once the stream is finished (both directions done, close(), or session closed). */
  get isClosed(): boolean {
    return this.finished;
  }

  /** Settles when the stream is finished: undefined when cleanly, else the session's cause. */
  get closed(): Promise<MuxError | undefined> {
    if (this.closedPromise === undefined) {
      this.closedPromise = this.finished
        ? Promise.resolve(this.finishCause)
        : new Promise((resolve) => {
            this.resolveClosed = resolve;
          });
    }
    return this.closedPromise;
  }

  /**
   * Sets the reader: `onChunk` gets each chunk, in order, as it arrives (at once for chunks
   * already waiting, unless paused); `onEnd` is called once after the last chunk, with
   * undefined after the peer's FIN or our close(), or with the session's cause. Replaces a
   * previous reader. Handlers run inside the transport's data event: one that throws closes
   * the session (MUX_ERR_CALLBACK).
   */
  onData(onChunk: StreamDataHandler, onEnd?: StreamEndHandler): void {
    this.dataHandler = onChunk;
    this.endHandler = onEnd;
    this.deliver();
  }

  /** Removes the reader set by onData, and any pause: chunks wait in the stream again. */
  detachReader(): void {
    this.dataHandler = this.endHandler = undefined;
    this.paused = false;
  }

  /** Holds chunks back from the reader (they wait in the stream, holding receive budget). */
  pause(): void {
    this.paused = true;
  }

  /** Delivers the chunks that waited, then the ones arriving, again. */
  resume(): void {
    this.paused = false;
    this.deliver();
  }

  /**
   * Reads as an async iterable of chunks; ends after the peer's FIN, throws the session's
   * cause if the session closes first. Breaking out of the loop detaches the reader and
   * leaves the stream open.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new StreamReader(this);
  }

  /**
   * Sends `bytes` as PSH frames of at most maxFrameSize. Resolves when the last byte is taken
   * by the transport (and, in v2, the peer's window let it go); an empty write resolves at
   * once, sending nothing (as Go). The buffer is not copied: leave it unchanged until then.
   * Rejects with MUX_ERR_STREAM_CLOSED after closeWrite()/close(), MUX_ERR_WRITE_QUEUE_FULL
   * when maxStreamWriteQueue bytes are already queued, MUX_ERR_CONSUMED after a lying UPD, or
   * the session's cause.
   */
  write(bytes: Uint8Array): Promise<void> {
    const refusal = this.writeRefusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    if (bytes.length === 0) return Promise.resolve();
    const limit = this.host.config.maxStreamWriteQueue;
    if (this.outbox.queuedBytes >= limit) {
      return Promise.reject(
        this.error(
          MuxErrorCode.WriteQueueFull,
          `${this.outbox.queuedBytes} bytes queued (limit ${limit}): await write()`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.outbox.enqueue({ bytes, resolve, reject });
      this.host.writer.dataQueued(this.outbox, bytes.length);
    });
  }

  /**
   * Half-closes: a FIN follows the bytes already written, and reading goes on. Idempotent;
   * does nothing once the session is closed.
   */
  closeWrite(): void {
    if (this.writeClosed) return;
    this.writeClosed = true;
    if (this.host.cause !== undefined) return;
    if (this.outbox.requestFin()) this.host.writer.queueControl(SmuxCmd.FIN, this.id);
    else this.host.writer.dataQueued(this.outbox, 0);
  }

  /**
   * Closes both ways, as Go's Stream.Close: queued bytes still go, then a FIN; unread input is
   * dropped (its budget returned) and later frames for this stream are ignored. The reader,
   * if any, ends with no cause. Idempotent.
   */
  close(): void {
    this.closeWrite();
    if (this.readDone) return;
    this.readDone = true;
    this.dropInbox();
    const onEnd = this.endHandler;
    this.dataHandler = this.endHandler = undefined;
    this.maybeFinish();
    onEnd?.(undefined);
  }

  /** @internal The session checks this before charging a PSH to the budget. */
  get acceptsData(): boolean {
    return !this.readDone && !this.finReceived;
  }

  /** @internal A PSH body for this stream, `bytes[start, end)`, already charged to the budget. */
  receive(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.counters.framesIn++;
    this.counters.bytesIn += length;
    const handler = this.dataHandler;
    if (handler !== undefined && !this.paused && !this.delivering && this.inboxBytes === 0) {
      this.consumed(length);
      handler(bytes.subarray(start, end));
      return;
    }
    const pins = bytes.buffer.byteLength >= PIN_RATIO * length;
    this.inbox.push(pins ? bytes.slice(start, end) : bytes.subarray(start, end));
    this.inboxBytes += length;
    if (handler !== undefined && !this.paused) this.deliver();
  }

  /** @internal The peer's FIN: the reader ends after what it has not read yet. */
  receiveFin(): void {
    if (this.finReceived || this.readDone) return;
    this.finReceived = true;
    this.deliver();
  }

  /** @internal A v2 UPD from the peer. */
  receiveUpdate(consumed: number, window: number): void {
    this.counters.updatesReceived++;
    if (!this.outbox.update(consumed, window)) {
      const sent = this.outbox.numWritten;
      this.outbox.fail(
        this.error(MuxErrorCode.Consumed, `peer consumed ${consumed} of ${sent} bytes sent`),
      );
    }
    // The window may have opened, or a FIN may wait behind data that just failed.
    this.host.writer.markReady(this.outbox);
  }

  /** @internal The session closed: writes fail, the reader ends after its waiting chunks. */
  sessionClosed(cause: MuxError): void {
    if (this.finished) return;
    this.outbox.fail(cause);
    this.writeClosed = true;
    if (!this.finReceived) this.readCause = cause;
    this.finish(cause);
    this.deliver();
  }

  /** @internal Writer callback: our UPD is in a batch. */
  onUpdateSent(): void {
    this.counters.updatesSent++;
  }

  /** Hands waiting chunks to the reader while it is attached and not paused, then the end. */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (!this.paused && this.dataHandler !== undefined && this.inbox.length > 0) {
        const chunk = this.inbox.shift() as Uint8Array;
        this.inboxBytes -= chunk.length;
        // Counted as read before the handler runs: it may pause, close or read more.
        this.consumed(chunk.length);
        this.dataHandler(chunk);
      }
    } finally {
      this.delivering = false;
    }
    if (
      !this.readDone &&
      !this.paused &&
      this.dataHandler !== undefined &&
      this.inboxBytes === 0 &&
      (this.finReceived || this.readCause !== undefined)
    ) {
      this.readDone = true;
      const onEnd = this.endHandler;
      this.maybeFinish();
      onEnd?.(this.finReceived ? undefined : this.readCause);
    }
  }

  /** `length` bytes were handed to the reader (stream.go `tryReadv2` after the copy). */
  private consumed(length: number): void {
    this.host.returnTokens(length);
    if (this.host.config.version !== 2) return;
    this.numRead = u32Add(this.numRead, length);
    this.unannounced += length;
    // Go: `s.incr >= uint32(MaxStreamBuffer/2) || s.numRead == uint32(n)`, the second being
    // the first read (or a read that lands exactly on a 2^32 wrap, as in Go).
    if (this.unannounced >= this.host.config.maxStreamBuffer >> 1 || this.numRead === length) {
      this.unannounced = 0;
      this.host.writer.queueUpdate(this);
    }
  }

  private dropInbox(): void {
    if (this.inboxBytes > 0) this.host.returnTokens(this.inboxBytes);
    this.inbox.takeAll();
    this.inboxBytes = 0;
  }

  /** Finishes once our FIN is handed to the writer and the read side is done. */
  private maybeFinish(): void {
    if (!this.finished && this.readDone && this.outbox.finHanded) this.finish(undefined);
  }

  private finish(cause: MuxError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.finishCause = cause;
    this.host.streamFinished(this);
    this.resolveClosed?.(cause);
  }

  private writeRefusal(): MuxError | undefined {
    if (this.host.cause !== undefined) return this.host.cause;
    if (this.outbox.failure !== undefined) return this.outbox.failure;
    if (this.writeClosed)
      return this.error(MuxErrorCode.StreamClosed, "write after closeWrite() or close()");
    return undefined;
  }

  private error(code: MuxErrorCode, reason: string): MuxError {
    return new MuxError(code, reason, { peer: this.host.peer, streamId: this.id });
  }
}
