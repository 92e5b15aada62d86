/**
 * Raw-protocol cases for users and their publish/subscribe permissions (issue 21), ported
 * from nats-server's test/user_authorization_test.go (TestUserAuthorizationProto,
 * TestUserAuthorizationAllowOnly, TestQueueSubscribePermissions) and server/client.go
 * (pubPermissionViolation, subPermissionViolation, canSubscribe, checkDenySub): the bytes
 * are those nats-server 2.9.10 sends. Part of raw-protocol-suite.ts, so every case runs
 * against nats-server and the relay.
 */
import { describe, expect, test } from "bun:test";
import type { RawNatsClient } from "./raw-client.ts";
import type { RawContext } from "./raw-protocol-suite.ts";
import type { NatsServerOptions, TestUser } from "./target.ts";

const VIOLATION = "-ERR 'Authorization Violation'\r\n";
const pubDenied = (subject: string) =>
  `-ERR 'Permissions Violation for Publish to "${subject}"'\r\n`;
const subDenied = (subject: string, queue?: string) =>
  `-ERR 'Permissions Violation for Subscription to "${subject}"${queue ? ` using queue "${queue}"` : ""}'\r\n`;

/** A cheap bcrypt hash (cost 4) of bob's password, made once so the options stay equal. */
export const BOB_HASH = Bun.password.hashSync("bobpw", { algorithm: "bcrypt", cost: 4 });

/** issue 21's example user (also in nats-js-permission-cases.ts). */
export const ALICE: TestUser = {
  user: "alice",
  pass: "alicepw",
  permissions: {
    publish: { allow: ["orders.>"], deny: ["orders.*.internal"] },
    subscribe: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.*.internal"] },
  },
};

const SERVER: NatsServerOptions = {
  authTimeout: 1,
  users: [
    ALICE,
    { user: "bob", pass: BOB_HASH },
    {
      user: "carol",
      pass: "carolpw",
      permissions: { subscribe: { allow: ["work", "work v1"] } },
    },
    { user: "dave", pass: "davepw", permissions: { publish: { allow: [] } } },
    { user: "eve", pass: "evepw", permissions: { subscribe: { deny: ["secret.*", "jobs bad"] } } },
  ],
};

