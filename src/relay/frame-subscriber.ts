/**
 * What a frame subscriber sends (issue 12). Subscribers only receive, but a frame client may
 * open with Conn(ID, token): it is answered ConnAck(ID, result) in its stream, between two
 * batches, and with --token a subscriber receives nothing until its Conn carried the token.
 * A wrong token gets ConnAck(ID, 1) and a close; a malformed frame closes with `bad_frame`.
 * Submits from a subscriber are ignored (counted as ignored input, like a line subscriber's
 * bytes).
 */
import { CloseReason } from "../errors.ts";
import {
  ACK_FAILED,
  ACK_OK,
  encodeConnAck,
  FrameDecoder,
  type FrameError,
  type FrameSink,
  ID_BYTES,
} from "../protocol/frame-codec.ts";
import type { FrameAuth } from "./frame-auth.ts";
import type { Hub } from "./hub.ts";
import type { RelayOptions } from "./options.ts";
import type { Subscriber } from "./subscriber.ts";

export class FrameSubscriberInput implements FrameSink {
  private readonly decoder: FrameDecoder;
  private readonly codes: RelayOptions["frameCodes"];
  private failed = false;
  /** Bytes of Submits in the current push: ignored input, as a line subscriber's bytes. */
  private ignored = 0;

  /**
   * @param join adds the subscriber to the hub: called once, when it may receive (at once
   *   by the caller when no token is required, or here after a good Conn).
   */
  constructor(
    private readonly subscriber: Subscriber,
    options: Pick<RelayOptions, "frameCodes" | "maxFrame">,
    private readonly auth: FrameAuth,
    private readonly hub: Hub,
    private readonly join: (subscriber: Subscriber) => void,
  ) {
    this.codes = options.frameCodes;
    this.decoder = new FrameDecoder({
      codes: options.frameCodes,
      maxFrame: options.maxFrame,
      acceptAcks: false,
    });
  }

  /**
   * Handles bytes the subscriber sent. Returns how many of them were ignored (Submits, and
   * frames not finished yet are not counted), or -1 when it must be closed (reason set).
   */
  push(chunk: Uint8Array): number {
    if (this.failed) return -1;
    this.ignored = 0;
    this.decoder.push(chunk, this);
    return this.failed ? -1 : this.ignored;
  }

  conn(
    bytes: Uint8Array,
    _frameStart: number,
    frameEnd: number,
    idStart: number,
    tokenStart: number,
  ): void {
    if (this.failed) return;
    const wasAuthenticated = this.auth.authenticated;
    const accepted = this.auth.conn(bytes, tokenStart, frameEnd);
    const id = bytes.subarray(idStart, idStart + ID_BYTES);
    const ack = encodeConnAck(id, accepted ? ACK_OK : ACK_FAILED, this.codes);
    this.hub.countAck(accepted);
    this.hub.pendingBytes += this.subscriber.sendControl(ack);
    if (!accepted) {
      this.hub.counters.authFailures++;
      this.fail(CloseReason.AuthFailed, "wrong token in Conn");
    } else if (!wasAuthenticated) {
      this.join(this.subscriber);
    }
  }

  /** A Submit from a subscriber is not published: ignored, as a line subscriber's bytes. */
  submit(_bytes: Uint8Array, frameStart: number, frameEnd: number): void {
    this.ignored += frameEnd - frameStart;
  }
  connAck(): void {}
  submitAck(): void {}

  error(error: FrameError): void {
    this.hub.countFrameError(error.code);
    this.fail(CloseReason.BadFrame, `${error.code}: ${error.reason}`);
  }

  private fail(reason: CloseReason, detail: string): void {
    this.failed = true;
    this.subscriber.closeReason = reason;
    this.subscriber.closeDetail = detail;
  }
}
