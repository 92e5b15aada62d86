/**
 * nats.js cases for users and their permissions (issue 21): what the official client sees
 * when nats-server 2.9 refuses an operation. nats.js v3 (nats-core protocol.js processError)
 * turns `-ERR 'Permissions Violation for Publish to "S"'` into a `PermissionViolationError`
 * (operation "publish", subject S) that it hands to `nc.status()` as `{type: "error"}` and
 * otherwise ignores: the connection stays. A refused subscription gets the same error in its
 * callback, and `sub.closed` resolves to it. Bad credentials reject `connect` with an
 * `AuthorizationError`. Part of nats-js-suite.ts, so every case runs against both servers.
 */
import { describe, expect, test } from "bun:test";
import { errors, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { Inbox, type NatsJsContext } from "./nats-js-suite.ts";
import { ALICE, BOB_HASH } from "./raw-permission-cases.ts";
import type { NatsServerOptions, RunningNats } from "./target.ts";

const PASSWORDS: Record<string, string> = {
  alice: "alicepw",
  bob: "bobpw",
  carol: "carolpw",
  svc: "svcpw",
};

const SERVER: NatsServerOptions = {
  users: [
    ALICE,
    { user: "bob", pass: BOB_HASH },
    { user: "carol", pass: "carolpw", permissions: { subscribe: { allow: ["work", "work v1"] } } },
    {
      user: "svc",
      pass: "svcpw",
      permissions: { publish: { allow: ["_INBOX.>"] }, subscribe: { allow: ["orders.service"] } },
    },
  ],
};

type PermissionError = InstanceType<typeof errors.PermissionViolationError>;

/** The next PermissionViolationError that `nc` reports through its status iterator. */
async function nextViolation(nc: NatsConnection): Promise<PermissionError> {
  for await (const status of nc.status()) {
    if (status.type === "error" && status.error instanceof errors.PermissionViolationError) {
      return status.error;
    }
  }
  throw new Error("status iterator ended without a permissions violation");
}

/** What a subscription's `closed` resolved to: the error that ended it, as a PermissionViolationError. */
async function refusal(sub: Subscription): Promise<PermissionError> {
  const ended = await sub.closed;
  expect(ended).toBeInstanceOf(errors.PermissionViolationError);
  return ended as PermissionError;
}

let serial = 0;
/** `orders.<unique>`: inside alice's rights, distinct per case. */
function orderSubject(tag: string): string {
  serial += 1;
  return `orders.${tag}${process.pid}x${serial}`;
}

export function natsJsPermissionCases(nats: NatsJsContext): void {
  const server = () => nats.server(SERVER);
  const as = async (user: string, running?: RunningNats) =>
    nats.client(running ?? (await server()), { user, pass: PASSWORDS[user] as string });

  describe("users and permissions", () => {
    test("an allowed publish is delivered; a denied one is a PermissionViolationError status and the connection stays", async () => {
      const running = await server();
      const [alice, bob] = [await as("alice", running), await as("bob", running)];
      const inbox = new Inbox(bob, ">");
      await bob.flush();
      const subject = orderSubject("pub");
      const violation = nextViolation(alice);
      alice.publish("other", "no");
      const error = await violation;
      expect(error.operation).toBe("publish");
      expect(error.subject).toBe("other");
      expect(error.message).toBe('Permissions Violation for Publish to "other"');
      alice.publish(subject, "yes");
      await alice.flush();
      expect(alice.isClosed()).toBe(false);
      const [msg] = await inbox.first(1);
      expect(`${msg?.subject} ${msg?.string()}`).toBe(`${subject} yes`);
    });

    test("deny wins over allow for publish", async () => {
      const running = await server();
      const [alice, bob] = [await as("alice", running), await as("bob", running)];
      const inbox = new Inbox(bob, "orders.>");
      await bob.flush();
      const violation = nextViolation(alice);
      alice.publish("orders.eu.internal", "no");
      alice.publish("orders.eu.public", "yes");
      expect((await violation).subject).toBe("orders.eu.internal");
      expect((await inbox.first(1)).map((msg) => msg.subject)).toEqual(["orders.eu.public"]);
      await alice.flush();
      expect(inbox.messages.length).toBe(1);
    });

    test("a subscription outside allow or inside deny is closed with the error; an allowed one works", async () => {
      const running = await server();
      const [alice, bob] = [await as("alice", running), await as("bob", running)];
      const outside = alice.subscribe("other");
      const denied = alice.subscribe("orders.eu.internal");
      const subject = orderSubject("sub");
      const allowed = new Inbox(alice, subject);
      const [first, second] = [await refusal(outside), await refusal(denied)];
      expect([first.operation, first.subject]).toEqual(["subscription", "other"]);
      expect([second.operation, second.subject]).toEqual(["subscription", "orders.eu.internal"]);
      await alice.flush();
      bob.publish(subject, "ok");
      expect(await allowed.texts(1)).toEqual(["ok"]);
      expect(alice.isClosed()).toBe(false);
    });

    test("a wildcard subscription covering a denied subject does not receive it", async () => {
      const running = await server();
      const [alice, bob] = [await as("alice", running), await as("bob", running)];
      const inbox = new Inbox(alice, "orders.>");
      await alice.flush();
      bob.publish("orders.eu.internal", "hidden");
      bob.publish("orders.eu.public", "seen");
      await bob.flush();
      expect(await inbox.texts(1)).toEqual(["seen"]);
      await alice.flush();
      expect(inbox.messages.map((msg) => msg.subject)).toEqual(["orders.eu.public"]);
    });

    test("queue subscriptions: a 'subject queue' allow rule admits that group only", async () => {
      const running = await server();
      const [carol, bob] = [await as("carol", running), await as("bob", running)];
      const member = new Inbox(carol, "work", { queue: "v1" });
      const other = carol.subscribe("work", { queue: "v2" });
      const error = await refusal(other);
      expect([error.operation, error.subject, error.queue]).toEqual(["subscription", "work", "v2"]);
      await carol.flush();
      for (let i = 0; i < 3; i++) bob.publish("work", String(i));
      expect(await member.texts(3)).toEqual(["0", "1", "2"]);
    });

    test("request/reply: the responder may publish the reply because _INBOX.> allows it", async () => {
      const running = await server();
      const [alice, svc] = [await as("alice", running), await as("svc", running)];
      svc.subscribe("orders.service", {
        callback: (_err, msg) => {
          msg.respond(`echo:${msg.string()}`);
        },
      });
      await svc.flush();
      const reply = await alice.request("orders.service", "ping", { timeout: 2_000 });
      expect(reply.string()).toBe("echo:ping");
      // The same user may not publish outside _INBOX.>.
      const violation = nextViolation(svc);
      svc.publish("orders.service", "no");
      expect((await violation).subject).toBe("orders.service");
    });

    test("bad credentials: a wrong password or an unknown user is an AuthorizationError", async () => {
      const running = await server();
      for (const [user, pass] of [
        ["alice", "wrong"],
        ["mallory", "alicepw"],
        ["bob", "wrong"],
        ["bob", BOB_HASH],
      ]) {
        const failure = await nats
          .client(running, { user, pass, maxReconnectAttempts: 0 })
          .catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(errors.AuthorizationError);
      }
    });

    test("a user whose password is a bcrypt hash connects with the password and may do everything", async () => {
      const running = await server();
      const bob = await as("bob", running);
      const inbox = new Inbox(bob, "anything.at.all");
      await bob.flush();
      bob.publish("anything.at.all", "ok");
      expect(await inbox.texts(1)).toEqual(["ok"]);
    });
  });
}
