/**
 * Frame publishers and subscribers over real sockets: publishes settle on the relay's acks,
 * subscribers get exact payloads, maxInFlight bounds the unacked Submits on the wire, a
 * refused Submit and a dropped connection reject, and nothing unacked is ever re-sent.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ClientErrorCode, connect, type MessageWithId } from "../../src/client/index.ts";
import { relayPerTest } from "../support/harness.ts";
import { rejection, subscriberThenPublisher } from "./client-support.ts";
import { RawFrameServer } from "./raw-server.ts";

setDefaultTimeout(10_000);
const start = relayPerTest();
const FRAMES = { pubFraming: "frame", subFraming: "frame" } as const;
const text = new TextDecoder();
const id = (n: number) => String(n).padStart(8, "0");

describe("frame publish against the relay", () => {
  test("publish resolves on SubmitAck 0 and the subscriber gets each payload byte for byte, with its ID", async () => {
    const r = start(FRAMES);
    const { subscriber, publisher } = await subscriberThenPublisher(
      r,
      { framing: "frame" },
      { framing: "frame" },
    );
    const large = new Uint8Array(200_000).map((_, i) => i % 251);
    const payloads = [
      new TextEncoder().encode("hello"),
      new Uint8Array(0),
      Uint8Array.of(0, 255, 10, 13),
      new TextEncoder().encode("two\nlines"),
      large,
    ];
    await Promise.all(payloads.map((p) => publisher.publish(p)));
    // 2 ConnAcks (every frame connection opens with a Conn) + 5 SubmitAcks.
    expect(r.relay.totals()).toMatchObject({ submitsReceived: 5, acksOk: 7, acksFailed: 0 });
    expect(publisher.inFlight).toBe(0);

    const got: MessageWithId[] = [];
    for await (const message of subscriber.messages({ withIds: true })) {
      got.push(message);
      if (got.length === payloads.length) break; // leaving the loop closes the subscriber
    }
    expect(got.map((m) => m.id)).toEqual([2, 3, 4, 5, 6].map(id)); // the Conn took 00000001
    expect(got.map((m) => m.payload)).toEqual(payloads);
    expect(await subscriber.closed).toBeUndefined();
    await publisher.close();
  });

  test("a string publishes as UTF-8 and iterating the subscriber yields payloads only", async () => {
    const r = start(FRAMES);
    const { subscriber, publisher } = await subscriberThenPublisher(
      r,
      { framing: "frame" },
      { framing: "frame" },
    );
    await publisher.publish("héllo ✓");
    for await (const payload of subscriber) {
      expect(text.decode(payload)).toBe("héllo ✓");
      break;
    }
    await publisher.close();
  });

  test("codes: article matches a relay run with --frame-codes article (SubmitAck on 0x81)", async () => {
    const r = start({ ...FRAMES, frameCodes: "article" });
    const publisher = await connect({
      role: "publisher",
      port: r.relay.pubPort,
      framing: "frame",
      codes: "article",
    });
    await publisher.publish("article");
    expect(publisher.lastSubmitId).toBe(id(2));
    expect(r.relay.totals().acksOk).toBe(2); // ConnAck and SubmitAck
    await publisher.close();
  });

  test("a payload above maxPayload is refused before anything is sent (CLIENT_ERR_TOO_LONG)", async () => {
    const r = start(FRAMES);
    const publisher = await connect({
      role: "publisher",
      port: r.relay.pubPort,
      framing: "frame",
      maxPayload: 10,
    });
    const error = await rejection(publisher.publish("01234567890"));
    expect(error.code).toBe(ClientErrorCode.TooLong);
    await publisher.publish("0123456789");
    expect(r.relay.totals().submitsReceived).toBe(1);
    await publisher.close();
  });
});

describe("maxInFlight", () => {
  test("publishing N > maxInFlight at once never puts more than maxInFlight unacked Submits on the wire", async () => {
    const total = 200;
    const maxInFlight = 8;
    // The server acks only when the client has filled its window (or sent everything): a
    // client that overshot would show more than maxInFlight outstanding at some Submit.
    const server = new RawFrameServer((connection) => {
      if (connection.submits.length === total) connection.ackNext(connection.outstanding);
      else if (connection.outstanding === maxInFlight) connection.ackNext(3);
    });
    const publisher = await connect({
      role: "publisher",
      port: server.port,
      framing: "frame",
      maxInFlight,
      reconnect: false,
    });
    const publishes = Array.from({ length: total }, (_, n) => publisher.publish(`m${n}`));
    expect(publisher.inFlight).toBe(maxInFlight);
    expect(publisher.waiting).toBe(total - maxInFlight);
    await Promise.all(publishes);
    const connection = server.connections[0];
    expect(connection?.maxOutstanding).toBe(maxInFlight);
    expect(connection?.submits.map((s) => s.id)).toEqual(
      Array.from({ length: total }, (_, n) => id(n + 2)),
    );
    expect(connection?.submits.map((s) => s.body)).toEqual(publishes.map((_, n) => `m${n}`));
    await publisher.close();
    server.stop();
  });
});

describe("refusals and drops", () => {
  test("SubmitAck(ID, 1) rejects that publish with CLIENT_ERR_REFUSED; the others resolve", async () => {
    const server = new RawFrameServer((connection, received) => {
      connection.ackNext(1, received.body === "bad" ? 1 : 0);
    });
    const publisher = await connect({ role: "publisher", port: server.port, framing: "frame" });
    const [a, bad, c] = [publisher.publish("a"), publisher.publish("bad"), publisher.publish("c")];
    await a;
    const error = await rejection(bad);
    expect(error.code).toBe(ClientErrorCode.Refused);
    expect(error.peer).toBe(`127.0.0.1:${server.port}`);
    expect(error.reason).toContain("00000003");
    await c;
    expect(publisher.connected).toBe(true);
    await publisher.close();
    server.stop();
  });

  test("a drop rejects the publishes in flight with CLIENT_ERR_DISCONNECTED and never re-sends them; waiting ones go out on the next connection", async () => {
    const server = new RawFrameServer((connection) => {
      if (server.connections.length === 1 && connection.submits.length === 2)
        connection.socket.end();
      else if (server.connections.length === 2) connection.ackNext(1);
    });
    const publisher = await connect({
      role: "publisher",
      port: server.port,
      framing: "frame",
      maxInFlight: 2,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    const disconnected = publisher.once("disconnect");
    const reconnected = publisher.once("reconnect");
    const [a, b, c] = [publisher.publish("a"), publisher.publish("b"), publisher.publish("c")];
    expect(publisher.waiting).toBe(1);
    for (const inFlight of [a, b]) {
      const error = await rejection(inFlight);
      expect(error.code).toBe(ClientErrorCode.Disconnected);
    }
    const event = await disconnected;
    expect(event.rejected).toBe(2);
    expect(event.error.code).toBe(ClientErrorCode.Disconnected);
    await c; // sent and acked on the second connection
    expect((await reconnected).attempts).toBeGreaterThanOrEqual(1);
    const second = await server.connection(2);
    expect(second.received).toEqual([
      { kind: "conn", id: id(1), body: "" },
      { kind: "submit", id: id(2), body: "c" },
    ]);
    expect(server.connections[0]?.submits.map((s) => s.body)).toEqual(["a", "b"]);
    await publisher.close();
    server.stop();
  });

  test("with reconnect off, a drop closes: in flight CLIENT_ERR_DISCONNECTED, waiting and later publishes CLIENT_ERR_CLOSED", async () => {
    const server = new RawFrameServer((connection) => {
      if (connection.submits.length === 1) connection.socket.end();
    });
    const publisher = await connect({
      role: "publisher",
      port: server.port,
      framing: "frame",
      maxInFlight: 1,
      reconnect: false,
    });
    const closed = publisher.once("close");
    const [a, b] = [publisher.publish("a"), publisher.publish("b")];
    expect((await rejection(a)).code).toBe(ClientErrorCode.Disconnected);
    expect((await rejection(b)).code).toBe(ClientErrorCode.Closed);
    expect((await closed).error?.code).toBe(ClientErrorCode.Disconnected);
    expect((await rejection(publisher.publish("c"))).code).toBe(ClientErrorCode.Closed);
    expect(server.connections.length).toBe(1);
    server.stop();
  });

  test("close() rejects what is unacked with CLIENT_ERR_CLOSED; drain() waits for every ack first", async () => {
    const server = new RawFrameServer();
    const publisher = await connect({ role: "publisher", port: server.port, framing: "frame" });
    const pending = publisher.publish("never acked");
    const connection = await server.connection(1);
    await connection.waitFor(2); // the Conn and the Submit
    await publisher.close();
    expect((await rejection(pending)).code).toBe(ClientErrorCode.Closed);

    const again = await connect({ role: "publisher", port: server.port, framing: "frame" });
    const second = await server.connection(2);
    const publishes = [again.publish("x"), again.publish("y")];
    const drained = again.drain();
    await second.waitFor(3);
    second.ackNext(2);
    await drained;
    await Promise.all(publishes);
    expect(await again.closed).toBeUndefined();
    server.stop();
  });
});
