import { describe, expect, test } from "bun:test";
import { NatsErrorCode } from "../../src/protocol/nats-errors.ts";
import { NatsParser } from "../../src/protocol/nats-parser.ts";
import { bytes, seededRandom } from "../support/harness.ts";
import { AUTH, CONTROL_LINE, MAX_PAYLOAD, SHOULD_FAIL, silent, UNKNOWN } from "./nats-cases.ts";
import { everyCut, parse, pubEvent, Recorder } from "./nats-recorder.ts";

/**
 * Returns the index of the byte whose push made the parser report an error (feeding one byte
 * per push), and the events.
 */
function decidedAt(input: Uint8Array, options = {}): { at: number; events: string[] } {
  const recorder = new Recorder();
  const parser = new NatsParser(recorder, options);
  for (let i = 0; i < input.length; i++) {
    parser.push(input.subarray(i, i + 1));
    if (recorder.errors.length > 0) return { at: i, events: recorder.events };
  }
  return { at: -1, events: recorder.events };
}

describe("NatsParser: nats-server's TestShouldFail and more, as cases", () => {
  for (const [input, event, at] of SHOULD_FAIL) {
    test(JSON.stringify(input), () => {
      const data = bytes(input);
      const expectedAt = at === "LF" ? data.lastIndexOf(10) : at;
      const byByte = decidedAt(data, { headers: true });
      expect(byByte).toEqual({ at: expectedAt, events: [event] });
      for (const cut of everyCut(data)) {
        const { recorder, parser } = parse(cut.chunks, { headers: true });
        expect(recorder.events).toEqual([event]);
        expect(parser.stopped).toBe(true);
      }
    });
  }

  test('"CONNECT \\r\\n" hands over "\\r", which is no JSON: the connection closes it', () => {
    // parser.go moves to CONNECT_ARG on the first byte after the blanks, whatever it is.
    const { recorder } = parse([bytes("CONNECT \r\n")]);
    expect(recorder.events).toEqual(['CONNECT "\\r"']);
    expect(() => JSON.parse("\r")).toThrow();
  });
});

describe("NatsParser: the control line limit", () => {
  test("nats-server TestMaxControlLine: max 8, PUB foo.bar.baz fails split and whole", () => {
    const pub = bytes("PUB foo.bar.baz 2\r\nok\r\n");
    expect(parse([pub.slice(0, 14)], { maxControlLine: 8 }).recorder.events).toEqual([
      CONTROL_LINE,
    ]);
    expect(parse([pub], { maxControlLine: 8 }).recorder.events).toEqual([CONTROL_LINE]);
    // One byte at a time: decided at the 9th argument byte, long before the CRLF.
    expect(decidedAt(pub, { maxControlLine: 8 })).toEqual({ at: 12, events: [CONTROL_LINE] });
  });

  test("arguments of exactly the limit pass, one byte more fails, at every cut", () => {
    const exact = bytes("PUB foo.bar 10\r\n0123456789\r\n"); // "foo.bar 10": 10 bytes
    const over = bytes("PUB foo.bar1 10\r\n0123456789\r\n");
    for (const cut of everyCut(exact)) {
      expect(parse(cut.chunks, { maxControlLine: 10 }).recorder.events).toEqual([
        pubEvent("foo.bar", undefined, -1, "0123456789"),
      ]);
    }
    for (const cut of everyCut(over)) {
      expect(parse(cut.chunks, { maxControlLine: 10 }).recorder.events).toEqual([CONTROL_LINE]);
    }
  });

  test("an over-long line with no CRLF yet is refused in its first chunk and byte by byte", () => {
    // test/proto_test.go TestControlLineMaximums: max 256, "PUB foo " and 320 digits, no CRLF.
    const line = bytes(`PUB foo ${"2222222222".repeat(32)}`);
    expect(parse([line], { maxControlLine: 256 }).recorder.events).toEqual([CONTROL_LINE]);
    expect(decidedAt(line, { maxControlLine: 256 })).toEqual({
      at: 4 + 256,
      events: [CONTROL_LINE],
    });
    // The default limit, 4096, with a big chunk: refused without waiting for more.
    const big = bytes(`SUB ${"s".repeat(5000)}`);
    expect(parse([big]).recorder.events).toEqual([CONTROL_LINE]);
  });

  test("the limit applies to CONNECT, not to PING's ignored tail nor to blanks after the name", () => {
    const connect = bytes(`CONNECT {"name":"${"n".repeat(100)}"}\r\n`);
    expect(parse([connect], { maxControlLine: 64 }).recorder.events).toEqual([CONTROL_LINE]);
    const ping = bytes(`PING${" ".repeat(10_000)}x\r\n`);
    expect(parse([ping], { maxControlLine: 8 }).recorder.events).toEqual(["PING"]);
    const blanks = bytes(`PUB${" ".repeat(10_000)}a 1\r\nz\r\n`);
    expect(parse([blanks], { maxControlLine: 8 }).recorder.events).toEqual([
      pubEvent("a", undefined, -1, "z"),
    ]);
  });

  test("a new limit set between pushes applies to the line being read", () => {
    const recorder = new Recorder();
    const parser = new NatsParser(recorder);
    parser.push(bytes("SUB foo.bar.baz"));
    parser.maxControlLine = 12;
    parser.push(bytes(" 1"));
    expect(recorder.events).toEqual([CONTROL_LINE]);
  });
});

