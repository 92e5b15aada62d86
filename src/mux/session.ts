/**
 * Session: smux over one transport (a TCP or TLS connection). It reads frames with the codec's
 * SmuxDecoder, keeps the stream table, opens and accepts streams, spends and refills the
 * session-wide receive budget, sends keepalives and closes on the peer's silence or on a
 * protocol violation, and writes through one FrameWriter.
 *
 * Mirrors session.go (Debian smux 1.5.16): `newSession`, `OpenStream`, `AcceptStream`,
 * `Close`, `recvLoop`, `keepalive`, `returnTokens`, `streamClosed`. Go's goroutines become
 * event handlers: the adapter calls onData/onDrain/onClose (transport.ts).
 *
 * What a received frame does (the fatal rows are the decoder's, smux-frame.ts):
 *
 * ```text
 * SYN, new ID          a Stream for it, to onStream or the accept() backlog (recvLoop)
 * SYN, known ID        ignored (recvLoop: `if _, ok := s.streams[sid]; !ok`)
 * PSH, known stream    body to the stream, charged to the budget; an empty body is dropped
 * PSH, unknown stream  ignored, not charged (recvLoop charges only `if stream, ok`); also a
 *                      stream we closed, or one whose FIN came (Go would still buffer it)
 * FIN                  the stream's reader ends after its data; unknown ID: ignored
 * UPD (v2)             the stream's send window; unknown ID: ignored
 * NOP                  nothing; like every frame it proves the peer alive
 * violation            the session closes with the code (MuxError.code) and reason
 * ```
 *
 * Receive budget (session.go `bucket`): maxReceiveBuffer bytes; a PSH takes its length, a
 * read gives it back. When it reaches 0 or less the session stops decoding after that frame
 * and pauses the transport (no more socket reads: TCP pushes back on the peer); once a read
 * gives tokens back it resumes. As in Go, one frame may overshoot the budget.
 */

import { SmuxDecoder, type SmuxFrameCmd, type SmuxFrameSink } from "../protocol/smux-decoder.ts";
import {
  nextStreamId,
  SmuxCmd,
  type SmuxProtocolError,
  STREAM_ID_COUNTER_START,
} from "../protocol/smux-frame.ts";
import { AcceptQueue } from "./accept-queue.ts";
import { type MuxConfig, resolveConfig } from "./config.ts";
import { newSessionCounters, type SessionCounters } from "./counters.ts";
import { MuxError, MuxErrorCode, protocolViolation, transportGone } from "./errors.ts";
import { KeepAlive } from "./keepalive.ts";
import { Stream, type StreamHost } from "./stream.ts";
import type { MuxTransport, TransportEvents } from "./transport.ts";
import { FrameWriter } from "./writer.ts";

/** Callbacks given at creation; both optional. */
export interface SessionOptions {
  /** Each stream the peer opens. Without it, streams wait for accept(). */
  onStream?: ((stream: Stream) => void) | undefined;
  /** Once, when the session closes, with the cause `closed` resolves to. */
  onClose?: ((cause: MuxError) => void) | undefined;
}

/** Why reading is paused: bits of `pauseReasons`. */
const PAUSE_BUDGET = 1;
const PAUSE_BACKLOG = 2;

export class Session implements TransportEvents, StreamHost {
  /** Opens the session as the client side: its streams get odd IDs 3, 5, 7, ... */
  static client(transport: MuxTransport, config?: Partial<MuxConfig>, options?: SessionOptions) {
    return new Session(transport, true, resolveConfig(config), options);
  }

  /** Opens the session as the server side: its streams get even IDs 2, 4, 6, ... */
  static server(transport: MuxTransport, config?: Partial<MuxConfig>, options?: SessionOptions) {
    return new Session(transport, false, resolveConfig(config), options);
  }

  readonly counters: SessionCounters = newSessionCounters();
  /** Resolves once, with the cause, when the session closes (never rejects). */
  readonly closed: Promise<MuxError>;
  /** @internal */
  readonly writer: FrameWriter;
  readonly peer: string | undefined;

  private closeCause: MuxError | undefined;
  private resolveClosed!: (cause: MuxError) => void;
  private readonly streams = new Map<number, Stream>();
  private lastStreamId: number;
  private budget: number;
  private pauseReasons = 0;
  private readonly decoder: SmuxDecoder;
  private readonly accepts: AcceptQueue;
  private readonly closeHandler: ((cause: MuxError) => void) | undefined;
  private readonly keepAlive: KeepAlive;

