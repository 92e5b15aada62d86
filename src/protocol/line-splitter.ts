/**
 * Splits one publisher's byte stream into messages: the bytes up to each `\n`.
 *
 * Pure: no socket, no timer. The relay feeds it each chunk as it arrives and it hands back
 * the complete messages, each already in wire form (message + `\n`, a trailing `\r` removed),
 * as a few contiguous segments rather than one callback per message. A chunk of complete
 * lines without `\r` comes back as a single zero-copy segment, whatever the number of lines.
 *
 * Binary-safe: every byte but `\n` is message content; nothing is ever decoded as text.
 *
 * An unfinished line is copied into a small per-publisher buffer until its `\n` arrives, so a
 * publisher that drips one byte per packet costs one buffer, not one object per packet.
 */

import { countNewlines as countNewlinesInRun, type NewlineCounter } from "./newline-count.ts";

/** Receives the output of a LineSplitter. */
export interface SegmentSink {
  /**
   * Bytes `[start, end)` of `bytes` continue the output stream. `stable`: `bytes` is the
   * chunk that was pushed (or a constant), which the splitter never writes to, so the bytes
   * may be kept by reference. Otherwise they lie in the splitter's reusable buffer and stay
   * valid only until the next call into the splitter: copy them to keep them longer.
   */
  segment(bytes: Uint8Array, start: number, end: number, stable: boolean): void;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const NEWLINE_ONLY = Uint8Array.of(NEWLINE);
/** A partial-line buffer grown past this is released once the line completes. */
const KEEP_PARTIAL_CAPACITY = 64 * 1024;

export class LineSplitter {
  private partial = new Uint8Array(0);
  private partialLength = 0;
  /**
   * A second partial-line buffer. When a push emits the held-back line and then holds back a
   * new tail, the tail goes into the other buffer, so the emitted bytes stay intact until the
   * next call, as SegmentSink promises.
   */
  private spare = new Uint8Array(0);
  /** Set once a line longer than maxLine is seen; the splitter then refuses all input. */
  private overLimit = false;

  /**
   * @param maxLine longest message accepted, in bytes, without its `\r\n` or `\n`.
   * @param countNewlines how runs of whole lines are counted (the tests run each counter).
   */
  constructor(
    private readonly maxLine: number,
    private readonly countNewlines: NewlineCounter = countNewlinesInRun,
  ) {}

  /** True once a line exceeded maxLine: nothing of that line was emitted. */
  get tooLong(): boolean {
    return this.overLimit;
  }

  /** Bytes of an unfinished line held back, waiting for its `\n`. */
  get pendingBytes(): number {
    return this.partialLength;
  }

  /**
   * Feeds one chunk. Emits every message the chunk completes, in order, and returns how many.
   * If a line is too long, the messages before it are still emitted, nothing of it is,
   * `tooLong` becomes true and later input is ignored.
   */
  push(chunk: Uint8Array, sink: SegmentSink): number {
    if (this.overLimit) return 0;
    let messages = 0;
    let runStart = 0; // start of the bytes not yet emitted
    let lineStart = 0;

    if (this.partialLength > 0) {
      // The first line of this chunk finishes the line held back from earlier chunks.
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.holdBack(chunk, 0);
        return 0;
      }
      const carriedOver = this.partialLength;
      const crInChunk = newline > 0 && chunk[newline - 1] === CARRIAGE_RETURN;
      const crInPartial = newline === 0 && this.partial[carriedOver - 1] === CARRIAGE_RETURN;
      const length = carriedOver + newline - (crInChunk || crInPartial ? 1 : 0);
      if (length > this.maxLine) {
        this.refuse();
        return 0;
      }
      sink.segment(this.partial, 0, crInPartial ? carriedOver - 1 : carriedOver, false);
      this.rotatePartial();
      if (crInChunk) {
        sink.segment(chunk, 0, newline - 1, true);
        runStart = newline;
      }
      messages = 1;
      lineStart = newline + 1;
    }

    // The common case: every line after that fits in max-line because the whole run does, and
    // none ends in \r\n, so the run goes out as it is and only its newlines need counting.
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= lineStart && lastNewline - lineStart <= this.maxLine) {
      const lines = this.countNewlines(chunk, lineStart, lastNewline + 1);
      if (lines >= 0) {
        messages += lines;
        lineStart = lastNewline + 1;
      }
    }

    let newline = lastNewline < lineStart ? -1 : chunk.indexOf(NEWLINE, lineStart);
    while (newline !== -1) {
      const crInChunk = newline > lineStart && chunk[newline - 1] === CARRIAGE_RETURN;
      const length = newline - lineStart - (crInChunk ? 1 : 0);
      if (length > this.maxLine) {
        if (lineStart > runStart) sink.segment(chunk, runStart, lineStart, true);
        this.refuse();
        return messages;
      }
      if (crInChunk) {
        sink.segment(chunk, runStart, newline - 1, true);
        runStart = newline;
      }
      messages++;
      lineStart = newline + 1;
      newline = chunk.indexOf(NEWLINE, lineStart);
    }

    if (lineStart > runStart) sink.segment(chunk, runStart, lineStart, true);
    if (lineStart < chunk.length) this.holdBack(chunk, lineStart);
    return messages;
  }

  /**
   * The publisher closed cleanly: an unfinished last line is a message too. Emits it with its
   * `\n` and returns 1, or returns 0 if there was none (or it is too long).
   */
  finish(sink: SegmentSink): number {
    if (this.overLimit || this.partialLength === 0) return 0;
    let length = this.partialLength;
    if (this.partial[length - 1] === CARRIAGE_RETURN) length -= 1;
    if (length > this.maxLine) {
      this.refuse();
      return 0;
    }
    sink.segment(this.partial, 0, length, false);
    sink.segment(NEWLINE_ONLY, 0, 1, true);
    this.rotatePartial();
    return 1;
  }

  /** Drops an unfinished line (the publisher reset). Returns how many bytes were dropped. */
  discard(): number {
    const dropped = this.partialLength;
    this.partialLength = 0;
    return dropped;
  }

  private holdBack(chunk: Uint8Array, from: number): void {
    const needed = this.partialLength + chunk.length - from;
    // A trailing \r may yet be stripped, so one byte over the limit is not yet too long.
    if (needed > this.maxLine + 1) {
      this.refuse();
      return;
    }
    if (needed > this.partial.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(needed, this.partial.length * 2, 256), this.maxLine + 1),
      );
      grown.set(this.partial.subarray(0, this.partialLength));
      this.partial = grown;
    }
    this.partial.set(chunk.subarray(from), this.partialLength);
    this.partialLength = needed;
  }

  /** The held-back line was emitted: start the next one in the other buffer. */
  private rotatePartial(): void {
    this.partialLength = 0;
    const emitted = this.partial;
    this.partial = this.spare;
    this.spare = emitted.length > KEEP_PARTIAL_CAPACITY ? new Uint8Array(0) : emitted;
  }

  private refuse(): void {
    this.overLimit = true;
    this.partialLength = 0;
    this.partial = new Uint8Array(0);
    this.spare = this.partial;
  }
}
