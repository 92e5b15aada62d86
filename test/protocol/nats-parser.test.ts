import { describe, expect, test } from "bun:test";
import { NatsParser } from "../../src/protocol/nats-parser.ts";
import { bytes } from "../support/harness.ts";
import { STREAMS } from "./nats-cases.ts";
import { everyCut, parse, pubEvent, Recorder } from "./nats-recorder.ts";

describe("NatsParser: every cut of each stream", () => {
  for (const stream of STREAMS) {
    test(stream.name, () => {
      const input = bytes(stream.input);
      for (const cut of everyCut(input)) {
        const { recorder, parser } = parse(cut.chunks, { headers: true });
        expect({ cut: cut.name, events: recorder.events }).toEqual({
          cut: cut.name,
          events: stream.events,
        });
        expect(parser.pendingBytes).toBe(0);
        expect(parser.stopped).toBe(false);
      }
    });
  }
});

describe("NatsParser: payloads and the bytes handed over", () => {
  test("a payload inside one chunk is a view of that chunk", () => {
    const chunk = bytes("PUB foo 5\r\nhello\r\nPUB foo 2\r\nok\r\n");
    const { recorder } = parse([chunk]);
    const [first, second] = recorder.kept;
    expect(first?.payload.buffer).toBe(chunk.buffer);
    expect(first?.payload.byteOffset).toBe(11);
    expect(second?.payload.buffer).toBe(chunk.buffer);
    expect(second?.payload.byteOffset).toBe(29);
  });

  test("a payload whose CRLF is in the next chunk is still a view of its chunk", () => {
    const first = bytes("PUB foo 5\r\nhello");
    const { recorder } = parse([first, bytes("\r\n")]);
    expect(recorder.events).toEqual([pubEvent("foo", undefined, -1, "hello")]);
    expect(recorder.kept[0]?.payload.buffer).toBe(first.buffer);
  });

  test("a payload across chunks is a fresh array of exactly its size", () => {
    const { recorder } = parse([bytes("PUB foo 11\r\nhello"), bytes(" world\r\n")]);
    const payload = recorder.kept[0]?.payload as Uint8Array;
    expect(payload.byteLength).toBe(11);
    expect(payload.buffer.byteLength).toBe(11);
    expect(payload.byteOffset).toBe(0);
  });

  test("views handed over stay intact after later pushes (payloads, subjects, replies)", () => {
    // Every message crosses a chunk edge somewhere: control lines, payloads, CRLFs.
    const input = bytes(
      Array.from(
        { length: 40 },
        (_, i) => `PUB s.${i % 3} r.${i} ${i}\r\n${"x".repeat(i)}\r\n`,
      ).join(""),
    );
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < input.length; at += size) chunks.push(input.slice(at, at + size));
      const { recorder } = parse(chunks);
      expect(recorder.kept.length).toBe(40);
      for (const kept of recorder.kept) {
        expect(kept.payload).toEqual(kept.payloadCopy);
        expect(kept.subjectBytes).toEqual(kept.subjectCopy);
        expect(kept.replyBytes).toEqual(kept.replyCopy as Uint8Array);
      }
      expect(recorder.kept.map((k) => k.payload.length)).toEqual(
        Array.from({ length: 40 }, (_, i) => i),
      );
    }
  });

  test("a repeated subject reuses the same string and bytes; a new one replaces them", () => {
    const { recorder } = parse([
      bytes("PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n"),
      bytes("PUB foo 1\r\nc\r\nPUB bar 1\r\nd\r\nPUB foo 1\r\ne\r\n"),
    ]);
    const [a, b, c, d, e] = recorder.kept as [KeptLike, KeptLike, KeptLike, KeptLike, KeptLike];
    expect(b.subjectBytes).toBe(a.subjectBytes);
    expect(c.subjectBytes).toBe(a.subjectBytes);
    expect(d.subjectBytes).not.toBe(a.subjectBytes);
    expect(e.subjectBytes).not.toBe(d.subjectBytes);
    expect(a.subjectBytes).toEqual(bytes("foo"));
    expect([a.subject, d.subject, e.subject]).toEqual(["foo", "bar", "foo"]);
  });

  test("the reply string is decoded once per message and absent without a reply", () => {
    const recorder = new Recorder();
    const replies: (string | undefined)[] = [];
    const parser = new NatsParser({
      ...bind(recorder),
      pub(msg) {
        replies.push(msg.reply, msg.reply);
      },
    });
    parser.push(bytes("PUB a r1 0\r\n\r\nPUB a 0\r\n\r\nPUB a r2 0\r\n\r\n"));
    expect(replies).toEqual(["r1", "r1", undefined, undefined, "r2", "r2"]);
  });

  test("\\r\\n split across a read boundary between every pair of operations", () => {
    const ops = ["PING\r\n", "SUB a 1\r\n", "PUB a 2\r\nhi\r\n", "UNSUB 1\r\n", "PONG\r\n"];
    const input = bytes(ops.join(""));
    const crs: number[] = [];
    for (let i = 0; i < input.length; i++) if (input[i] === 13) crs.push(i);
    for (const cr of crs) {
      const { recorder } = parse([input.slice(0, cr + 1), input.slice(cr + 1)]);
      expect(recorder.events).toEqual([
        "PING",
        "SUB a - 1",
        pubEvent("a", undefined, -1, "hi"),
        "UNSUB 1 -",
        "PONG",
      ]);
    }
  });

  test("thousands of pipelined commands in one chunk", () => {
    const parts: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const payload = `m${i}`.padEnd(80, ".");
      parts.push(`PUB bench.${i % 7} 80\r\n${payload}\r\n`);
      expected.push(pubEvent(`bench.${i % 7}`, undefined, -1, payload));
      if (i % 1000 === 0) {
        parts.push(`SUB s.${i} ${i}\r\nPING\r\n`);
        expected.push(`SUB s.${i} - ${i}`, "PING");
      }
    }
    const input = bytes(parts.join(""));
    expect(parse([input]).recorder.events).toEqual(expected);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < input.length; at += 1460) pieces.push(input.slice(at, at + 1460));
    expect(parse(pieces).recorder.events).toEqual(expected);
  });

  test("an empty push changes nothing", () => {
    const { recorder, parser } = parse([
      new Uint8Array(0),
      bytes("PUB a 1\r\n"),
      new Uint8Array(0),
      bytes("x\r\n"),
    ]);
    expect(recorder.events).toEqual([pubEvent("a", undefined, -1, "x")]);
    expect(parser.pendingBytes).toBe(0);
  });

  test("pendingBytes counts a held control line and a held payload part", () => {
    const recorder = new Recorder();
    const parser = new NatsParser(recorder);
    parser.push(bytes("PUB foo.bar 10"));
    expect(parser.pendingBytes).toBe(10); // "foo.bar 10"
    parser.push(bytes("\r\nabc"));
    expect(parser.pendingBytes).toBe(3);
    parser.push(bytes("defghij\r"));
    expect(parser.pendingBytes).toBe(0);
    parser.push(bytes("\n"));
    expect(recorder.events).toEqual([pubEvent("foo.bar", undefined, -1, "abcdefghij")]);
  });
});

type KeptLike = Recorder["kept"][number];

/** The recorder's methods bound, to spread into a handler that overrides one of them. */
function bind(recorder: Recorder) {
  return {
    connect: recorder.connect.bind(recorder),
    pub: recorder.pub.bind(recorder),
    sub: recorder.sub.bind(recorder),
    unsub: recorder.unsub.bind(recorder),
    ping: recorder.ping.bind(recorder),
    pong: recorder.pong.bind(recorder),
    error: recorder.error.bind(recorder),
  };
}
