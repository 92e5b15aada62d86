/**
 * Raw-protocol cases for bad input and limits, and for each whether the server keeps the
 * connection (it then answers a PING) or closes it (-ERR, if any, then a FIN). Ported from
 * nats-server's test/proto_test.go (TestProtoErr, TestPubToArgState, TestSubToArgState,
 * TestControlLineMaximums, TestIncompletePubArg), pedantic_test.go and maxpayload_test.go
 * (TestMaxPayload, TestMaxPayloadOverrun); the texts are server/errors.go's and parser.go's.
 * "helloXX" is TestIncompletePubArg's case: a payload that overruns its size.
 * Part of raw-protocol-suite.ts.
 */
import { describe, test } from "bun:test";
import type { RawContext } from "./raw-protocol-suite.ts";

const UNKNOWN_OP = "-ERR 'Unknown Protocol Operation'\r\n";

export function rawErrorCases(raw: RawContext): void {
  describe("errors that keep the connection open", () => {
    test("SUB with an empty token or a > before the end: -ERR 'Invalid Subject' (pedantic or not)", async () => {
      const client = await raw.connected();
      for (const subject of ["foo.", ".foo", "foo..bar", "foo.>.bar"]) {
        client.send(`SUB ${subject} 1\r\n`);
        await client.expect("-ERR 'Invalid Subject'\r\n");
      }
      await client.expectOpen();
    });

    test("pedantic: PUB to a wildcard or malformed subject gets -ERR 'Invalid Publish Subject'", async () => {
      const client = await raw.connected({}, { pedantic: true });
      for (const subject of ["foo.*", "foo.>", "foo.", ".foo", "foo..*"]) {
        client.send(`PUB ${subject} 2\r\nok\r\n`);
        await client.expect("-ERR 'Invalid Publish Subject'\r\n");
      }
      await client.expectOpen();
    });

    test("a SUB over max_subscriptions gets -ERR 'maximum subscriptions exceeded' and is not made", async () => {
      const client = await raw.connected({ maxSubscriptions: 2 });
      client.send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n");
      await client.expect("-ERR 'maximum subscriptions exceeded'\r\n");
      client.send("PUB c 1\r\nx\r\nPUB a 1\r\ny\r\n");
      await client.expect("MSG a 1 1\r\ny\r\n");
      await client.expectOpen();
    });

    test("a PUB of exactly max_payload bytes is delivered", async () => {
      const client = await raw.connected({ maxPayload: 16 });
      client.send("SUB foo 1\r\nPUB foo 16\r\n0123456789abcdef\r\n");
      await client.expect("MSG foo 1 16\r\n0123456789abcdef\r\n");
    });

    test("a control line of exactly max_control_line bytes (after the op) is accepted", async () => {
      const client = await raw.connected({ maxControlLine: 64 });
      const subject = "s".repeat(62); // "SUB " + subject + " 1": 64 bytes of arguments
      client.send(`SUB ${subject} 1\r\nPUB ${subject} 1\r\nx\r\n`);
      await client.expect(`MSG ${subject} 1 1\r\nx\r\n`);
    });
  });

  describe("errors that close the connection: -ERR, then FIN", () => {
    test.each([
      ["ZZZ\r\n", "an unknown op"],
      ["PUBS foo 2\r\nok\r\n", "PUB followed by a letter"],
      ["SUBZZZ foo 1\r\n", "SUB followed by a letter"],
      ["UNSUB\r\n", "UNSUB with no space after it"],
      ["SUB foo 1\r\nPUB foo 5\r\nhelloXX\r\n", "a payload longer than its size (not delivered)"],
    ])("%j (%s): -ERR 'Unknown Protocol Operation'", async (input) => {
      const client = await raw.connected();
      client.send(input);
      await client.expect(UNKNOWN_OP);
      await client.expectClosed();
    });

    test("an unterminated control line past max_control_line: -ERR 'maximum control line exceeded'", async () => {
      const client = await raw.connected({ maxControlLine: 64 });
      client.send(`PUB foo ${"2".repeat(80)}`);
      await client.expect("-ERR 'maximum control line exceeded'\r\n");
      await client.expectClosed();
    });

    test("a complete control line past max_control_line: -ERR 'maximum control line exceeded'", async () => {
      const client = await raw.connected({ maxControlLine: 64 });
      client.send(`SUB ${"s".repeat(63)} 1\r\n`);
      await client.expect("-ERR 'maximum control line exceeded'\r\n");
      await client.expectClosed();
    });

    test.each([
      ["17", "one byte over max_payload"],
      ["199380988", "far over, within int64"],
    ])("PUB foo %s (%s): -ERR 'Maximum Payload Violation'", async (size) => {
      const client = await raw.connected({ maxPayload: 16 });
      client.send(`PUB foo ${size}\r\n`);
      await client.expect("-ERR 'Maximum Payload Violation'\r\n");
      await client.expectClosed();
    });

    test("CONNECT with no_responders but not headers: -ERR 'no responders requires headers support'", async () => {
      const client = await raw.connected({}, { no_responders: true });
      await client.expect("-ERR 'no responders requires headers support'\r\n");
      await client.expectClosed();
    });
  });

  describe("errors that close the connection with no -ERR at all", () => {
    test.each([
      ["PUB foo\r\n", "PUB without a size"],
      ["PUB foo bar\r\nok\r\n", "PUB with a size that is not a number"],
      ["PUB foo -1\r\n\r\n", "PUB with a negative size"],
      ["PUB foo 18446744073709551615123\r\n", "PUB with a size past int64"],
      ["PUB a b c 2\r\nok\r\n", "PUB with four arguments"],
      ["SUB foo\r\n", "SUB without a sid"],
      ["SUB foo q 1 x\r\n", "SUB with four arguments"],
      ["UNSUB \r\n", "UNSUB without a sid"],
      ["HPUB foo 2 2\r\nok\r\n", "HPUB from a client that did not announce headers"],
    ])("%j (%s)", async (input) => {
      const client = await raw.connected();
      client.send(input);
      await client.expectClosed();
    });

    test.each([
      ["HPUB foo 30 24\r\n", "a header size over the total"],
      ["HPUB foo 24\r\n", "one size only"],
    ])("%j (%s), from a client that announced headers", async (input) => {
      const client = await raw.connected({}, { headers: true });
      client.send(input);
      await client.expectClosed();
    });

    test("a CONNECT that is not JSON", async () => {
      const { client } = await raw.open();
      client.send('CONNECT {"verbose":false\r\n');
      await client.expectClosed();
    });
  });
}
