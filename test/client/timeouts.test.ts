/**
 * The SDK's time limits over real sockets (issue 19): a frame connection that gets no ConnAck
 * fails `connect` within connectTimeoutMs (a plain TCP server that accepts and never answers;
 * a line relay refuses it at once, see test/net/relay-first-bytes.test.ts), and a publish
 * that does not settle within its timeout rejects with CLIENT_ERR_TIMEOUT, whether it was in
 * flight (frame: no SubmitAck; line: the kernel did not take it) or still waiting.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { ClientErrorCode, connect, type PublisherOptions } from "../../src/client/index.ts";
import { encodeConn } from "../../src/protocol/frame-codec.ts";
import { concat } from "../support/harness.ts";
import { rejection } from "./client-support.ts";
import { RawFrameServer } from "./raw-server.ts";

setDefaultTimeout(10_000);

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** A plain TCP server that accepts and never answers; `received` is what each client sent. */
function silentServer(options: { read: boolean }): { port: number; received: Uint8Array[][] } {
  const received: Uint8Array[][] = [];
  const listener: TCPSocketListener<Uint8Array[]> = Bun.listen<Uint8Array[]>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        socket.data = [];
        received.push(socket.data);
        if (!options.read) socket.pause(); // the kernel's buffers fill, then it takes nothing
      },
      data(socket, chunk) {
        socket.data.push(chunk);
      },
      error() {},
    },
  });
  stops.push(() => listener.stop(true));
  return { port: listener.port, received };
}

/** A frame publisher on a RawFrameServer (which answers its Conn and acks nothing itself). */
async function framePublisher(options: Omit<PublisherOptions, "role" | "port" | "framing">) {
  const server = new RawFrameServer();
  stops.push(() => server.stop());
  const port = server.port;
  const publisher = await connect({ role: "publisher", port, framing: "frame", ...options });
  return { server, publisher };
}

describe("connectTimeoutMs on a frame port", () => {
  test("a server that accepts and never answers the Conn fails connect with CLIENT_ERR_CONNECT, for both roles", async () => {
    const server = silentServer({ read: true });
    for (const role of ["publisher", "subscriber"] as const) {
      const started = performance.now();
      const error = await rejection(
        connect({ role, port: server.port, framing: "frame", connectTimeoutMs: 150 }),
      );
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(elapsed).toBeLessThan(2000);
      expect(error.code).toBe(ClientErrorCode.Connect);
      expect(error.peer).toBe(`127.0.0.1:${server.port}`);
      expect(error.reason).toStartWith(
        "no ConnAck within 150 ms: is the port set to --framing frame",
      );
    }
    // Each connection sent exactly one Conn: ID 00000001, no token.
    expect(server.received.map((chunks) => concat(chunks))).toEqual([
      encodeConn("00000001", ""),
      encodeConn("00000001", ""),
    ]);
  });
});

describe("publish timeouts", () => {
  test("frame: in flight without a SubmitAck, and waiting for room, each reject with CLIENT_ERR_TIMEOUT", async () => {
    const { server, publisher } = await framePublisher({
      maxInFlight: 1,
      publishTimeoutMs: 100,
      reconnect: false,
    });
    const connection = await server.connection(1);
    const inFlight = publisher.publish("a");
    const waiting = publisher.publish("b", { timeoutMs: 50 });
    const waited = await rejection(waiting);
    expect(waited.code).toBe(ClientErrorCode.Timeout);
    expect(waited.reason).toBe(
      "not sent within 50 ms (waiting for a connection or for room under maxInFlight): not delivered",
    );
    const sent = await rejection(inFlight);
    expect(sent.code).toBe(ClientErrorCode.Timeout);
    expect(sent.reason).toBe(
      "no SubmitAck for 00000002 within 100 ms: the relay may or may not have delivered it",
    );
    // The timed-out Submit keeps its place until its ack: the relay may still answer it.
    expect(publisher.inFlight).toBe(1);
    expect(publisher.waiting).toBe(0);
    const later = publisher.publish("c", { timeoutMs: 0 });
    connection.ackNext(1); // the late ack of "a": no protocol error, and room for "c"
    await connection.waitFor(3);
    connection.ackNext(1);
    await later;
    expect(connection.submits.map((s) => s.body)).toEqual(["a", "c"]);
    expect(publisher.connected).toBe(true);
    await publisher.close();
  });

  test("drain() does not wait for a publish its timeout already rejected", async () => {
    const { publisher } = await framePublisher({ publishTimeoutMs: 50 });
    const lost = rejection(publisher.publish("never acked"));
    await publisher.drain();
    expect((await lost).code).toBe(ClientErrorCode.Timeout);
    expect(await publisher.closed).toBeUndefined();
  });

  test("line: a publish the kernel does not take in time rejects with CLIENT_ERR_TIMEOUT", async () => {
    const server = silentServer({ read: false });
    const publisher = await connect({
      role: "publisher",
      port: server.port,
      maxPayload: 64 * 1024 * 1024,
    });
    const big = new Uint8Array(48 * 1024 * 1024).fill(0x61); // more than loopback's buffers
    const error = await rejection(publisher.publish(big, { timeoutMs: 200 }));
    expect(error.code).toBe(ClientErrorCode.Timeout);
    expect(error.reason).toBe(
      "the kernel did not take it within 200 ms (the relay is not reading): it stays queued and may still be delivered",
    );
    await publisher.close();
  });

  test("a timeoutMs that is not a number from 0 to 2^31-1 is CLIENT_ERR_BAD_OPTION", async () => {
    const { server, publisher } = await framePublisher({});
    for (const timeoutMs of [-1, Number.NaN, 2 ** 31]) {
      const error = await rejection(publisher.publish("x", { timeoutMs }));
      expect(error.code).toBe(ClientErrorCode.BadOption);
    }
    const option = await rejection(
      connect({ role: "publisher", port: server.port, publishTimeoutMs: -5 }),
    );
    expect(option.code).toBe(ClientErrorCode.BadOption);
    await publisher.close();
  });
});