describe("NatsParser: the payload limit and the payload's end", () => {
  test("a size of exactly maxPayload passes; one more fails at the LF, before any payload", () => {
    const ok = bytes(`PUB foo 10\r\n${"p".repeat(10)}\r\n`);
    expect(parse([ok], { maxPayload: 10 }).recorder.events).toEqual([
      pubEvent("foo", undefined, -1, "p".repeat(10)),
    ]);
    const over = bytes(`PUB foo 11\r\n${"p".repeat(11)}\r\n`);
    expect(decidedAt(over, { maxPayload: 10 })).toEqual({ at: 11, events: [MAX_PAYLOAD] });
    const hpub = bytes(`HPUB foo 4 11\r\n${"h".repeat(11)}\r\n`);
    expect(parse([hpub], { maxPayload: 10, headers: true }).recorder.events).toEqual([MAX_PAYLOAD]);
  });

  test("nats-server TestMaxPayloadOverrun: 199380988 is a violation, a 23-digit size no size", () => {
    expect(parse([bytes("PUB foo 199380988\r\n")], { maxPayload: 10_000 }).recorder.events).toEqual(
      [MAX_PAYLOAD],
    );
    const huge = bytes("PUB foo 18446744073709551615123\r\n");
    expect(parse([huge], { maxPayload: 10_000 }).recorder.events).toEqual([
      silent(NatsErrorCode.BadPubArgs),
    ]);
  });

  test("maxPayload set later applies from the next PUB", () => {
    const recorder = new Recorder();
    const parser = new NatsParser(recorder);
    parser.push(bytes("PUB a 3\r\nabc\r\n"));
    parser.maxPayload = 2;
    parser.push(bytes("PUB a 3\r\nabc\r\n"));
    expect(recorder.events).toEqual([pubEvent("a", undefined, -1, "abc"), MAX_PAYLOAD]);
  });

  test("payload bytes past the size instead of CRLF: not delivered, Unknown Protocol Operation", () => {
    const input = bytes("PUB foo.bar 11\r\nhello world hello world\r\n");
    expect(decidedAt(input)).toEqual({ at: 27, events: [UNKNOWN] });
    for (const cut of everyCut(input)) {
      expect(parse(cut.chunks).recorder.events).toEqual([UNKNOWN]);
    }
  });

  test("HPUB from a client without header support closes with no -ERR", () => {
    const input = bytes("HPUB foo 12 17\r\nname:derek\r\nHELLO\r\n");
    expect(decidedAt(input)).toEqual({
      at: 15,
      events: [silent(NatsErrorCode.HeadersNotSupported)],
    });
  });
});

