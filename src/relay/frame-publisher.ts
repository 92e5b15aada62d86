/**
 * One frame publisher connection (seed 003's protocol, issue 12): its frame decoder, how its
 * Submits reach the hub's batches, and its acks.
 *
 * - Frame subscribers get each Submit frame byte for byte: consecutive frames of one read go
 *   into the frame batch as one zero-copy run.
 * - Line subscribers get the payload plus `\n`. A payload holding `\n` cannot be a line: it
 *   is skipped for them, counted, and reported once per episode (a run of such messages).
 * - Every Submit is answered SubmitAck(ID, 0) once the hub delivered it to every current
 *   subscriber (so under `stall`/`block` the acks come after the hold: they are the
 *   publisher's backpressure). The acks of one delivery leave in one write, in Submit order.
 * - Conn is answered ConnAck(ID, 0), or, with --token, ConnAck(ID, 1) for a wrong token and a
 *   close. A Submit before the Conn that --token requires gets SubmitAck(ID, 1) and a close.
 * - A malformed frame closes the connection with reason `bad_frame` and its FRAME_ERR_* code;
 *   the frames before it are published and acked, nothing of it is.
 *
 * Acks the client does not read pile up in a backlog; past ACK_BACKLOG_MAX the relay stops
 * reading this publisher until they drain, so the backlog stays bounded.
 */
import type { Socket } from "bun";
import { CloseReason } from "../errors.ts";
import {
  ACK_FAILED,
  ACK_OK,
  AckBatch,
  BODY_OFFSET,
  FrameDecoder,
  type FrameError,
  type FrameSink,
  ID_OFFSET,
  readU32,
} from "../protocol/frame-codec.ts";
import { Backlog } from "./backlog.ts";
import type { BatchBuilder } from "./batch.ts";
import type { FrameAuth } from "./frame-auth.ts";
import { type Hub, WireFormat } from "./hub.ts";
import type { RelayOptions } from "./options.ts";
import type { PublisherConnection } from "./publisher.ts";
import type { StreamBridge } from "./stream-bridge.ts";

const NEWLINE = 10;
const NEWLINE_ONLY = Uint8Array.of(NEWLINE);
/**
 * A payload at least this long goes to the line batch by reference (plus a `\n` segment);
 * shorter ones are copied behind the batch with their `\n`, which costs less than two
 * segments (measured: 80 B payloads, 1.25 M msg/s before, 5 M msg/s after, one core).
 */
const LARGE_PAYLOAD = 4096;
/** Unread acks past which the publisher is not read until they drain (about 18,000 acks). */
const ACK_BACKLOG_MAX = 256 * 1024;

/**
 * Puts one Submit frame `bytes[frameStart, frameEnd)` (payload from `payloadStart`) into the
 * batches of the formats that have readers: into `frames` byte for byte (consecutive frames
 * of one buffer make one zero-copy run), and into `lines` as payload + `\n`, unless the
 * payload holds a `\n` (then it is counted in `messagesNotLines` and false is returned).
 * Pass undefined for a format nobody reads. Frame publishers and the backplane's receiver
 * (src/cluster) both use it, so a message reaches subscribers the same way from either.
 */
export function submitToBatches(
  hub: Hub,
  frames: BatchBuilder | undefined,
  lines: BatchBuilder | undefined,
  bytes: Uint8Array,
  frameStart: number,
  frameEnd: number,
  payloadStart: number,
  stable: boolean,
): boolean {
  if (frames) {
    frames.segment(bytes, frameStart, frameEnd, stable);
    frames.messages++;
  }
  if (!lines) return true;
  const length = frameEnd - payloadStart;
  if (length >= LARGE_PAYLOAD) {
    // Searched within the payload only: an indexOf from payloadStart would scan the rest of
    // the chunk for every frame whose payload has no newline.
    if (bytes.subarray(payloadStart, frameEnd).indexOf(NEWLINE) !== -1) {
      hub.counters.messagesNotLines++;
      return false;
    }
    lines.segment(bytes, payloadStart, frameEnd, stable);
    lines.segment(NEWLINE_ONLY, 0, 1, true);
  } else {
    // Small payloads: copied behind the batch, their newline written after them.
    const payload = bytes.subarray(payloadStart, frameEnd);
    if (payload.indexOf(NEWLINE) !== -1) {
      hub.counters.messagesNotLines++;
      return false;
    }
    const at = lines.reserve(length + 1);
    const out = lines.scratchBuffer();
    out.set(payload, at);
    out[at + length] = NEWLINE;
    lines.commit(length + 1);
  }
  lines.messages++;
  return true;
}

