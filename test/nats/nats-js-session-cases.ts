/**
 * nats.js cases about the session rather than the messages: token and user/password auth
 * (plain and bcrypt), max_payload as INFO announces it, and reconnecting after the server
 * restarts on the same port. Part of nats-js-suite.ts.
 */
import { describe, expect, test } from "bun:test";
import { errors, type Status } from "@nats-io/transport-node";
import { uniqueSubject } from "../support/nats-server.ts";
import { Inbox, type NatsJsContext } from "./nats-js-suite.ts";
import type { RunningNats } from "./target.ts";

/** How connecting to `server` with these credentials ends: "ok" or the error's class name. */
async function outcome(
  nats: NatsJsContext,
  server: RunningNats,
  credentials: { token?: string; user?: string; pass?: string },
): Promise<string> {
  try {
    await nats.client(server, { ...credentials, maxReconnectAttempts: 0 });
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

/** bcrypt of `pass` at the lowest cost (the server's check is then quick), `$2b$` as Bun makes it. */
function bcrypt(pass: string): Promise<string> {
  return Bun.password.hash(pass, { algorithm: "bcrypt", cost: 4 });
}

export function natsJsSessionCases(nats: NatsJsContext): void {
  describe("auth", () => {
    test("token: the right one connects; a wrong or missing one is an AuthorizationError", async () => {
      const server = await nats.server({ token: "s3cr3t" });
      expect(await outcome(nats, server, { token: "s3cr3t" })).toBe("ok");
      expect(await outcome(nats, server, { token: "wrong" })).toBe("AuthorizationError");
      expect(await outcome(nats, server, {})).toBe("AuthorizationError");
    });

    test("user and plain password: only the right pair connects", async () => {
      const server = await nats.server({ user: "derek", pass: "foobar" });
      expect(await outcome(nats, server, { user: "derek", pass: "foobar" })).toBe("ok");
      expect(await outcome(nats, server, { user: "derek", pass: "foobaz" })).toBe(
        "AuthorizationError",
      );
      expect(await outcome(nats, server, { user: "other", pass: "foobar" })).toBe(
        "AuthorizationError",
      );
    });

    test("user and a $2b$ bcrypt hash (as Bun.password makes it): the password connects, the hash does not", async () => {
      const hash = await bcrypt("foobar");
      expect(hash.startsWith("$2b$04$")).toBe(true);
      const server = await nats.server({ user: "derek", pass: hash });
      expect(await outcome(nats, server, { user: "derek", pass: "foobar" })).toBe("ok");
      expect(await outcome(nats, server, { user: "derek", pass: hash })).toBe("AuthorizationError");
      expect(await outcome(nats, server, { user: "derek", pass: "foobaz" })).toBe(
        "AuthorizationError",
      );
    });

    test("the same hash with the $2a$ prefix (Go's bcrypt writes it) is accepted too", async () => {
      const hash = `$2a$${(await bcrypt("foobar")).slice(4)}`;
      const server = await nats.server({ user: "derek", pass: hash });
      expect(await outcome(nats, server, { user: "derek", pass: "foobar" })).toBe("ok");
      expect(await outcome(nats, server, { user: "derek", pass: "foobaz" })).toBe(
        "AuthorizationError",
      );
    });
  });

  test("max_payload: INFO announces it, a payload of that size is delivered, one byte more is refused by nats.js", async () => {
    const nc = await nats.client(await nats.server({ maxPayload: 1024 }));
    expect(nc.info?.max_payload).toBe(1024);
    const subject = uniqueSubject("max");
    const inbox = new Inbox(nc, subject);
    const thrown = (() => {
      try {
        nc.publish(subject, new Uint8Array(1025));
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(errors.InvalidArgumentError);
    nc.publish(subject, new Uint8Array(1024).fill(7));
    const [msg] = await inbox.first(1);
    expect(msg?.data).toEqual(new Uint8Array(1024).fill(7));
    expect(nc.isClosed()).toBe(false);
  });

  test("after the server restarts on the same port, a subscription keeps receiving", async () => {
    // Its own server, not a shared one: the case stops it.
    const first = await nats.target.start({});
    let second: RunningNats | undefined;
    const nc = await nats.client(first, { reconnectTimeWait: 20, reconnectJitter: 0 });
    try {
      const subject = uniqueSubject("reconnect");
      const inbox = new Inbox(nc, subject);
      nc.publish(subject, "before");
      expect(await inbox.texts(1)).toEqual(["before"]);

      const seen: Status["type"][] = [];
      const reconnected = (async () => {
        for await (const status of nc.status()) {
          seen.push(status.type);
          if (status.type === "reconnect") return;
        }
      })();
      await first.stop();
      second = await nats.target.start({ port: first.port });
      await reconnected;
      expect(seen).toContain("disconnect");

      nc.publish(subject, "after");
      expect(await inbox.texts(2)).toEqual(["before", "after"]);
    } finally {
      await nc.close();
      await second?.stop();
    }
  });
}
