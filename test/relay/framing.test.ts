/**
 * Seed 003's framed protocol in the relay (issue 12), over real sockets: frame publishers
 * get acks, frame subscribers get frames byte for byte, line and frame ports interoperate,
 * --token, and every kind of bad input closes with a coded reason.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { RelayConfig } from "../../src/cli/config.ts";
import {
  encodeConn,
  encodeConnAck,
  encodeSubmit,
  encodeSubmitAck,
} from "../../src/protocol/frame-codec.ts";
import {
  bytes,
  closeOf,
  concat,
  relayPerTest,
  TestClient,
  type TestRelay,
} from "../support/harness.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();
const FRAMES: Partial<RelayConfig> = { pubFraming: "frame", subFraming: "frame" };

const id = (n: number) => String(n).padStart(8, "0");

async function subscribed(r: TestRelay, count: number): Promise<TestClient[]> {
  return r.subscribers(count);
}

describe("frame publishers and frame subscribers", () => {
  test("Submits reach every subscriber byte for byte; each is acked SubmitAck(ID, 0) in order", async () => {
    const r = start(FRAMES);
    const subs = await subscribed(r, 2);
    const publisher = await r.publisher();
    const frames = [
      encodeSubmit(id(1), "hello"),
      encodeSubmit(id(2), ""),
      encodeSubmit(id(3), "two\nlines"),
      encodeSubmit(id(4), new Uint8Array([0, 255, 10, 13])),
    ];
    const stream = concat(frames);
    // Split mid-header and mid-payload: the relay must reassemble.
    await publisher.write(stream.subarray(0, 3));
    await publisher.write(stream.subarray(3, 20));
    await publisher.write(stream.subarray(20));
    const acks = concat([1, 2, 3, 4].map((n) => encodeSubmitAck(id(n), 0)));
    await publisher.waitForBytes(acks.length);
    expect(publisher.bytes()).toEqual(acks);
    for (const sub of subs) {
      await sub.waitForBytes(stream.length);
      expect(sub.bytes()).toEqual(stream);
    }
    expect(r.relay.totals()).toMatchObject({
      submitsReceived: 4,
      messagesReceived: 4,
      messagesSent: 8,
      acksOk: 4,
      acksFailed: 0,
    });
  });

  test("Conn without --token is optional and answered ConnAck(ID, 0)", async () => {
    const r = start(FRAMES);
    const [sub] = (await subscribed(r, 1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write(concat([encodeConn(id(7)), encodeSubmit(id(8), "x")]));
    const expected = concat([encodeConnAck(id(7), 0), encodeSubmitAck(id(8), 0)]);
    await publisher.waitForBytes(expected.length);
    expect(publisher.bytes()).toEqual(expected);
    await sub.waitForBytes(14);
    expect(sub.bytes()).toEqual(encodeSubmit(id(8), "x"));
  });

  test("--frame-codes article puts SubmitAck on 0x81, as the article's Go code", async () => {
    const r = start({ ...FRAMES, frameCodes: "article" });
    const publisher = await r.publisher();
    await publisher.write(encodeSubmit(id(1), "a"));
    await publisher.waitForBytes(14);
    expect(publisher.bytes()).toEqual(encodeSubmitAck(id(1), 0, "article"));
    expect(publisher.bytes()[4]).toBe(0x81);
  });
});

describe("acks are the publisher's backpressure", () => {
  test("while a subscriber holds publishers (block), acks stop; once it reads, every Submit is acked in order", async () => {
    const r = start({ ...FRAMES, slowConsumer: "block", maxPending: 256 * 1024 });
    const [fast] = (await subscribed(r, 1)) as [TestClient];
    const stalled = await r.subscriberWith({ paused: true });
    const publisher = await r.publisher();
    const count = 16 * 1024;
    const payload = new Uint8Array(1024 - 13).fill(0x61);
    const stream = concat(Array.from({ length: count }, (_, n) => encodeSubmit(id(n), payload)));
    const written = publisher.write(stream); // cannot finish while publishers are held
    await r.waitFor((e) => e.type === "publishers_held" && e.held);
    // The relay acks what it read before the hold, and reads nothing more while held.
    const ackedWhileHeld = r.relay.totals().acksOk;
    await publisher.waitForBytes(ackedWhileHeld * 14);
    expect(ackedWhileHeld).toBeLessThan(count);
    expect(r.relay.hub.holdingPublishers).toBe(true);

    stalled.resume();
    await written;
    await publisher.waitForBytes(count * 14);
    const acks = concat(Array.from({ length: count }, (_, n) => encodeSubmitAck(id(n), 0)));
    expect(publisher.bytes()).toEqual(acks);
    await fast.waitForBytes(stream.length);
    await stalled.waitForBytes(stream.length);
    expect(stalled.bytes()).toEqual(stream);
  });
});

describe("line and frame ports together", () => {
  test("line subscribers get a frame publisher's payload plus \\n; a payload holding \\n is skipped, counted and logged once per episode", async () => {
    const r = start({ pubFraming: "frame", subFraming: "line" });
    const [sub] = (await subscribed(r, 1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write(
      concat([
        encodeSubmit(id(1), "first"),
        encodeSubmit(id(2), "bad\none"),
        encodeSubmit(id(3), "bad\ntwo"),
        encodeSubmit(id(4), "second"),
      ]),
    );
    await sub.waitForBytes("first\nsecond\n".length);
    expect(sub.text()).toBe("first\nsecond\n");
    // Every Submit is acked: the skip concerns line subscribers, not the publisher.
    await publisher.waitForBytes(4 * 14);
    expect(publisher.bytes()).toEqual(concat([1, 2, 3, 4].map((n) => encodeSubmitAck(id(n), 0))));
    const episode = await r.waitFor((e) => e.type === "not_lines");
    expect(episode).toMatchObject({ messages: 2, peer: `127.0.0.1:${publisher.localPort}` });
    expect(r.relay.totals()).toMatchObject({ messagesNotLines: 2, messagesSent: 2 });
  });

  test("frame subscribers get a line publisher's messages as Submits with relay-assigned IDs", async () => {
    const r = start({ pubFraming: "line", subFraming: "frame" });
    const [sub] = (await subscribed(r, 1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write("one\r\ntwo\n");
    await publisher.write("thr");
    await publisher.write("ee\n");
    const expected = concat([
      encodeSubmit(id(1), "one"),
      encodeSubmit(id(2), "two"),
      encodeSubmit(id(3), "three"),
    ]);
    await sub.waitForBytes(expected.length);
    expect(sub.bytes()).toEqual(expected);
    // Line publishers get nothing back.
    expect(publisher.receivedBytes).toBe(0);
  });
});

describe("--token", () => {
  const TOKEN = "s3cret-token";

  test("a publisher with the right token is accepted; a Submit before any Conn is refused and closed", async () => {
    const r = start({ ...FRAMES, token: TOKEN });
    const sub = await TestClient.connect(r.relay.subPort);
    await sub.write(encodeConn(id(9), TOKEN));
    await sub.waitForBytes(14);
    expect(sub.bytes()).toEqual(encodeConnAck(id(9), 0));

    const good = await r.publisher();
    await good.write(concat([encodeConn(id(1), TOKEN), encodeSubmit(id(2), "ok")]));
    await good.waitForBytes(28);
    expect(good.bytes()).toEqual(concat([encodeConnAck(id(1), 0), encodeSubmitAck(id(2), 0)]));
    await sub.waitForBytes(14 + 15);
    expect(sub.bytes().subarray(14)).toEqual(encodeSubmit(id(2), "ok"));

    const rude = await r.publisher();
    await rude.write(encodeSubmit(id(3), "no conn"));
    await rude.closed;
    expect(rude.bytes()).toEqual(encodeSubmitAck(id(3), 1));
    const close = await r.waitFor(closeOf("publisher", "auth_failed"));
    expect(close).toMatchObject({ detail: "Submit before the Conn that --token requires" });
    expect(sub.receivedBytes).toBe(14 + 15);
  });

  test("a wrong token gets ConnAck(ID, 1) and a close, for publishers and subscribers alike", async () => {
    const r = start({ ...FRAMES, token: TOKEN });
    const sub = await TestClient.connect(r.relay.subPort);
    await sub.write(encodeConn(id(1), "wrong"));
    await sub.closed;
    expect(sub.bytes()).toEqual(encodeConnAck(id(1), 1));
    const publisher = await r.publisher();
    await publisher.write(concat([encodeConn(id(2), `${TOKEN}x`), encodeSubmit(id(3), "m")]));
    await publisher.closed;
    expect(publisher.bytes()).toEqual(encodeConnAck(id(2), 1));
    await r.waitForCount(closeOf("publisher", "auth_failed"), 1);
    await r.waitForCount(closeOf("subscriber", "auth_failed"), 1);
    expect(r.relay.totals()).toMatchObject({ authFailures: 2, messagesReceived: 0 });
  });

  test("a subscriber's Conn is not logged as ignored input; a Submit it sends is", async () => {
    const r = start({ ...FRAMES, token: TOKEN });
    const sub = await TestClient.connect(r.relay.subPort);
    await sub.write(encodeConn(id(1), TOKEN));
    await sub.waitForBytes(14);
    expect(r.events.some((e) => e.type === "subscriber_input")).toBe(false);
    await sub.write(encodeSubmit(id(2), "not published"));
    const input = await r.waitFor((e) => e.type === "subscriber_input");
    expect(input).toMatchObject({ bytes: 13 + 13 });
    expect(r.relay.totals().messagesReceived).toBe(0);
  });

  test("a subscriber receives nothing until its Conn carried the token", async () => {
    const r = start({ ...FRAMES, token: TOKEN });
    const waiting = await TestClient.connect(r.relay.subPort);
    await r.waitFor((e) => e.type === "open" && e.side === "subscriber");
    const publisher = await r.publisher();
    await publisher.write(concat([encodeConn(id(1), TOKEN), encodeSubmit(id(2), "early")]));
    await publisher.waitForBytes(28);
    expect(r.relay.subscriberCount).toBe(0);
    await waiting.write(encodeConn(id(5), TOKEN));
    await publisher.write(encodeSubmit(id(3), "late"));
    const expected = concat([encodeConnAck(id(5), 0), encodeSubmit(id(3), "late")]);
    await waiting.waitForBytes(expected.length);
    expect(waiting.bytes()).toEqual(expected);
  });
});

describe("bad frames", () => {
  const cases: [string, Uint8Array, string][] = [
    ["totalLength below 5", new Uint8Array([0, 0, 0, 3, 2]), "FRAME_ERR_TOO_SHORT"],
    [
      "totalLength above --max-frame (judged from the header alone)",
      new Uint8Array([0, 0, 4, 1, 2]),
      "FRAME_ERR_TOO_LONG",
    ],
    [
      "an unknown commandID",
      concat([new Uint8Array([0, 0, 0, 13, 0x42]), bytes(id(9))]),
      "FRAME_ERR_UNKNOWN_COMMAND",
    ],
    [
      "a Submit shorter than its ID",
      new Uint8Array([0, 0, 0, 9, 2, 48, 48, 48, 49]),
      "FRAME_ERR_SHORT_ID",
    ],
    ["an ack sent by a client", encodeSubmitAck(id(9), 0), "FRAME_ERR_UNEXPECTED_ACK"],
  ];

  test.each(cases)(
    "%s closes the publisher with bad_frame; the frames before it are delivered and acked",
    async (_name, bad, code) => {
      const r = start({ ...FRAMES, maxFrame: 1024 });
      const [sub] = (await subscribed(r, 1)) as [TestClient];
      const publisher = await r.publisher();
      const good = concat([encodeSubmit(id(1), "a"), encodeSubmit(id(2), "b")]);
      await publisher.write(concat([good, bad, encodeSubmit(id(3), "never")]));
      await publisher.closed;
      expect(publisher.bytes()).toEqual(
        concat([encodeSubmitAck(id(1), 0), encodeSubmitAck(id(2), 0)]),
      );
      const close = await r.waitFor(closeOf("publisher", "bad_frame"));
      expect(close.type === "close" && close.detail).toStartWith(`${code}: `);
      await sub.waitForBytes(good.length);
      expect(sub.bytes()).toEqual(good);
      expect(r.relay.hub.frameErrors.get(code)).toBe(1);
      expect(r.relay.totals()).toMatchObject({ frameErrors: 1, messagesReceived: 2 });
    },
  );
});
