/**
 * --token from the client side: Conn(ID, token) first, ConnAck 0 lets it in, ConnAck 1 fails
 * connect with CLIENT_ERR_AUTH; a publisher without the token (its Conn carries an empty one)
 * is refused at connect.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ClientErrorCode, connect } from "../../src/client/index.ts";
import { closeOf, relayPerTest } from "../support/harness.ts";
import { rejection } from "./client-support.ts";
import { RawFrameServer } from "./raw-server.ts";

setDefaultTimeout(10_000);
const start = relayPerTest();
const TOKEN = "s3cret";
const SECURED = { pubFraming: "frame", subFraming: "frame", token: TOKEN } as const;

describe("token", () => {
  test("with the right token, a publisher and a subscriber get in and messages flow", async () => {
    const r = start(SECURED);
    const common = { framing: "frame", token: TOKEN } as const;
    const subscriber = await connect({ role: "subscriber", port: r.relay.subPort, ...common });
    const publisher = await connect({ role: "publisher", port: r.relay.pubPort, ...common });
    await publisher.publish("for members");
    for await (const payload of subscriber) {
      expect(new TextDecoder().decode(payload)).toBe("for members");
      break;
    }
    expect(r.relay.totals()).toMatchObject({ authFailures: 0, acksOk: 3 }); // 2 ConnAcks + 1 SubmitAck
    await publisher.close();
  });

  test("a wrong token rejects connect with CLIENT_ERR_AUTH, for both roles, and is not retried", async () => {
    const r = start(SECURED);
    for (const role of ["publisher", "subscriber"] as const) {
      const port = role === "publisher" ? r.relay.pubPort : r.relay.subPort;
      const error = await rejection(connect({ role, port, framing: "frame", token: "wrong" }));
      expect(error.code).toBe(ClientErrorCode.Auth);
      expect(error.peer).toBe(`127.0.0.1:${port}`);
      await r.waitFor(closeOf(role, "auth_failed"));
    }
    expect(r.relay.totals().authFailures).toBe(2);
  });

  test("a publisher without the token is refused at connect (CLIENT_ERR_AUTH): its Conn carries an empty one", async () => {
    const r = start(SECURED);
    const error = await rejection(
      connect({ role: "publisher", port: r.relay.pubPort, framing: "frame", reconnect: false }),
    );
    expect(error.code).toBe(ClientErrorCode.Auth);
    await r.waitFor(closeOf("publisher", "auth_failed"));
    expect(r.relay.totals().submitsReceived).toBe(0);
  });

  test("the token is sent as Conn with the connection's first ID; Submits take the next ones", async () => {
    const server = new RawFrameServer((connection, received) => {
      if (received.kind === "submit") connection.ackNext(1);
    });
    const publisher = await connect({
      role: "publisher",
      port: server.port,
      framing: "frame",
      token: TOKEN,
    });
    await publisher.publish("after auth");
    expect(server.connections[0]?.received).toEqual([
      { kind: "conn", id: "00000001", body: TOKEN },
      { kind: "submit", id: "00000002", body: "after auth" },
    ]);
    await publisher.close();
    server.stop();
  });

  test("no ConnAck within connectTimeoutMs rejects connect with CLIENT_ERR_CONNECT", async () => {
    const server = new RawFrameServer(undefined, 0, false); // never answers
    const error = await rejection(
      connect({
        role: "subscriber",
        port: server.port,
        framing: "frame",
        token: TOKEN,
        connectTimeoutMs: 50,
      }),
    );
    expect(error.code).toBe(ClientErrorCode.Connect);
    expect(error.reason).toContain("no ConnAck within 50 ms");
    server.stop();
  });

  test("a token with framing line is a bad option", async () => {
    const error = await rejection(connect({ role: "publisher", framing: "line", token: TOKEN }));
    expect(error.code).toBe(ClientErrorCode.BadOption);
  });
});
