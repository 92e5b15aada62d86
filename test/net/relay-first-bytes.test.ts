/**
 * Clients speaking the wrong protocol, against a real relay on loopback (issue 19 §2): a TLS
 * client on a plaintext port however its ClientHello is cut into segments, the SDK's frame
 * client and the seed's raw frame on a line port, a line client on a frame port, an HTTP
 * client, and a TLS header that stops half-way. Each is refused with its reason and nothing
 * of it reaches a subscriber; binary lines, even ones that begin like a frame, still pass.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ClientErrorCode, connect } from "../../src/client/index.ts";
import { FIRST_BYTES_BOUND_MS } from "../../src/net/first-bytes.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { rejection } from "../client/client-support.ts";
import { closeOf, relayPerTest, TestClient, type TestRelay } from "../support/harness.ts";
import { bunClientHello } from "./captured-openings.ts";

setDefaultTimeout(10_000);
const start = relayPerTest();
const FRAMES = { pubFraming: "frame", subFraming: "frame" } as const;

let hello: Uint8Array;
beforeAll(async () => {
  hello = await bunClientHello();
});

const refusedFor =
  (listener: "publisher" | "subscriber", reason: string) =>
  (event: RelayEvent): boolean =>
    event.type === "access_refused" && event.listener === listener && event.reason === reason;

function refusals(r: TestRelay, listener: string, reason: string): number {
  const counters = r.relay.access.counters;
  return counters.get(counters.refused, listener, reason);
}

/** The detail of the relay's CLOSE line for `side` with `reason`, once it comes. */
async function closeDetail(
  r: TestRelay,
  side: "publisher" | "subscriber",
  reason: string,
): Promise<string> {
  const close = await r.waitFor(closeOf(side, reason));
  return (close as { detail?: string }).detail ?? "";
}

/** Writes `pieces` one by one, `gapMs` apart (separate TCP segments); ignores a closed socket. */
async function writePieces(client: TestClient, pieces: Uint8Array[], gapMs: number) {
  for (const piece of pieces) {
    await client.write(piece).catch(() => {}); // the relay may have closed it already
    await Bun.sleep(gapMs);
  }
}

/**
 * A line publisher writes `marker`; resolves once `subscriber` has as many bytes as the marker,
 * and returns everything it received: exactly the marker when nothing else reached it.
 */
async function receivedWithMarker(r: TestRelay, subscriber: TestClient): Promise<string> {
  const publisher = await r.publisher();
  await publisher.write("marker\n");
  await subscriber.waitForBytes("marker\n".length);
  publisher.end();
  return subscriber.text();
}

describe("a TLS client on a plaintext line port", () => {
  test("its ClientHello split 5|rest is refused tls_client; no subscriber receives a byte", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const tls = await TestClient.connect(r.relay.pubPort);
    await writePieces(tls, [hello.subarray(0, 5), hello.subarray(5)], 50);
    await r.waitFor(refusedFor("publisher", "tls_client"));
    await tls.closed;
    expect(await closeDetail(r, "publisher", "tls_client")).toBe(
      "a TLS ClientHello on a plaintext port: this port has no --tls-cert",
    );
    expect(await receivedWithMarker(r, subscriber)).toBe("marker\n");
    expect(r.relay.totals().messagesReceived).toBe(1);
  });

  test("its record header in 1-byte pieces 50 ms apart is refused at the 5th byte", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const tls = await TestClient.connect(r.relay.pubPort);
    const pieces = Array.from(hello.subarray(0, 5), (b) => Uint8Array.of(b));
    await writePieces(tls, [...pieces, hello.subarray(5)], 50);
    await tls.closed;
    await r.waitFor(closeOf("publisher", "tls_client"));
    expect(refusals(r, "publisher", "tls_client")).toBe(1);
    expect(await receivedWithMarker(r, subscriber)).toBe("marker\n");
  });

  test("1 to 3 bytes of a TLS header and then nothing: closed once the bound passed", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const stalled = await TestClient.connect(r.relay.pubPort);
    const started = performance.now();
    await stalled.write(hello.subarray(0, 3));
    await stalled.closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(FIRST_BYTES_BOUND_MS - 20);
    expect(await closeDetail(r, "publisher", "first_bytes_timeout")).toStartWith(
      "3 B of a TLS record header, then nothing more within 1 s",
    );
    expect(await receivedWithMarker(r, subscriber)).toBe("marker\n");
  });
});