  private constructor(
    private readonly transport: MuxTransport,
    readonly isClient: boolean,
    readonly config: MuxConfig,
    options: SessionOptions = {},
  ) {
    this.peer = transport.peer;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.lastStreamId = isClient ? STREAM_ID_COUNTER_START.client : STREAM_ID_COUNTER_START.server;
    this.budget = config.maxReceiveBuffer;
    this.accepts = new AcceptQueue(
      options.onStream,
      () => this.pauseReading(PAUSE_BACKLOG),
      () => this.resumeReading(PAUSE_BACKLOG),
    );
    this.closeHandler = options.onClose;
    this.writer = new FrameWriter(
      transport,
      config.version,
      config.maxStreamBuffer,
      this.counters,
      () =>
        this.fail(
          new MuxError(MuxErrorCode.TransportClosed, "write refused: the connection is closed", {
            peer: this.peer,
          }),
        ),
    );
    const sink: SmuxFrameSink = {
      frame: (cmd, id, bytes, start, end) => this.onFrame(cmd, id, bytes, start, end),
      update: (id, consumed, window) => this.onUpdate(id, consumed, window),
      error: (error) => this.onProtocolError(error),
    };
    this.decoder = new SmuxDecoder(config.version, sink);
    this.keepAlive = new KeepAlive(config, {
      sendNop: () => {
        this.counters.keepAlivesSent++;
        this.writer.queueControl(SmuxCmd.NOP, 0);
      },
      budgetPaused: () => (this.pauseReasons & PAUSE_BUDGET) !== 0,
      timedOut: (silentMs) =>
        this.fail(
          new MuxError(
            MuxErrorCode.KeepAliveTimeout,
            `no frame from the peer for ${silentMs} ms (keepAliveTimeoutMs ${config.keepAliveTimeoutMs})`,
            { peer: this.peer },
          ),
        ),
    });
  }

  /** The cause the session closed with; undefined while open. */
  get cause(): MuxError | undefined {
    return this.closeCause;
  }

  get isClosed(): boolean {
    return this.closeCause !== undefined;
  }

  /** Streams in the table: open, or finishing their last frames. */
  get numStreams(): number {
    return this.streams.size;
  }

  /** Receive budget left, in bytes; 0 or less while reading is paused for it. */
  get receiveBudget(): number {
    return this.budget;
  }

  /** True while the session does not read its transport (budget spent, backlog full). */
  get readingPaused(): boolean {
    return this.pauseReasons !== 0;
  }

  /** Sets (or clears) the handler for streams the peer opens; streams already waiting go to it. */
  set onStream(handler: ((stream: Stream) => void) | undefined) {
    this.accepts.setHandler(handler);
  }

  /**
   * Opens a stream: queues its SYN and returns it at once (writes may follow right away).
   * Throws the session's cause once closed, or MuxError MUX_ERR_GO_AWAY once this side has
   * used all its stream IDs (session.go `OpenStream`).
   */
  open(): Stream {
    if (this.closeCause !== undefined) throw this.closeCause;
    const id = nextStreamId(this.lastStreamId);
    if (id < 0) {
      throw new MuxError(MuxErrorCode.GoAway, "stream IDs exhausted: open a new session", {
        peer: this.peer,
      });
    }
    this.lastStreamId = id;
    const stream = new Stream(id, this);
    this.streams.set(id, stream);
    this.counters.streamsOpened++;
    this.writer.queueControl(SmuxCmd.SYN, id);
    return stream;
  }

  /**
   * The next stream the peer opens (session.go `AcceptStream`). Rejects with the session's
   * cause once closed. Not for use together with onStream, which takes every stream first.
   */
  accept(): Promise<Stream> {
    return this.accepts.accept();
  }

  /**
   * Closes the session and every stream with MUX_ERR_SESSION_CLOSED and `reason`, after one
   * last attempt to write what is queued (FINs of streams just closed, say). Pending writes and
   * accepts reject with that cause; readers get their waiting chunks, then the cause.
   * Idempotent.
   */
  close(reason = "closed by the application"): void {
    if (this.closeCause !== undefined) return;
    this.writer.flush();
    this.fail(new MuxError(MuxErrorCode.SessionClosed, reason, { peer: this.peer }));
  }

  // TransportEvents, called by the adapter.

