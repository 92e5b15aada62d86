/**
 * A soak subscriber: one connection to the relay's subscriber port that splits what it
 * receives into lines, reads each line's `pubId,seq` and records it per publisher. It can
 * stop reading (pause, so TCP pushes back on the relay), and it leaves in one of three ways:
 * drained (reads until it has everything sent before it asked to leave, then FIN), at once
 * (FIN), or by vanishing (RST).
 */
import type { Socket } from "bun";
import { decoded, decodeLine, NEWLINE } from "../bench/lib/message.ts";
import { type SessionEnding, StreamRecord, type SubscriberSession } from "./accounting.ts";

export type LeaveStyle = "drained" | "left" | "reset";

/** The last seq each publisher has sent, right now (publisher id to seq). */
export type SentSnapshot = () => Map<number, number>;

const EMPTY = new Uint8Array(0);

export class SoakSubscriber {
  readonly streams = new Map<number, StreamRecord>();
  receivedBytes = 0;
  malformedLines = 0;
  /** Set once the connection is over. */
  ending: SessionEnding | undefined;
  sentAtEnd = new Map<number, number>();
  readonly closed: Promise<void>;
  peer = "";
  /** Set by the caller: which connection from this peer this is (ports come back). */
  peerOccurrence = 0;
  private socket!: Socket<SoakSubscriber>;
  /** The start of a line whose newline has not arrived yet (our own copy). */
  private partial: Uint8Array = EMPTY;
  private leaving = false;
  /** A drained leave waits for these seqs (publisher id to seq). */
  private drainTargets: Map<number, number> | undefined;
  private onDrained: (() => void) | undefined;
  private resolveClosed!: () => void;

  private constructor(
    readonly id: number,
    readonly slow: boolean,
    readonly sentAtConnect: Map<number, number>,
    private readonly sentNow: SentSnapshot,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  static async connect(
    port: number,
    id: number,
    slow: boolean,
    sentNow: SentSnapshot,
  ): Promise<SoakSubscriber> {
    const subscriber = new SoakSubscriber(id, slow, sentNow(), sentNow);
    subscriber.socket = await Bun.connect<SoakSubscriber>({
      hostname: "127.0.0.1",
      port,
      data: subscriber,
      socket: {
        binaryType: "uint8array",
        data(socket, chunk) {
          socket.data.onData(chunk);
        },
        close(socket) {
          socket.data.onClose();
        },
        error() {},
      },
    });
    subscriber.peer = `127.0.0.1:${subscriber.socket.localPort}`;
    return subscriber;
  }

  get isOpen(): boolean {
    return this.ending === undefined;
  }

  /** Stops reading: the kernel buffers fill, then the relay's backlog for us grows. */
  pause(): void {
    if (this.isOpen) this.socket.pause();
  }

  resume(): void {
    if (this.isOpen) this.socket.resume();
  }

  /**
   * Leaves in the given style and resolves once the connection is closed (or after
   * `timeoutMs`). A drained leave that times out closes anyway; accounting then finds the
   * messages still missing.
   */
  async leave(style: LeaveStyle, timeoutMs: number): Promise<void> {
    if (!this.isOpen || this.leaving) return this.closed;
    this.leaving = true;
    this.sentAtEnd = this.sentNow();
    if (style === "drained") {
      this.resume();
      this.drainTargets = this.sentAtEnd;
      if (!this.hasDrained()) {
        const drained = new Promise<void>((resolve) => {
          this.onDrained = resolve;
        });
        await Promise.race([drained, this.closed, Bun.sleep(timeoutMs)]);
      }
      // Closed by the relay while draining: onClose already recorded a cut.
      if (this.ending === undefined) this.ending = "drained";
      this.socket.end();
    } else if (style === "left") {
      this.ending = "left";
      this.socket.end();
    } else {
      this.ending = "reset";
      this.socket.terminate();
    }
    await Promise.race([this.closed, Bun.sleep(timeoutMs)]);
  }

  session(): SubscriberSession {
    return {
      id: this.id,
      slow: this.slow,
      peer: this.peer,
      peerOccurrence: this.peerOccurrence,
      // Still open at the end of the run only if it ignored a leave; count it as left.
      ending: this.ending ?? "left",
      streams: this.streams,
      sentAtConnect: this.sentAtConnect,
      sentAtEnd: this.sentAtEnd,
      malformedLines: this.malformedLines,
    };
  }

  private onData(chunk: Uint8Array): void {
    this.receivedBytes += chunk.length;
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (this.partial.length > 0) {
      if (newline < 0) {
        this.partial = concat(this.partial, chunk);
        return;
      }
      const line = concat(this.partial, chunk.subarray(0, newline));
      this.partial = EMPTY;
      this.onLine(line, 0, line.length);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline >= 0) {
      this.onLine(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.partial = chunk.slice(start);
    if (this.drainTargets && this.hasDrained()) this.onDrained?.();
  }

  private onLine(bytes: Uint8Array, start: number, end: number): void {
    if (!decodeLine(bytes, start, end)) {
      this.malformedLines++;
      return;
    }
    let stream = this.streams.get(decoded.pubId);
    if (stream === undefined) {
      stream = new StreamRecord();
      this.streams.set(decoded.pubId, stream);
    }
    stream.observe(decoded.seq);
  }

  private hasDrained(): boolean {
    for (const [publisher, target] of this.drainTargets ?? []) {
      if ((this.streams.get(publisher)?.lastSeen ?? 0) < target) return false;
    }
    return true;
  }

  private onClose(): void {
    if (!this.leaving) {
      this.ending = "cut";
      this.sentAtEnd = this.sentNow();
    } else if (this.ending === undefined) {
      // The relay closed us in the middle of a drained leave.
      this.ending = "cut";
    }
    // A line cut short by the close is not malformed: a reset discards what the kernel held,
    // so the tail of the stream (already counted as left or cut) can end mid-line.
    this.partial = EMPTY;
    this.resolveClosed();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