describe("a frame client on a line port", () => {
  test("the SDK's frame publisher and subscriber are refused frame_client at their Conn; connect fails fast", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    for (const role of ["publisher", "subscriber"] as const) {
      const port = role === "publisher" ? r.relay.pubPort : r.relay.subPort;
      const started = performance.now();
      const error = await rejection(connect({ role, port, framing: "frame", reconnect: false }));
      expect(performance.now() - started).toBeLessThan(FIRST_BYTES_BOUND_MS);
      expect(error.code).toBe(ClientErrorCode.Connect);
      expect(error.reason).toContain("before its ConnAck: is the port set to --framing frame");
      expect(await closeDetail(r, role, "frame_client")).toBe(
        "looks like a seed 003 frame (Conn, totalLength 13): is the client set to --framing line? This port speaks newline-terminated lines",
      );
      expect(refusals(r, role, "frame_client")).toBe(1);
    }
    expect(await receivedWithMarker(r, subscriber)).toBe("marker\n");
  });

  test("the seed's raw Submit frame (\\0\\0\\0\\x0e\\x0200000001x) is refused and never reaches a subscriber", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const raw = await TestClient.connect(r.relay.pubPort);
    await raw.write("\0\0\0\x0e\x0200000001x");
    await raw.closed;
    await r.waitFor(closeOf("publisher", "frame_client"));
    expect(await receivedWithMarker(r, subscriber)).toBe("marker\n");
  });
});

describe("a line client on a frame port", () => {
  test("its text is refused line_client; frame subscribers get nothing of it", async () => {
    const r = start(FRAMES);
    const subscriber = await connect({
      role: "subscriber",
      port: r.relay.subPort,
      framing: "frame",
    });
    await r.waitFor((e) => e.type === "open" && e.side === "subscriber");
    const line = await TestClient.connect(r.relay.pubPort);
    await line.write("hello world\n");
    await line.closed;
    expect(await closeDetail(r, "publisher", "line_client")).toBe(
      'looks like text (totalLength 1751477356 from "hell"): is this a line client? This port speaks seed 003 frames',
    );
    const publisher = await connect({ role: "publisher", port: r.relay.pubPort, framing: "frame" });
    await publisher.publish("after");
    for await (const payload of subscriber) {
      expect(new TextDecoder().decode(payload)).toBe("after"); // the first message it got
      break;
    }
    expect(r.relay.totals()).toMatchObject({ messagesReceived: 1, frameErrors: 0 });
    await publisher.close();
  });
});

describe("an HTTP client", () => {
  test("fetch on the line publisher port is refused http_client", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const answer = await fetch(`http://127.0.0.1:${r.relay.pubPort}/`).then(
      () => "answered",
      () => "failed",
    );
    expect(answer).toBe("failed");
    expect(await closeDetail(r, "publisher", "http_client")).toBe(
      "looks like HTTP (a GET request line): this port speaks newline-terminated lines, not HTTP",
    );
    expect(await receivedWithMarker(r, subscriber)).toBe("marker\n");
  });
});

describe("line clients that must pass", () => {
  test("a binary line starting 00 01 02 03 04, cut after its first byte, arrives byte for byte with what follows", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    const lines = Uint8Array.of(0, 1, 2, 3, 4, 0xff, 10, 0x16, 0x03, 0x01, 0, 5, 10);
    await writePieces(publisher, [lines.subarray(0, 1), lines.subarray(1, 3)], 50);
    await publisher.write(lines.subarray(3));
    await subscriber.waitForBytes(lines.length);
    expect(subscriber.bytes()).toEqual(lines);
    expect(r.events.filter((e) => e.type === "access_refused")).toEqual([]);
  });

  test("a short line that stays a frame prefix (\\0\\n) is delivered once the bound passed", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    const started = performance.now();
    await publisher.write(Uint8Array.of(0, 10));
    await subscriber.waitForBytes(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(FIRST_BYTES_BOUND_MS - 20);
    expect(subscriber.bytes()).toEqual(Uint8Array.of(0, 10));
  });

  test("first bytes still undecided when the peer closes are decided then: \\0\\n is delivered, 0x16 is refused", async () => {
    const r = start();
    const [subscriber] = (await r.subscribers(1)) as [TestClient];
    const tls = await TestClient.connect(r.relay.pubPort);
    await tls.write(Uint8Array.of(0x16));
    tls.end();
    expect(await closeDetail(r, "publisher", "first_bytes_timeout")).toBe(
      "1 B of a TLS record header, then the peer closed: a TLS client on a plaintext port?",
    );
    const line = await TestClient.connect(r.relay.pubPort);
    await line.write(Uint8Array.of(0, 10));
    line.end();
    await subscriber.waitForBytes(2);
    expect(subscriber.bytes()).toEqual(Uint8Array.of(0, 10));
  });
});
