/**
 * Line ports from the client side: publish resolves once the kernel took the line, a payload
 * that cannot be one line is refused before anything is sent, and subscribers get payloads
 * without their `\n`, whole even when a line spans many reads.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ClientError, ClientErrorCode, connect, type Subscriber } from "../../src/client/index.ts";
import { relayPerTest } from "../support/harness.ts";

import { rejection, subscriberThenPublisher } from "./client-support.ts";

setDefaultTimeout(10_000);
const start = relayPerTest();
const encode = (s: string) => new TextEncoder().encode(s);

async function take(subscriber: Subscriber, count: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  if (count === 0) return got;
  for await (const payload of subscriber) {
    got.push(payload);
    if (got.length === count) break;
  }
  return got;
}

describe("line mode", () => {
  test("publish and subscribe: exact payloads, an empty one and one spanning many reads included", async () => {
    const r = start();
    const { subscriber, publisher } = await subscriberThenPublisher(r);
    const long = new Uint8Array(700_000).fill(0x61);
    const payloads = [
      encode("hello"),
      new Uint8Array(0),
      Uint8Array.of(0, 255, 13, 1),
      long,
      encode("end"),
    ];
    await Promise.all(payloads.map((p) => publisher.publish(p)));
    expect(publisher.inFlight).toBe(0);
    expect(await take(subscriber, payloads.length)).toEqual(payloads);
    await publisher.close();
  });

  test("a payload holding \\n or ending in \\r is refused with CLIENT_ERR_NEWLINE and nothing is sent", async () => {
    const r = start();
    const { subscriber, publisher } = await subscriberThenPublisher(r);
    for (const bad of ["two\nlines", "crlf\r", "\n"]) {
      const error = await rejection(publisher.publish(bad));
      expect(error.code).toBe(ClientErrorCode.Newline);
    }
    await publisher.publish("fine");
    expect((await take(subscriber, 1)).map((p) => new TextDecoder().decode(p))).toEqual(["fine"]);
    expect(r.relay.totals().messagesReceived).toBe(1);
    await publisher.close();
  });

  test("a frame publisher's message reaches a line subscriber as its payload", async () => {
    const r = start({ pubFraming: "frame", subFraming: "line" });
    const { subscriber, publisher } = await subscriberThenPublisher(
      r,
      { framing: "line" },
      { framing: "frame" },
    );
    await publisher.publish("framed");
    expect(await take(subscriber, 1)).toEqual([encode("framed")]);
    await publisher.close();
  });

  test("a line publisher's 1 MiB message (the relay's --max-line) reaches a frame subscriber whole, with a relay-assigned ID", async () => {
    const r = start({ pubFraming: "line", subFraming: "frame" });
    const { subscriber, publisher } = await subscriberThenPublisher(r, { framing: "frame" });
    const payload = new Uint8Array(1024 * 1024).fill(0x62);
    await publisher.publish(payload);
    for await (const message of subscriber.messages({ withIds: true })) {
      expect(message.id).toBe("00000001");
      expect(message.payload).toEqual(payload);
      break;
    }
    await publisher.close();
  });

  test("messages({ withIds: true }) on a line port is a bad option", async () => {
    const r = start();
    const subscriber = await connect({ role: "subscriber", port: r.relay.subPort });
    expect(() => subscriber.messages({ withIds: true })).toThrow(ClientError);
    await subscriber.close();
  });
});
