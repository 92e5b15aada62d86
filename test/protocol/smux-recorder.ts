/**
 * Test support for the smux codec: a sink that records frames as short readable strings
 * ("PSH 3 6869", "UPD 3 2/65536", "ERROR MUX_ERR_BAD_VERSION"), and hex helpers.
 */
import {
  SmuxDecoder,
  type SmuxFrameCmd,
  type SmuxFrameSink,
} from "../../src/protocol/smux-decoder.ts";
import {
  commandName,
  type SmuxProtocolError,
  type SmuxVersion,
} from "../../src/protocol/smux-frame.ts";

/** Bytes from hex, spaces allowed: `hex("01 02")`. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  return Uint8Array.from({ length: digits.length / 2 }, (_, i) =>
    Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16),
  );
}

/** Lower-case hex of `bytes`, no spaces. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** How the recorder writes one frame, so tests can build the expected list. */
export function frameEvent(cmd: number, streamId: number, body?: Uint8Array): string {
  return body && body.length > 0
    ? `${commandName(cmd)} ${streamId} ${toHex(body)}`
    : `${commandName(cmd)} ${streamId}`;
}

export function updateEvent(streamId: number, consumed: number, window: number): string {
  return `UPD ${streamId} ${consumed}/${window}`;
}

/**
 * Records every call as a string (bodies copied at once, as hex), keeps the errors, and can
 * run a hook after each frame (to pause, resume or push from inside the sink).
 */
export class Recorder implements SmuxFrameSink {
  readonly events: string[] = [];
  readonly errors: SmuxProtocolError[] = [];
  /** Every `bytes` argument given to frame(), to check zero-copy and fresh buffers. */
  readonly sources: { bytes: Uint8Array; start: number; end: number }[] = [];
  afterFrame: ((event: string) => void) | undefined;

  frame(cmd: SmuxFrameCmd, streamId: number, bytes: Uint8Array, start: number, end: number): void {
    this.sources.push({ bytes, start, end });
    this.record(frameEvent(cmd, streamId, bytes.slice(start, end)));
  }

  update(streamId: number, consumed: number, window: number): void {
    this.record(updateEvent(streamId, consumed, window));
  }

  error(error: SmuxProtocolError): void {
    this.errors.push(error);
    this.events.push(`ERROR ${error.code}`);
  }

  private record(event: string): void {
    this.events.push(event);
    this.afterFrame?.(event);
  }
}

/** Decodes `chunks` in order with a fresh decoder; returns the recorder and the decoder. */
export function decodeChunks(
  version: SmuxVersion,
  chunks: readonly Uint8Array[],
): { recorder: Recorder; decoder: SmuxDecoder } {
  const recorder = new Recorder();
  const decoder = new SmuxDecoder(version, recorder);
  for (const chunk of chunks) decoder.push(chunk);
  return { recorder, decoder };
}
