/**
 * Raw-protocol cases for what a working connection exchanges: INFO, CONNECT (+OK when
 * verbose), SUB/PUB/MSG with every argument form, wildcards, queue groups, UNSUB with a
 * maximum, HPUB/HMSG, and no-responders. Ported from nats-server's test/proto_test.go
 * (TestProtoBasics, TestQueueSub, TestMultipleQueueSub, TestUnsubMax, TestDuplicateProtoSub)
 * and test/verbose_test.go; part of raw-protocol-suite.ts.
 */
import { describe, expect, test } from "bun:test";
import { uniqueSubject } from "../support/nats-server.ts";
import type { RawMessage } from "./raw-client.ts";
import type { RawContext } from "./raw-protocol-suite.ts";

/** `subject sid` of each delivery, sorted: deliveries to one client's subs come in any order. */
function routes(messages: readonly RawMessage[]): string[] {
  return messages.map((m) => `${m.subject} ${m.sid}`).sort();
}

export function rawMessageCases(raw: RawContext): void {
  describe("INFO and CONNECT", () => {
    test("INFO comes first, with server_id, version x.y.z, proto, headers and max_payload", async () => {
      const { info } = await raw.open();
      expect(typeof info.server_id).toBe("string");
      expect(info.server_id).not.toBe("");
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(typeof info.proto).toBe("number");
      expect(info.proto as number).toBeGreaterThanOrEqual(1);
      expect(info.headers).toBe(true);
      expect(typeof info.max_payload).toBe("number");
      expect(info.max_payload as number).toBeGreaterThan(0);
    });

    test("INFO's max_payload is the configured one", async () => {
      const { info } = await raw.open({ maxPayload: 16 });
      expect(info.max_payload).toBe(16);
    });

    test("PING before CONNECT is answered with PONG when no auth is set", async () => {
      const { client } = await raw.open();
      client.send("PING\r\n");
      await client.expect("PONG\r\n");
    });

    test("verbose is the default: a bare CONNECT {} gets +OK", async () => {
      const { client } = await raw.open();
      client.send("CONNECT {}\r\nPING\r\n");
      await client.expect("+OK\r\nPONG\r\n");
    });

    test("verbose: +OK after CONNECT, PUB, SUB and UNSUB; none after PING", async () => {
      const client = await raw.connected({}, { verbose: true });
      client.send("PUB foo 2\r\nok\r\nSUB foo 1\r\nUNSUB 1\r\nPING\r\n");
      await client.expect("+OK\r\n+OK\r\n+OK\r\n+OK\r\nPONG\r\n");
    });
  });

  describe("PUB, SUB and MSG", () => {
    test("MSG carries subject, sid, size and payload, byte for byte", async () => {
      const client = await raw.connected();
      client.send("SUB foo 1\r\nPUB foo 5\r\nhello\r\n");
      await client.expect("MSG foo 1 5\r\nhello\r\n");
    });

    test("a PUB with a reply subject gives MSG subject sid reply size", async () => {
      const client = await raw.connected();
      client.send("SUB foo 1\r\nPUB foo bar 2\r\nok\r\n");
      await client.expect("MSG foo 1 bar 2\r\nok\r\n");
    });

    test("an empty payload is MSG ... 0 then an empty line", async () => {
      const client = await raw.connected();
      client.send("SUB foo 1\r\nPUB foo 0\r\n\r\n");
      await client.expect("MSG foo 1 0\r\n\r\n");
    });

    test("the payload is taken by its size: CRLF, NUL and 0xFF inside pass through", async () => {
      const client = await raw.connected();
      client.send("SUB foo 1\r\nPUB foo 6\r\na\r\nb\x00\xff\r\n");
      await client.expect("MSG foo 1 6\r\na\r\nb\x00\xff\r\n");
    });

    test("ops are case-insensitive; arguments split on runs of spaces and tabs", async () => {
      const client = await raw.connected();
      client.send("sub foo \t 1\r\npub\tfoo  bar\t2\r\nok\r\nping\r\n");
      await client.expect("MSG foo 1 bar 2\r\nok\r\nPONG\r\n");
    });

    test("* matches exactly one token, > one or more; a literal SUB only itself", async () => {
      const client = await raw.connected();
      client.send("SUB foo.* 1\r\nSUB foo.> 2\r\nSUB > 3\r\nSUB foo 4\r\n");
      client.send("PUB foo.bar 1\r\na\r\nPUB foo.bar.baz 1\r\nb\r\nPUB foo 1\r\nc\r\n");
      const delivered = await client.messages(7);
      expect(routes(delivered)).toEqual([
        "foo 3",
        "foo 4",
        "foo.bar 1",
        "foo.bar 2",
        "foo.bar 3",
        "foo.bar.baz 2",
        "foo.bar.baz 3",
      ]);
      await client.expectOpen();
    });

    test("a second SUB with a sid in use is ignored (one delivery, not two)", async () => {
      const client = await raw.connected();
      client.send("SUB foo 1\r\nSUB foo 1\r\nPUB foo 2\r\nok\r\nPING\r\n");
      await client.expect("MSG foo 1 2\r\nok\r\nPONG\r\n");
    });

    test("a PUB split at every byte lands once, unchanged", async () => {
      const client = await raw.connected();
      client.send("SUB foo 1\r\n");
      const pub = "PUB foo bar 5\r\nhello\r\n";
      for (let at = 1; at < pub.length; at++) {
        client.send(pub.slice(0, at));
        // A macrotask between the halves, so the server tends to read them separately.
        await new Promise((resolve) => setTimeout(resolve, 0));
        client.send(pub.slice(at));
      }
      client.send("PING\r\n");
      await client.expect(`${"MSG foo 1 bar 5\r\nhello\r\n".repeat(pub.length - 1)}PONG\r\n`);
    });
  });

  describe("UNSUB", () => {
    test("UNSUB sid 2 delivers two more messages, then none", async () => {
      const client = await raw.connected();
      client.send(`SUB foo 22\r\nUNSUB 22 2\r\n${"PUB foo 2\r\nok\r\n".repeat(5)}PING\r\n`);
      await client.expect("MSG foo 22 2\r\nok\r\nMSG foo 22 2\r\nok\r\nPONG\r\n");
    });

    test("UNSUB with a max already reached removes the subscription at once", async () => {
      const client = await raw.connected();
      client.send(
        "SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nUNSUB 1 1\r\nPUB foo 1\r\nc\r\n",
      );
      client.send("PING\r\n");
      await client.expect("MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\nPONG\r\n");
    });

    test("UNSUB of an unknown sid is accepted silently", async () => {
      const client = await raw.connected();
      client.send("UNSUB 99\r\nUNSUB 98 5\r\n");
      await client.expectOpen();
    });
  });

  test("queue groups: one member of each group gets each message; plain subs get all", async () => {
    const subject = uniqueSubject("queue");
    const client = await raw.connected();
    client.send(`SUB ${subject} g1 1\r\nSUB ${subject} g1 2\r\nSUB ${subject} g2 3\r\n`);
    client.send(`SUB ${subject} 4\r\n`);
    const count = 40;
    for (let i = 0; i < count; i++)
      client.send(`PUB ${subject} 3\r\n${String(i).padStart(3, "0")}\r\n`);
    const bySid = new Map<string, string[]>();
    for (const message of await client.messages(count * 3)) {
      bySid.set(message.sid, [...(bySid.get(message.sid) ?? []), message.payload]);
    }
    const all = Array.from({ length: count }, (_, i) => String(i).padStart(3, "0"));
    const g1 = [...(bySid.get("1") ?? []), ...(bySid.get("2") ?? [])].sort();
    expect(g1).toEqual(all);
    expect(bySid.get("3")).toEqual(all);
    expect(bySid.get("4")).toEqual(all);
    // Spread over both members (nats-server picks at random: each gets 40 +-15 in its tests).
    expect(bySid.get("1")?.length ?? 0).toBeGreaterThan(0);
    expect(bySid.get("2")?.length ?? 0).toBeGreaterThan(0);
    await client.expectOpen();
  });

  describe("headers (HPUB/HMSG)", () => {
    const block = "NATS/1.0\r\nA: b\r\nA: c\r\n\r\n"; // 24 bytes

    test("HPUB reaches a headers client as HMSG with the same header block and payload", async () => {
      const client = await raw.connected({}, { headers: true });
      client.send(`SUB foo 1\r\nHPUB foo 24 26\r\n${block}hi\r\nHPUB foo r 24 24\r\n${block}\r\n`);
      await client.expect(`HMSG foo 1 24 26\r\n${block}hi\r\nHMSG foo 1 r 24 24\r\n${block}\r\n`);
    });

    test("a client without headers gets MSG with the header block stripped", async () => {
      const subject = uniqueSubject("strip");
      const plain = await raw.connected();
      plain.send(`SUB ${subject} 7\r\n`);
      await plain.expectOpen();
      const publisher = await raw.connected({}, { headers: true });
      publisher.send(`HPUB ${subject} reply 24 26\r\n${block}hi\r\n`);
      await plain.expect(`MSG ${subject} 7 reply 2\r\nhi\r\n`);
    });

    test("no responders: HMSG 503 on the publisher's own reply subscription, and only there", async () => {
      const client = await raw.connected({}, { headers: true, no_responders: true });
      const nobody = uniqueSubject("nobody");
      client.send(`SUB _INBOX.x.* 1\r\nPUB ${nobody} _INBOX.x.1 2\r\nok\r\n`);
      await client.expect("HMSG _INBOX.x.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
      // Not for a reply subject the publisher itself does not subscribe to.
      client.send(`PUB ${nobody} _INBOX.y 2\r\nok\r\n`);
      await client.expectOpen();
    });
  });
}