export function rawPermissionCases(raw: RawContext): void {
  const as = (user: string, pass: string, connect: Record<string, unknown> = {}) =>
    raw.connected(SERVER, { user, pass, ...connect });
  const alice = (connect?: Record<string, unknown>) => as("alice", "alicepw", connect);
  const bob = () => as("bob", "bobpw");
  /** A SUB that the server has registered once this resolves. */
  const subscribed = async (client: RawNatsClient, sub: string) => {
    client.send(`SUB ${sub}\r\n`);
    await client.expectOpen();
  };

  describe("users and permissions", () => {
    test("INFO says auth_required: true", async () => {
      const { info } = await raw.open(SERVER);
      expect(info.auth_required).toBe(true);
    });

    test.each([
      ["a wrong password", "alice", "wrong"],
      ["an unknown user", "mallory", "alicepw"],
      ["a wrong password against a bcrypt hash", "bob", "wrong"],
      ["the bcrypt hash itself as the password", "bob", BOB_HASH],
    ])("CONNECT with %s: -ERR 'Authorization Violation', then FIN", async (_case, user, pass) => {
      const client = await as(user, pass);
      await client.expect(VIOLATION);
      await client.expectClosed();
    });

    test("a bcrypt password admits its user: +OK when verbose", async () => {
      const client = await as("bob", "bobpw", { verbose: true });
      await client.expect("+OK\r\n");
      client.send("SUB anything 1\r\nPUB anything 2\r\nok\r\n");
      await client.expect("+OK\r\n+OK\r\nMSG anything 1 2\r\nok\r\n");
    });

    test("an allowed PUB is delivered; a PUB outside allow gets -ERR, is dropped, and the connection stays", async () => {
      const receiver = await bob();
      await subscribed(receiver, "> 1");
      const client = await alice({ verbose: true });
      await client.expect("+OK\r\n");
      client.send("PUB other 2\r\nno\r\nPUB orders.new 3\r\nyes\r\n");
      await client.expect(`${pubDenied("other")}+OK\r\n`);
      await client.expectOpen();
      await receiver.expect("MSG orders.new 1 3\r\nyes\r\n");
    });

    test("deny wins over allow for PUB", async () => {
      const receiver = await bob();
      await subscribed(receiver, "orders.> 1");
      const client = await alice();
      client.send("PUB orders.eu.internal 2\r\nno\r\nPUB orders.eu.public 3\r\nyes\r\n");
      await client.expect(pubDenied("orders.eu.internal"));
      await client.expectOpen();
      await receiver.expect("MSG orders.eu.public 1 3\r\nyes\r\n");
    });

    test("an empty publish allow list is no list: every PUB goes out", async () => {
      const receiver = await bob();
      await subscribed(receiver, "any 1");
      const client = await as("dave", "davepw");
      client.send("PUB any 2\r\nok\r\n");
      await receiver.expect("MSG any 1 2\r\nok\r\n");
    });

    test("a SUB outside allow or inside deny gets -ERR and no subscription; the connection stays", async () => {
      const client = await alice({ verbose: true });
      await client.expect("+OK\r\n");
      client.send("SUB other 1\r\nSUB orders.eu.internal 2\r\nSUB orders.eu.public 3\r\n");
      await client.expect(`${subDenied("other")}${subDenied("orders.eu.internal")}+OK\r\n`);
      const sender = await bob();
      sender.send(
        "PUB other 1\r\na\r\nPUB orders.eu.internal 1\r\nb\r\nPUB orders.eu.public 1\r\nc\r\n",
      );
      await client.expect("MSG orders.eu.public 3 1\r\nc\r\n");
      await client.expectOpen();
    });

    test("a wildcard SUB covering a denied subject does not receive it", async () => {
      const client = await alice();
      await subscribed(client, "orders.> 1");
      const sender = await bob();
      sender.send("PUB orders.eu.internal 1\r\na\r\nPUB orders.eu.public 1\r\nb\r\n");
      await client.expect("MSG orders.eu.public 1 1\r\nb\r\n");
      await client.expectOpen();
    });

    test("a denied subject sent to several subscribers with the same sid skips only the filtered one", async () => {
      // The relay encodes such a run once for all receivers (subject-router.ts shared runs).
      const filtered = await alice();
      await subscribed(filtered, "orders.> 1");
      const others = [await bob(), await bob()];
      for (const other of others) await subscribed(other, "orders.> 1");
      const sender = await bob();
      sender.send(`${"PUB orders.a.internal 1\r\na\r\n".repeat(3)}PUB orders.a.public 1\r\nb\r\n`);
      for (const other of others) {
        await other.expect(
          `${"MSG orders.a.internal 1 1\r\na\r\n".repeat(3)}MSG orders.a.public 1 1\r\nb\r\n`,
        );
      }
      await filtered.expect("MSG orders.a.public 1 1\r\nb\r\n");
    });

    test("a queue member whose deny filter drops the message leaves it to the group's next member", async () => {
      const member = await alice();
      await subscribed(member, "orders.> grp 1");
      const other = await bob();
      await subscribed(other, "orders.> grp 1");
      const sender = await bob();
      sender.send("PUB orders.a.internal 1\r\na\r\n".repeat(4));
      const got = await other.messages(4);
      expect(got.map((m) => m.subject)).toEqual(Array(4).fill("orders.a.internal"));
      await member.expectOpen(); // nothing before the PONG
    });

    test("the deny filter starts only with a wildcard SUB that covers a deny rule", async () => {
      const client = await as("eve", "evepw");
      await subscribed(client, "*.bar 1"); // secret.* does not lie inside *.bar: no filter
      const sender = await bob();
      sender.send("PUB secret.bar 1\r\na\r\n");
      await client.expect("MSG secret.bar 1 1\r\na\r\n");
      await subscribed(client, "> 2"); // covers secret.*: the filter is on, for every sid
      sender.send("PUB secret.bar 1\r\nb\r\nPUB open.bar 1\r\nc\r\n");
      const got = await client.messages(2);
      expect(got.map((m) => `${m.subject} ${m.sid} ${m.payload}`).sort()).toEqual([
        "open.bar 1 c",
        "open.bar 2 c",
      ]);
    });

    test("queue permissions: a 'subject queue' allow rule admits that group only", async () => {
      const client = await as("carol", "carolpw", { verbose: true });
      await client.expect("+OK\r\n");
      client.send("SUB work 1\r\nSUB work v1 2\r\nSUB work v2 3\r\nSUB jobs 4\r\n");
      await client.expect(`+OK\r\n+OK\r\n${subDenied("work", "v2")}${subDenied("jobs")}`);
      await client.expectOpen();
    });

    test("queue permissions: a 'subject queue' deny rule refuses that group only", async () => {
      const client = await as("eve", "evepw", { verbose: true });
      await client.expect("+OK\r\n");
      client.send("SUB jobs bad 1\r\nSUB jobs good 2\r\nSUB jobs 3\r\n");
      await client.expect(`${subDenied("jobs", "bad")}+OK\r\n+OK\r\n`);
      await client.expectOpen();
    });

    test("reply subjects: a PUB's reply is not checked; publishing to it needs publish rights", async () => {
      const requester = await bob();
      await subscribed(requester, "_INBOX.x 9");
      const responder = await alice();
      await subscribed(responder, "orders.new 1");
      requester.send("PUB orders.new _INBOX.x 3\r\nreq\r\n");
      await responder.expect("MSG orders.new 1 _INBOX.x 3\r\nreq\r\n");
      responder.send("PUB _INBOX.x 3\r\nrep\r\nPUB orders.new _INBOX.x 2\r\nok\r\n");
      await responder.expect(pubDenied("_INBOX.x"));
      await responder.expect("MSG orders.new 1 _INBOX.x 2\r\nok\r\n");
      await requester.expectOpen(); // the denied reply never came
    });
  });
}
