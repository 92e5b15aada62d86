import { describe, expect, test } from "bun:test";
import {
  decimalLength,
  deliveredHeaderSize,
  deliveryPayload,
  encodeErr,
  encodeInfo,
  msgHeadLength,
  NATS_CRLF,
  NATS_OK,
  NATS_PING,
  NATS_PONG,
  writeDecimal,
  writeMsgHead,
} from "../../src/protocol/nats-encoder.ts";
import { bytes, concat, decoder } from "../support/harness.ts";
import { parse } from "./nats-recorder.ts";

const FILL = 0xee;

/** Runs `write` at offset 3 of a filled buffer; checks the bytes around; returns what it wrote. */
function written(length: number, write: (out: Uint8Array, at: number) => number): string {
  const out = new Uint8Array(length + 6).fill(FILL);
  const end = write(out, 3);
  expect(end).toBe(3 + length);
  expect([...out.subarray(0, 3), ...out.subarray(end)]).toEqual([
    FILL,
    FILL,
    FILL,
    FILL,
    FILL,
    FILL,
  ]);
  return decoder.decode(out.subarray(3, end));
}

describe("nats-encoder: fixed protocol lines", () => {
  test("+OK, PING, PONG and CRLF are nats-server's okProto, pingProto, pongProto", () => {
    expect(decoder.decode(NATS_OK)).toBe("+OK\r\n");
    expect(decoder.decode(NATS_PING)).toBe("PING\r\n");
    expect(decoder.decode(NATS_PONG)).toBe("PONG\r\n");
    expect(decoder.decode(NATS_CRLF)).toBe("\r\n");
  });

  test("INFO is written as generateClientInfoJSON does, a space before the CRLF", () => {
    const info = { server_id: "NABC", version: "2.9.10", headers: true, max_payload: 1048576 };
    expect(decoder.decode(encodeInfo(info))).toBe(
      'INFO {"server_id":"NABC","version":"2.9.10","headers":true,"max_payload":1048576} \r\n',
    );
  });

  test("-ERR quotes its text (errProto)", () => {
    expect(decoder.decode(encodeErr('Permissions Violation for Publish to "foo"'))).toBe(
      "-ERR 'Permissions Violation for Publish to \"foo\"'\r\n",
    );
  });
});

describe("nats-encoder: decimal sizes", () => {
  test("every digit-count boundary from 0 to 999,999,999", () => {
    const values = [0, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 99_999, 100_000, 999_999];
    values.push(1_000_000, 9_999_999, 10_000_000, 99_999_999, 100_000_000, 999_999_999, 1_048_576);
    for (const n of values) {
      expect(decimalLength(n)).toBe(String(n).length);
      expect(written(String(n).length, (out, at) => writeDecimal(out, at, n))).toBe(String(n));
    }
  });
});

describe("nats-encoder: MSG and HMSG heads", () => {
  const subject = bytes("foo.bar");
  const longSubject = bytes("orders.europe.paris.warehouse-7.created");
  const sid = bytes("22");
  const reply = bytes("_INBOX.abcdefghijklmnop.1");

  test("MSG and HMSG, without and with a reply, short and long subjects, at an offset", () => {
    const cases: [Uint8Array, Uint8Array | undefined, number, number, string][] = [
      [subject, undefined, -1, 5, "MSG foo.bar 22 5\r\n"],
      [subject, reply, -1, 0, "MSG foo.bar 22 _INBOX.abcdefghijklmnop.1 0\r\n"],
      [longSubject, undefined, -1, 1048576, `MSG ${decoder.decode(longSubject)} 22 1048576\r\n`],
      [bytes("a"), bytes("b"), -1, 999_999_999, "MSG a 22 b 999999999\r\n"],
      [subject, undefined, 12, 17, "HMSG foo.bar 22 12 17\r\n"],
      [subject, reply, 22, 2222, "HMSG foo.bar 22 _INBOX.abcdefghijklmnop.1 22 2222\r\n"],
      [subject, undefined, 0, 5, "HMSG foo.bar 22 0 5\r\n"],
    ];
    for (const [subj, rep, headerSize, size, text] of cases) {
      const length = msgHeadLength(subj, sid, rep, headerSize, size);
      expect(length).toBe(text.length);
      const head = written(length, (out, at) =>
        writeMsgHead(out, at, subj, sid, rep, headerSize, size),
      );
      expect(head).toBe(text);
    }
  });

  test("deliveries follow client.go msgHeader and deliverMsg", () => {
    const payload = bytes("NATS/1.0\r\nA: b\r\n\r\nbody");
    const headerSize = payload.length - 4;
    const cases: [number, boolean, string, string][] = [
      [headerSize, true, `HMSG foo.bar 22 ${headerSize} ${payload.length}\r\n`, "NATS/1.0"],
      [headerSize, false, "MSG foo.bar 22 4\r\n", "body"],
      [-1, true, `MSG foo.bar 22 ${payload.length}\r\n`, "NATS/1.0"],
      [-1, false, `MSG foo.bar 22 ${payload.length}\r\n`, "NATS/1.0"],
      // An HPUB with 0 header bytes has no headers (client.go: hasHeader := c.pa.hdr > 0).
      [0, true, `MSG foo.bar 22 ${payload.length}\r\n`, "NATS/1.0"],
    ];
    for (const [hdr, subscriberHeaders, head, bodyStart] of cases) {
      const body = deliveryPayload(payload, hdr, subscriberHeaders);
      const delivered = deliveredHeaderSize(hdr, subscriberHeaders);
      const length = msgHeadLength(subject, sid, undefined, delivered, body.length);
      expect(length).toBe(head.length);
      const text = written(length, (out, at) =>
        writeMsgHead(out, at, subject, sid, undefined, delivered, body.length),
      );
      expect(text).toBe(head);
      expect(decoder.decode(body).startsWith(bodyStart)).toBe(true);
      expect(body.buffer).toBe(payload.buffer);
    }
  });

  test("a parsed PUB delivered to a subscriber is what nats-server sends (proto_test checkMsg)", () => {
    const input = bytes("PUB foo 5\r\nhello\r\nHPUB foo r 8 13\r\nK: v\r\n\r\nhello\r\n");
    const { recorder } = parse([input], { headers: true });
    expect(recorder.kept.length).toBe(2);
    const deliveries = recorder.kept.flatMap((kept, i) =>
      [true, false].map((subscriberHeaders) => {
        const headerSize = i === 0 ? -1 : 8;
        const body = deliveryPayload(kept.payload, headerSize, subscriberHeaders);
        const hdr = deliveredHeaderSize(headerSize, subscriberHeaders);
        const out = new Uint8Array(64);
        const end = writeMsgHead(
          out,
          0,
          kept.subjectBytes,
          bytes("1"),
          kept.replyBytes,
          hdr,
          body.length,
        );
        return decoder.decode(concat([out.subarray(0, end), body, NATS_CRLF]));
      }),
    );
    expect(deliveries).toEqual([
      "MSG foo 1 5\r\nhello\r\n",
      "MSG foo 1 5\r\nhello\r\n",
      "HMSG foo 1 r 8 13\r\nK: v\r\n\r\nhello\r\n",
      "MSG foo 1 r 5\r\nhello\r\n",
    ]);
  });
});
