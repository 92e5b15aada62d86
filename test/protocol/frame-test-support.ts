/**
 * Test support for the frame codec: a FrameSink that records what it is given (copying the
 * bytes at once, so buffer reuse in the decoder cannot hide a bug) and checks the `stable`
 * contract, plus fixtures described as frames with the events they must produce.
 */
import { expect } from "bun:test";
import {
  encodeConn,
  encodeConnAck,
  encodeSubmit,
  encodeSubmitAck,
  type FrameCodes,
  FrameDecoder,
  type FrameError,
  type FrameSink,
  idText,
  readU32,
} from "../../src/protocol/frame-codec.ts";
import { concat } from "../support/harness.ts";

/** One decoded frame, in a form `toEqual` can compare. */
export type FrameEvent =
  | { kind: "conn" | "submit"; id: string; body: Uint8Array; frame: Uint8Array }
  | { kind: "connAck" | "submitAck"; id: string; result: number };

/** Records events; `pushing` is the chunk being pushed, to check each range's `stable` flag. */
export class RecordingSink implements FrameSink {
  readonly events: FrameEvent[] = [];
  readonly errors: FrameError[] = [];
  /** How many frames were delivered as views of the pushed chunk. */
  stableFrames = 0;
  pushing: Uint8Array | undefined;

  submit(
    bytes: Uint8Array,
    start: number,
    end: number,
    idStart: number,
    bodyStart: number,
    stable: boolean,
  ): void {
    this.request("submit", bytes, start, end, idStart, bodyStart, stable);
  }

  conn(
    bytes: Uint8Array,
    start: number,
    end: number,
    idStart: number,
    bodyStart: number,
    stable: boolean,
  ): void {
    this.request("conn", bytes, start, end, idStart, bodyStart, stable);
  }

  /** Submit and Conn share a layout: the ID 5 bytes in, the body 13. */
  private request(
    kind: "submit" | "conn",
    bytes: Uint8Array,
    start: number,
    end: number,
    idStart: number,
    bodyStart: number,
    stable: boolean,
  ): void {
    this.checkRange(bytes, stable);
    expect(idStart).toBe(start + 5);
    expect(bodyStart).toBe(start + 13);
    this.events.push({
      kind,
      id: idText(bytes, idStart),
      body: bytes.slice(bodyStart, end),
      frame: bytes.slice(start, end),
    });
  }

  connAck(bytes: Uint8Array, idStart: number, result: number, stable: boolean): void {
    this.checkRange(bytes, stable);
    this.events.push({ kind: "connAck", id: idText(bytes, idStart), result });
  }

  submitAck(bytes: Uint8Array, idStart: number, result: number, stable: boolean): void {
    this.checkRange(bytes, stable);
    this.events.push({ kind: "submitAck", id: idText(bytes, idStart), result });
  }

  error(error: FrameError): void {
    this.errors.push(error);
  }

  private checkRange(bytes: Uint8Array, stable: boolean): void {
    if (this.pushing === undefined) return;
    if (stable) {
      expect(bytes).toBe(this.pushing);
      this.stableFrames++;
    } else {
      expect(bytes).not.toBe(this.pushing);
    }
  }
}

/**
 * A RecordingSink that also takes runs (FrameSink.submitRun): each run is checked (whole
 * frames, `count` of them, ending at `runEnd`) and recorded frame by frame, so its events
 * compare equal to a per-frame sink's.
 */
export class RunRecordingSink extends RecordingSink {
  runs = 0;

  submitRun(bytes: Uint8Array, runStart: number, runEnd: number, count: number): void {
    this.runs++;
    let frames = 0;
    let at = runStart;
    while (at < runEnd) {
      const end = at + readU32(bytes, at);
      this.submit(bytes, at, end, at + 5, at + 13, true);
      at = end;
      frames++;
    }
    expect(at).toBe(runEnd);
    expect(frames).toBe(count);
  }
}

export interface DecoderSetup {
  codes?: FrameCodes;
  maxFrame?: number;
  acceptAcks?: boolean;
  /** Decode with a sink that takes runs of Submits (FrameSink.submitRun). */
  runs?: boolean;
}

/** Pushes `chunks` through a fresh decoder; returns the events, errors and the frame count. */
export function decode(chunks: readonly Uint8Array[], setup: DecoderSetup = {}) {
  const decoder = new FrameDecoder({
    codes: setup.codes ?? "spec",
    maxFrame: setup.maxFrame ?? 1 << 20,
    acceptAcks: setup.acceptAcks ?? false,
  });
  const sink = setup.runs ? new RunRecordingSink() : new RecordingSink();
  let count = 0;
  for (const chunk of chunks) {
    sink.pushing = chunk;
    count += decoder.push(chunk, sink);
  }
  return { events: sink.events, errors: sink.errors, count, decoder, sink };
}

/** A frame of a fixture: its bytes and the event it must produce. */
export interface FixtureFrame {
  bytes: Uint8Array;
  event: FrameEvent;
}

const utf8 = new TextEncoder();
const asBytes = (data: Uint8Array | string) =>
  typeof data === "string" ? utf8.encode(data) : data;

export function submit(id: string, payload: Uint8Array | string = ""): FixtureFrame {
  const bytes = encodeSubmit(id, payload);
  return { bytes, event: { kind: "submit", id, body: asBytes(payload), frame: bytes } };
}

export function conn(id: string, token: Uint8Array | string = ""): FixtureFrame {
  const bytes = encodeConn(id, token);
  return { bytes, event: { kind: "conn", id, body: asBytes(token), frame: bytes } };
}

export function connAck(id: string, result: 0 | 1, codes: FrameCodes): FixtureFrame {
  return { bytes: encodeConnAck(id, result, codes), event: { kind: "connAck", id, result } };
}

export function submitAck(id: string, result: 0 | 1, codes: FrameCodes): FixtureFrame {
  return { bytes: encodeSubmitAck(id, result, codes), event: { kind: "submitAck", id, result } };
}

/** A fixture's stream and the events it must produce. */
export function stream(frames: readonly FixtureFrame[]): {
  input: Uint8Array;
  events: FrameEvent[];
} {
  return { input: concat(frames.map((f) => f.bytes)), events: frames.map((f) => f.event) };
}

/** Bytes from a hex string; spaces are ignored ("00 00 00 0e 81 …"). */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  return Uint8Array.from({ length: digits.length / 2 }, (_, i) =>
    Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16),
  );
}

/** Bytes as spaced hex, so a failed comparison shows the frame. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