/** What a frame publisher reports beyond the hub's counters. */
export interface FramePublisherEvents {
  /** An episode of `messages` messages not given to line subscribers (payload holds `\n`). */
  notLines(publisher: FramePublisher, messages: number): void;
}

export class FramePublisher implements PublisherConnection, FrameSink {
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  selfPaused = false;
  cid = 0;
  bytesIn = 0;
  messagesIn = 0;
  private readonly decoder: FrameDecoder;
  private readonly acks: AckBatch;
  private readonly ackBacklog = new Backlog();
  /** Set by the sink when the connection must close after this read's acks. */
  private failed = false;
  /** Messages published by the current push. */
  private messages = 0;
  private notLinesInEpisode = 0;
  private hub!: Hub;
  /** For this read: the NATS bridge when a NATS client subscribes to --subject. */
  private bridge: StreamBridge | undefined;
  /** For this read: --sub-subject matches --subject (line/frame subscribers get these). */
  private local = true;

  constructor(
    readonly socket: Socket<PublisherConnection>,
    readonly peer: string,
    options: Pick<RelayOptions, "frameCodes" | "maxFrame">,
    private readonly auth: FrameAuth,
    private readonly events: FramePublisherEvents,
  ) {
    this.decoder = new FrameDecoder({
      codes: options.frameCodes,
      maxFrame: options.maxFrame,
      acceptAcks: false,
    });
    this.acks = new AckBatch(options.frameCodes);
  }

  /** Bytes of acks written to no socket yet. */
  get pendingOutput(): number {
    return this.ackBacklog.length + this.acks.byteLength;
  }

  receive(chunk: Uint8Array, hub: Hub): boolean {
    if (this.closeReason) return true; // closing: late bytes are ignored
    this.hub = hub;
    hub.counters.bytesReceived += chunk.length;
    this.bytesIn += chunk.length;
    this.messages = 0;
    // NATS subscribers of --subject get each Submit through the bridge (checked once a read).
    const bridge = hub.bridge;
    this.bridge = bridge?.natsInterest === true ? bridge : undefined;
    this.local = bridge?.streamLocal ?? true;
    this.decoder.push(chunk, this);
    this.messagesIn += this.messages;
    if (this.messages > 0) hub.publish(this.messages);
    if (this.failed) {
      // Deliver now, so the acks of the frames before the bad one go out before the close.
      hub.deliver();
      this.flushAcks();
      return false;
    }
    if (this.acks.acks > 0) hub.ackAfterDelivery(this);
    return true;
  }

  closed(reset: boolean): { reason: CloseReason; droppedBytes: number } {
    this.endNotLinesEpisode();
    this.ackBacklog.clear();
    const reason = this.closeReason ?? (reset ? CloseReason.PeerReset : CloseReason.PeerClosed);
    // An unfinished frame is never a message: its bytes are lost whichever way it closed.
    const droppedBytes = this.decoder.pendingBytes;
    if (droppedBytes > 0) this.closeDetail ??= "unfinished frame dropped";
    return { reason, droppedBytes };
  }

  /** AckSource: writes this delivery's acks, behind any that did not fit before. */
  flushAcks(): void {
    if (this.acks.acks === 0) return;
    const view = this.acks.view();
    let written = 0;
    if (this.ackBacklog.length === 0) {
      written = this.socket.write(view, 0, view.length);
      if (written < 0) written = view.length; // closed: nothing to keep
    }
    if (written < view.length) this.ackBacklog.append(view, written, view.length, false);
    this.acks.clear();
    if (this.ackBacklog.length > ACK_BACKLOG_MAX && !this.selfPaused) {
      this.selfPaused = true;
      this.socket.pause();
    }
  }

  drain(hub: Hub): void {
    if (this.ackBacklog.length === 0) return;
    this.ackBacklog.writeTo(this.socket);
    if (this.selfPaused && this.ackBacklog.length === 0) {
      this.selfPaused = false;
      if (!hub.holdingPublishers && !this.closeReason) this.socket.resume();
    }
  }