describe("NatsParser: authentication, stop(), and after an error", () => {
  test("awaitingConnect: anything but CONNECT is refused at its first byte", () => {
    expect(decidedAt(bytes("PING\r\n"), { awaitingConnect: true })).toEqual({
      at: 0,
      events: [AUTH],
    });
    // The connection clears awaitingConnect from connect() once the credentials pass.
    const recorder = new Recorder();
    const parser = new NatsParser(recorder, { awaitingConnect: true });
    recorder.after = (event) => {
      if (event.startsWith("CONNECT")) parser.awaitingConnect = false;
    };
    parser.push(bytes('connect {"user":"a"}\r\nPING\r\n'));
    expect(recorder.events).toEqual(['CONNECT "{\\"user\\":\\"a\\"}"', "PING"]);
    // Left set, the next operation is refused.
    const refused = parse([bytes("CONNECT {}\r\nPING\r\n")], { awaitingConnect: true });
    expect(refused.recorder.events).toEqual(['CONNECT "{}"', AUTH]);
  });

  test("stop() from a handler: nothing after that operation is delivered", () => {
    const recorder = new Recorder();
    const parser = new NatsParser(recorder);
    recorder.after = (event) => {
      if (event.startsWith("SUB")) parser.stop();
    };
    parser.push(bytes("PING\r\nSUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n"));
    parser.push(bytes("PING\r\n"));
    expect(recorder.events).toEqual(["PING", "SUB a - 1"]);
    expect(parser.stopped).toBe(true);
    expect(parser.error).toBeUndefined();
  });

  test("suspend() from a handler holds what follows, pushes included, until resume(), at every cut", () => {
    const stream = bytes('CONNECT {"pass":"x"}\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n');
    const whole = parse([stream]).recorder.events;
    for (const { name, chunks } of everyCut(stream)) {
      const recorder = new Recorder();
      const parser = new NatsParser(recorder, { awaitingConnect: true });
      recorder.after = (event) => {
        if (event.startsWith("CONNECT")) {
          parser.suspend();
          parser.awaitingConnect = false;
        }
      };
      for (const chunk of chunks) parser.push(chunk);
      parser.push(bytes("PONG\r\n"));
      expect({ name, events: recorder.events }).toEqual({ name, events: whole.slice(0, 1) });
      expect(parser.isSuspended).toBe(true);
      parser.resume();
      expect({ name, events: recorder.events }).toEqual({ name, events: [...whole, "PONG"] });
      expect(parser.isSuspended).toBe(false);
    }
  });

  test("an error is reported once, with its offset; later pushes are ignored", () => {
    const { recorder, parser } = parse([
      bytes("PING\r\nPUB a 1\r\nx\r\n"),
      bytes("SUB a 1\r\nBAD\r\nPING\r\n"),
      bytes("PING\r\n"),
    ]);
    expect(recorder.events).toEqual([
      "PING",
      pubEvent("a", undefined, -1, "x"),
      "SUB a - 1",
      UNKNOWN,
    ]);
    expect(recorder.errors.length).toBe(1);
    expect(parser.error).toBe(recorder.errors[0]);
    expect(parser.error?.offset).toBe(18 + 9);
    expect(parser.error?.closes).toBe(true);
    expect(parser.error?.message).toBe(
      "NATS_ERR_UNKNOWN_OPERATION: unexpected byte 0x42 where an operation starts (operation at stream offset 27)",
    );
    expect(parser.pendingBytes).toBe(0);
  });

  test("an Unknown Protocol Operation's reason says where the byte was", () => {
    const reasons = ["Px", "PUBS", "xx", "PUB a 1\r\nbX", "PUB a 1\r\nb\rX"].map(
      (input) => parse([bytes(input)]).parser.error?.reason,
    );
    expect(reasons).toEqual([
      "unexpected byte 0x78 in the name of P",
      "unexpected byte 0x53 after the name of PUB",
      "unexpected byte 0x78 where an operation starts",
      "unexpected byte 0x58 after the payload of PUB",
      "unexpected byte 0x58 after the payload's CR of PUB",
    ]);
  });

  test("limits are checked when set", () => {
    const parser = new NatsParser(new Recorder());
    expect(() => {
      parser.maxControlLine = 0;
    }).toThrow(RangeError);
    expect(() => {
      parser.maxPayload = -1;
    }).toThrow(RangeError);
    expect(() => new NatsParser(new Recorder(), { maxControlLine: 1.5 })).toThrow(RangeError);
  });

  test("random garbage never throws out of push and reports at most one error", () => {
    const random = seededRandom(20);
    const alphabet = bytes("PUBSUNCOIHMGK+-ER \t\r\n0123456789foo.>*{}");
    for (let round = 0; round < 300; round++) {
      const input = Uint8Array.from({ length: 1 + Math.floor(random() * 60) }, () =>
        random() < 0.8
          ? (alphabet[Math.floor(random() * alphabet.length)] as number)
          : Math.floor(random() * 256),
      );
      const recorder = new Recorder();
      const parser = new NatsParser(recorder, { headers: true, maxControlLine: 16 });
      for (let at = 0; at < input.length; at += 3) parser.push(input.slice(at, at + 3));
      expect(recorder.errors.length).toBeLessThanOrEqual(1);
    }
  });
});
