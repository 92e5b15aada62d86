/**
 * Publishing over a line port: each publish is its payload plus `\n`, and settles when the
 * kernel took its last byte (the relay sends nothing back, so that is all a line publisher
 * can know). A drop before that rejects it with CLIENT_ERR_DISCONNECTED.
 *
 * A payload that cannot be one line is refused before anything is sent
 * (CLIENT_ERR_NEWLINE), instead of reaching subscribers as something else:
 * - a `\n` inside would split it into two messages;
 * - a `\r` at its end would be taken off by the relay (it strips `\r\n` to serve CRLF clients).
 *
 * maxInFlight bounds the lines queued and not yet taken by the kernel (PublishWindow).
 */
import type { Link } from "./connection.ts";
import { type ClientError, ClientErrorCode } from "./errors.ts";
import type { Outbox } from "./outbox.ts";
import { type InFlight, PublishWindow } from "./publish-window.ts";

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

export class LinePublishing extends PublishWindow {
  opened(): void {}

  /** A line relay sends nothing to publishers; whatever comes is ignored. */
  data(): void {}

  written(bytesWritten: number): void {
    let settled = false;
    for (let head = this.inFlight.peek(); head && head.end <= bytesWritten; ) {
      this.inFlight.shift();
      this.complete(head);
      settled = true;
      head = this.inFlight.peek();
    }
    if (settled) this.settled();
  }

  protected inFlightTimeout(publish: InFlight): string {
    return `the kernel did not take it within ${publish.timeoutMs} ms (the relay is not reading): it stays queued and may still be delivered`;
  }

  protected check(payload: Uint8Array): ClientError | undefined {
    const newline = payload.indexOf(NEWLINE);
    if (newline !== -1) {
      return this.clientError(
        ClientErrorCode.Newline,
        `payload holds \\n at byte ${newline}: a line cannot carry it (use framing: frame)`,
      );
    }
    if (payload[payload.length - 1] === CARRIAGE_RETURN) {
      return this.clientError(
        ClientErrorCode.Newline,
        "payload ends in \\r, which the relay strips before \\n (use framing: frame)",
      );
    }
    return undefined;
  }

  protected send(link: Link, payload: Uint8Array, publish: InFlight): void {
    const outbox = link.outbox as Outbox; // set when the link opened, before it was ready
    const length = payload.length + 1;
    const { buffer, offset } = outbox.reserve(length);
    buffer.set(payload, offset);
    buffer[offset + payload.length] = NEWLINE;
    publish.end = outbox.bytesQueued + length;
    this.inFlight.push(publish);
    outbox.commit(length);
  }
}