  // FrameSink: called by the decoder, synchronously inside receive().

  submit(
    bytes: Uint8Array,
    frameStart: number,
    frameEnd: number,
    idStart: number,
    payloadStart: number,
    stable: boolean,
  ): void {
    if (this.failed) return;
    const hub = this.hub;
    if (!this.auth.authenticated) {
      this.ack(bytes, idStart, false, "submit");
      this.refuse(CloseReason.AuthFailed, "Submit before the Conn that --token requires");
      hub.counters.authFailures++;
      return;
    }
    hub.counters.submitsReceived++;
    this.messages++;
    const local = this.local;
    const readsLines = local && hub.readers[WireFormat.Line] > 0;
    const isLine = submitToBatches(
      hub,
      local && hub.readers[WireFormat.Frame] > 0 ? hub.batches[WireFormat.Frame] : undefined,
      readsLines ? hub.batches[WireFormat.Line] : undefined,
      bytes,
      frameStart,
      frameEnd,
      payloadStart,
      stable,
    );
    if (!isLine) this.notLinesInEpisode++;
    else if (readsLines) this.endNotLinesEpisode();
    this.bridge?.fromFrame(bytes, idStart, payloadStart, frameEnd);
    this.ack(bytes, idStart, true, "submit");
  }

  /**
   * FrameSink: a run of whole Submits in the read chunk. The hot path: the frame batch takes
   * the whole run by reference in one call, and its acks are written in one pass; only line
   * subscribers (payload + `\n`) need a look at each frame.
   */
  submitRun(bytes: Uint8Array, runStart: number, runEnd: number, count: number): void {
    if (this.failed) return;
    const hub = this.hub;
    if (
      !this.auth.authenticated ||
      hub.readers[WireFormat.Line] > 0 ||
      this.bridge !== undefined ||
      !this.local
    ) {
      // Refused, lines to build, NATS subscribers or a stream not its own: frame by frame, as
      // the decoder would have called them.
      for (let frame = runStart; frame < runEnd; ) {
        const end = frame + readU32(bytes, frame);
        this.submit(bytes, frame, end, frame + ID_OFFSET, frame + BODY_OFFSET, true);
        frame = end;
      }
      return;
    }
    hub.counters.submitsReceived += count;
    this.messages += count;
    if (hub.readers[WireFormat.Frame] > 0) {
      const frames = hub.batches[WireFormat.Frame];
      frames.segment(bytes, runStart, runEnd, true);
      frames.messages += count;
    }
    this.acks.submitAckRun(bytes, runStart, runEnd, count, ACK_OK);
    hub.counters.acksOk += count;
  }

  conn(
    bytes: Uint8Array,
    _frameStart: number,
    frameEnd: number,
    idStart: number,
    tokenStart: number,
  ): void {
    if (this.failed) return;
    const accepted = this.auth.conn(bytes, tokenStart, frameEnd);
    this.ack(bytes, idStart, accepted, "conn");
    if (!accepted) {
      this.hub.counters.authFailures++;
      this.refuse(CloseReason.AuthFailed, "wrong token in Conn");
    }
  }

  /** Never called: the decoder refuses acks from clients (acceptAcks false). */
  connAck(): void {}
  submitAck(): void {}

  error(error: FrameError): void {
    if (this.failed) return; // refused already: what follows is not read, so not judged
    this.hub.countFrameError(error.code);
    this.refuse(CloseReason.BadFrame, `${error.code}: ${error.reason}`);
  }

  private ack(bytes: Uint8Array, idStart: number, ok: boolean, kind: "conn" | "submit"): void {
    const result = ok ? ACK_OK : ACK_FAILED;
    if (kind === "conn") this.acks.connAck(bytes, idStart, result);
    else this.acks.submitAck(bytes, idStart, result);
    this.hub.countAck(ok);
  }

  private refuse(reason: CloseReason, detail: string): void {
    this.failed = true;
    this.closeReason = reason;
    this.closeDetail = detail;
  }

  private endNotLinesEpisode(): void {
    const messages = this.notLinesInEpisode;
    if (messages === 0) return;
    this.notLinesInEpisode = 0;
    this.events.notLines(this, messages);
  }
}