  onData(chunk: Uint8Array): void {
    if (this.closeCause !== undefined) return;
    this.counters.bytesIn += chunk.length;
    try {
      this.decoder.push(chunk);
    } catch (error) {
      this.callbackThrew(error);
    }
  }

  onDrain(): void {
    this.writer.onDrain();
  }

  onClose(error?: Error): void {
    this.fail(transportGone(error, this.peer));
  }

  // StreamHost, called by streams.

  /** @internal */
  returnTokens(bytes: number): void {
    this.budget += bytes;
    if (this.budget > 0 && (this.pauseReasons & PAUSE_BUDGET) !== 0) {
      this.resumeReading(PAUSE_BUDGET);
    }
  }

  /** @internal */
  streamFinished(stream: Stream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.counters.streamsClosed++;
  }

  // The decoder's sink.

  private onFrame(
    cmd: SmuxFrameCmd,
    id: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    this.keepAlive.frameSeen = true;
    this.counters.framesIn++;
    if (this.closeCause !== undefined) return;
    switch (cmd) {
      case SmuxCmd.PSH: {
        const length = end - start;
        if (length === 0) return;
        const stream = this.streams.get(id);
        if (stream === undefined || !stream.acceptsData) {
          this.counters.framesIgnored++;
          return;
        }
        this.counters.dataBytesIn += length;
        this.budget -= length;
        stream.receive(bytes, start, end);
        if (this.budget <= 0) this.pauseReading(PAUSE_BUDGET);
        return;
      }
      case SmuxCmd.SYN:
        this.onSyn(id);
        return;
      case SmuxCmd.FIN: {
        const stream = this.streams.get(id);
        if (stream === undefined) this.counters.framesIgnored++;
        else stream.receiveFin();
        return;
      }
      case SmuxCmd.NOP:
        return;
    }
  }

  private onUpdate(id: number, consumed: number, window: number): void {
    this.keepAlive.frameSeen = true;
    this.counters.framesIn++;
    if (this.closeCause !== undefined) return;
    const stream = this.streams.get(id);
    if (stream === undefined) this.counters.framesIgnored++;
    else stream.receiveUpdate(consumed, window);
  }

  private onProtocolError(error: SmuxProtocolError): void {
    this.counters.protocolErrors[error.code]++;
    this.fail(protocolViolation(error, this.peer));
  }

  private onSyn(id: number): void {
    if (this.streams.has(id)) {
      this.counters.framesIgnored++;
      return;
    }
    const stream = new Stream(id, this);
    this.streams.set(id, stream);
    this.counters.streamsAccepted++;
    this.accepts.push(stream);
  }

  private pauseReading(reason: number): void {
    const was = this.pauseReasons;
    this.pauseReasons |= reason;
    if (was !== 0) return;
    this.counters.readPauses++;
    this.decoder.pause();
    this.transport.pause();
  }

  private resumeReading(reason: number): void {
    if ((this.pauseReasons & reason) === 0) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons !== 0 || this.closeCause !== undefined) return;
    // The frames queued in the decoder go first; they may pause us again.
    try {
      this.decoder.resume();
    } catch (error) {
      this.callbackThrew(error);
      return;
    }
    if (this.pauseReasons === 0 && this.closeCause === undefined) this.transport.resume();
  }

  private callbackThrew(error: unknown): void {
    const what = error instanceof Error ? error.message : String(error);
    this.fail(
      new MuxError(
        MuxErrorCode.Callback,
        `an application callback threw: ${what}`,
        { peer: this.peer },
        { cause: error },
      ),
    );
  }

  /**
   * Closes with `cause` once (the first cause wins, as Go's Once-guarded error channels):
   * every stream and every pending write and accept settle with this same object, the
   * transport is ended, `closed` resolves and onClose runs. Handlers that throw meanwhile are
   * rethrown in a later task so that closing finishes and no transport event throws.
   */
  private fail(cause: MuxError): void {
    if (this.closeCause !== undefined) return;
    this.closeCause = cause;
    this.keepAlive.stop();
    this.decoder.pause();
    this.writer.close(cause);
    const thrown: unknown[] = [];
    for (const stream of [...this.streams.values()]) {
      try {
        stream.sessionClosed(cause);
      } catch (error) {
        thrown.push(error);
      }
    }
    this.streams.clear();
    this.accepts.close(cause);
    this.transport.end();
    this.resolveClosed(cause);
    try {
      this.closeHandler?.(cause);
    } catch (error) {
      thrown.push(error);
    }
    for (const error of thrown) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
