/**
 * Raw-protocol cases for a session's lifecycle: authentication (token, user and password,
 * the auth timeout) and the server's keepalive PINGs. Ported from nats-server's
 * test/auth_test.go (TestNoAuthClient, TestAuthClientBadToken, TestAuthClientNoConnect,
 * TestAuthClientGoodConnect, TestAuthClientFailOnEverythingElse, the user/password tests) and
 * test/ping_test.go (TestPingInterval, TestUnpromptedPong), with the times made short.
 * Part of raw-protocol-suite.ts.
 */
import { describe, expect, test } from "bun:test";
import type { RawContext } from "./raw-protocol-suite.ts";
import type { NatsServerOptions } from "./target.ts";

const VIOLATION = "-ERR 'Authorization Violation'\r\n";

export function rawSessionCases(raw: RawContext): void {
  describe("token auth", () => {
    const server: NatsServerOptions = { token: "_YZZ22_", authTimeout: 0.25 };

    test("INFO says auth_required: true", async () => {
      const { info } = await raw.open(server);
      expect(info.auth_required).toBe(true);
    });

    test("the right token: +OK when verbose, then the session works", async () => {
      const client = await raw.connected(server, { verbose: true, auth_token: "_YZZ22_" });
      await client.expect("+OK\r\n");
      client.send("SUB foo 1\r\nPUB foo 2\r\nok\r\n");
      await client.expect("+OK\r\n+OK\r\nMSG foo 1 2\r\nok\r\n");
    });

    test.each([
      [{ auth_token: "ZZZ" }, "a wrong token"],
      [{}, "no token"],
      [{ user: "derek", pass: "_YZZ22_" }, "the token as a password"],
    ])("CONNECT with %j (%s): -ERR 'Authorization Violation', then FIN", async (connect) => {
      const client = await raw.connected(server, connect);
      await client.expect(VIOLATION);
      await client.expectClosed();
    });

    test.each(["PING\r\n", "PUB foo 2\r\nok\r\n", "SUB foo 1\r\n"])(
      "%j before CONNECT: -ERR 'Authorization Violation', then FIN",
      async (input) => {
        const { client } = await raw.open(server);
        client.send(input);
        await client.expect(VIOLATION);
        await client.expectClosed();
      },
    );

    test("a second CONNECT is checked again: a wrong token then closes the session", async () => {
      const client = await raw.connected(server, { auth_token: "_YZZ22_" });
      await client.expectOpen();
      client.send('CONNECT {"verbose":false,"auth_token":"ZZZ"}\r\n');
      await client.expect(VIOLATION);
      await client.expectClosed();
    });

    test("no CONNECT within the auth timeout: -ERR 'Authentication Timeout', then FIN", async () => {
      const { client } = await raw.open(server);
      const opened = performance.now();
      await client.expect("-ERR 'Authentication Timeout'\r\n");
      await client.expectClosed();
      expect(performance.now() - opened).toBeGreaterThanOrEqual(200);
    });
  });

  describe("user and password auth", () => {
    const server: NatsServerOptions = { user: "derek", pass: "foobar" };

    test("the right user and password are accepted", async () => {
      const client = await raw.connected(server, { user: "derek", pass: "foobar" });
      await client.expectOpen();
    });

    test.each([
      [{}, "neither"],
      [{ user: "derekzz", pass: "foobar" }, "a wrong user"],
      [{ user: "derek", pass: "ZZ" }, "a wrong password"],
      [{ auth_token: "foobar" }, "the password as a token"],
    ])("CONNECT with %j (%s): -ERR 'Authorization Violation', then FIN", async (connect) => {
      const client = await raw.connected(server, connect);
      await client.expect(VIOLATION);
      await client.expectClosed();
    });
  });

  describe("keepalive PINGs", () => {
    const server: NatsServerOptions = { pingInterval: 0.1, maxPingsOut: 2 };

    test("an idle client gets ping_max PINGs, then -ERR 'Stale Connection' and FIN", async () => {
      const client = await raw.connected(server);
      await client.expect("PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
      await client.expectClosed();
    });

    test("unprompted PONGs do not count: the PINGs still come", async () => {
      const client = await raw.connected(server);
      client.send("PONG\r\n".repeat(20));
      await client.expect("PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
      await client.expectClosed();
    });

    test("a client that answers each PING with PONG stays connected", async () => {
      const client = await raw.connected(server);
      // Four PINGs in a row, none of them 'Stale Connection': the third came past the point
      // where an idle client is cut.
      for (let i = 0; i < 4; i++) {
        await client.expect("PING\r\n");
        client.send("PONG\r\n");
      }
    });
  });
}
