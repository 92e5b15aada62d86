/**
 * Test support for the NATS client-protocol parser: a handler that records every call as a
 * short readable string (`PUB foo - -1 "hello"`, `SUB foo q 1`, `ERROR NATS_ERR_... 'text'`),
 * and the ways of cutting a stream into chunks that the codec tests feed.
 */
import type { NatsClientHandler, NatsPub } from "../../src/protocol/nats-client-ops.ts";
import type { NatsProtocolError } from "../../src/protocol/nats-errors.ts";
import { NatsParser, type NatsParserOptions } from "../../src/protocol/nats-parser.ts";

/** Bytes as a JSON string, one character per byte (binary-safe, readable for ASCII). */
export function shown(bytes: Uint8Array): string {
  return JSON.stringify(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1"),
  );
}

export function pubEvent(
  subject: string,
  reply: string | undefined,
  headerSize: number,
  payload: string,
): string {
  return `PUB ${subject} ${reply ?? "-"} ${headerSize} ${JSON.stringify(payload)}`;
}

/** What a pub handed over, kept by reference to check it stays intact. */
export interface KeptPub {
  subject: string;
  subjectBytes: Uint8Array;
  replyBytes: Uint8Array | undefined;
  payload: Uint8Array;
  /** Copies taken during the call. */
  subjectCopy: Uint8Array;
  replyCopy: Uint8Array | undefined;
  payloadCopy: Uint8Array;
}

export class Recorder implements NatsClientHandler {
  readonly events: string[] = [];
  readonly kept: KeptPub[] = [];
  readonly errors: NatsProtocolError[] = [];
  /** Called after each recorded event, e.g. to stop the parser from inside a handler. */
  after: ((event: string) => void) | undefined;

  connect(json: Uint8Array): void {
    this.record(`CONNECT ${shown(json)}`);
  }

  pub(msg: NatsPub): void {
    this.kept.push({
      subject: msg.subject,
      subjectBytes: msg.subjectBytes,
      replyBytes: msg.replyBytes,
      payload: msg.payload,
      subjectCopy: msg.subjectBytes.slice(),
      replyCopy: msg.replyBytes?.slice(),
      payloadCopy: msg.payload.slice(),
    });
    const payload = JSON.parse(shown(msg.payload)) as string;
    this.record(pubEvent(msg.subject, msg.reply, msg.headerSize, payload));
  }

  sub(subject: string, queue: string | undefined, sid: string): void {
    this.record(`SUB ${subject} ${queue ?? "-"} ${sid}`);
  }

  unsub(sid: string, max: number | undefined): void {
    this.record(`UNSUB ${sid} ${max ?? "-"}`);
  }

  ping(): void {
    this.record("PING");
  }

  pong(): void {
    this.record("PONG");
  }

  error(error: NatsProtocolError): void {
    this.errors.push(error);
    this.record(errorEvent(error));
  }

  private record(event: string): void {
    this.events.push(event);
    this.after?.(event);
  }
}

/** How the recorder writes an error: its code and the -ERR text, or `-` for none. */
export function errorEvent(error: Pick<NatsProtocolError, "code" | "err">): string {
  return `ERROR ${error.code} ${error.err ? `'${error.err.text}'` : "-"}`;
}

/** Feeds `chunks` to a fresh parser; returns the recorder and the parser. */
export function parse(
  chunks: readonly Uint8Array[],
  options: NatsParserOptions = {},
): { recorder: Recorder; parser: NatsParser } {
  const recorder = new Recorder();
  const parser = new NatsParser(recorder, options);
  for (const chunk of chunks) parser.push(chunk);
  return { recorder, parser };
}

/** The ways the codec tests cut one stream: whole, one byte per chunk, and every 2-way split. */
export function everyCut(input: Uint8Array): { name: string; chunks: Uint8Array[] }[] {
  const cuts = [
    { name: "whole", chunks: [input] },
    { name: "byte by byte", chunks: Array.from(input, (b) => Uint8Array.of(b)) },
  ];
  for (let i = 0; i <= input.length; i++) {
    // Copies, so no test can pass by reading past a chunk's end into the next.
    cuts.push({ name: `split at ${i}`, chunks: [input.slice(0, i), input.slice(i)] });
  }
  return cuts;
}
