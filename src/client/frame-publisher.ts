/**
 * Publishing over a frame port (seed 003's protocol, issue 12): each publish is a
 * `Submit(ID, payload)` with the link's next ID, and settles on its `SubmitAck(ID, result)`:
 * result 0 resolves it, anything else rejects it with CLIENT_ERR_REFUSED.
 *
 * The relay acks in Submit order, so an ack is matched against the oldest Submit in flight;
 * an ack for another ID in flight is still taken (a server that answers out of order), and an
 * ack for no ID in flight is a protocol error that drops the link. IDs restart at 00000001 on
 * every connection (00000001 is the Conn's when a token is sent), as the seed's serial numbers.
 *
 * Submits are encoded straight into the link's Outbox, so the Submits of one turn leave in one
 * write (the Outbox), and at most maxInFlight are unacked at once (PublishWindow).
 */

import type { FrameCodes } from "../protocol/frame-codec.ts";
import {
  ACK_FRAME_BYTES,
  FrameDecoder,
  type FrameError,
  type FrameSink,
  ID_BYTES,
  idText,
  requestFrameLength,
  writeSubmit,
} from "../protocol/frame-codec.ts";
import type { Link } from "./connection.ts";
import { type ClientError, ClientErrorCode } from "./errors.ts";
import type { Outbox } from "./outbox.ts";
import { type InFlight, PublishWindow } from "./publish-window.ts";

export class FramePublishing extends PublishWindow implements FrameSink {
  private decoder: FrameDecoder | undefined;
  /** The link whose bytes the decoder is reading (set on open, before it is ready). */
  private reading: Link | undefined;

  constructor(
    maxInFlight: number,
    private readonly codes: FrameCodes,
  ) {
    super(maxInFlight);
  }

  opened(link: Link): void {
    this.reading = link;
    // A publisher receives only acks, 14 bytes each: anything longer is refused from its header.
    this.decoder = new FrameDecoder({
      codes: this.codes,
      maxFrame: ACK_FRAME_BYTES,
      acceptAcks: true,
    });
  }

  data(chunk: Uint8Array): void {
    this.decoder?.push(chunk, this);
  }

  protected check(): ClientError | undefined {
    return undefined; // a Submit carries any bytes
  }

  protected send(link: Link, payload: Uint8Array, publish: InFlight): void {
    const outbox = link.outbox as Outbox; // set when the link opened, before it was ready
    const id = link.ids.next();
    const length = requestFrameLength(payload.length);
    const { buffer, offset } = outbox.reserve(length);
    writeSubmit(buffer, offset, id, 0, payload);
    publish.id = id;
    this.lastSubmitId = id;
    this.inFlight.push(publish);
    outbox.commit(length);
  }

  // FrameSink: called by the decoder inside data().

  submitAck(bytes: Uint8Array, idStart: number, result: number): void {
    const index = this.findInFlight(bytes, idStart);
    if (index === -1) {
      this.protocolError(`SubmitAck for ${idText(bytes, idStart)}, which is not in flight`);
      return;
    }
    const publish = (
      index === 0 ? this.inFlight.shift() : this.inFlight.removeAt(index)
    ) as InFlight;
    if (result === 0) {
      this.complete(publish);
    } else {
      const reason = `SubmitAck ${idText(bytes, idStart)} result ${result}: the relay refused it`;
      this.complete(publish, this.clientError(ClientErrorCode.Refused, reason));
    }
    this.settled();
  }

  protected inFlightTimeout(publish: InFlight): string {
    const id = idText(publish.id as Uint8Array, 0);
    return `no SubmitAck for ${id} within ${publish.timeoutMs} ms: the relay may or may not have delivered it`;
  }

  connAck(_bytes: Uint8Array, _idStart: number, result: number): void {
    this.reading?.connAck(result);
  }

  submit(): void {
    this.protocolError("the relay sent a Submit to a publisher");
  }

  conn(): void {
    this.protocolError("the relay sent a Conn");
  }

  error(error: FrameError): void {
    this.reading?.fail(this.clientError(ClientErrorCode.Protocol, error.message, error));
  }

  /** The index in inFlight of the Submit with the ID at `bytes[idStart..+8)`, or -1. */
  private findInFlight(bytes: Uint8Array, idStart: number): number {
    for (let index = 0; index < this.inFlight.length; index++) {
      const id = (this.inFlight.at(index) as InFlight).id as Uint8Array;
      let same = true;
      for (let i = 0; i < ID_BYTES; i++) {
        if (id[i] !== bytes[idStart + i]) {
          same = false;
          break;
        }
      }
      if (same) return index;
    }
    return -1;
  }

  private protocolError(reason: string): void {
    this.reading?.fail(this.clientError(ClientErrorCode.Protocol, reason));
  }
}
