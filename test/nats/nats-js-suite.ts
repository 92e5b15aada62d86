/**
 * The nats.js conformance suite (issue 20): the official TypeScript client (nats.js v3,
 * `@nats-io/transport-node`) must work against the server under test as it does against
 * nats-server 2.9: pub/sub with exact payload bytes, wildcards, queue groups, request/reply
 * and no-responders, headers, unsubscribe with a maximum, flush and drain. Auth, max_payload
 * and reconnect are in nats-js-session-cases.ts; users and permissions in
 * nats-js-permission-cases.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  connect,
  errors,
  headers,
  type Msg,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from "@nats-io/transport-node";
import { uniqueSubject } from "../support/nats-server.ts";
import { natsJsPermissionCases } from "./nats-js-permission-cases.ts";
import { natsJsSessionCases } from "./nats-js-session-cases.ts";
import { sharedServers } from "./suite-support.ts";
import type { NatsServerOptions, NatsTarget, RunningNats } from "./target.ts";

/** What the case files get from the suite. */
export interface NatsJsContext {
  readonly target: NatsTarget;
  /** The target's server for `options`, shared by the cases that ask for the same ones. */
  server(options?: NatsServerOptions): Promise<RunningNats>;
  /** A nats.js connection to `server`, closed after the case. */
  client(server: RunningNats, options?: Partial<NodeConnectionOptions>): Promise<NatsConnection>;
}

/** A subscription whose messages are kept (through a callback) until a case has enough. */
export class Inbox {
  readonly messages: Msg[] = [];
  readonly sub: Subscription;
  private wake: (() => void) | undefined;

  constructor(nc: NatsConnection, subject: string, options: { queue?: string; max?: number } = {}) {
    this.sub = nc.subscribe(subject, {
      ...options,
      callback: (error, msg) => {
        if (error) throw error;
        this.messages.push(msg);
        this.wake?.();
      },
    });
  }

  /** The first `count` messages, once they are in (fails after 5 s with how many came). */
  async first(count: number): Promise<Msg[]> {
    const deadline = performance.now() + 5_000;
    while (this.messages.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`inbox: ${this.messages.length} of ${count} messages`);
      const { promise, resolve } = Promise.withResolvers<void>();
      this.wake = resolve;
      const timer = setTimeout(resolve, left);
      await promise;
      clearTimeout(timer);
    }
    return this.messages.slice(0, count);
  }

  /** The payloads of the first `count` messages, as text. */
  async texts(count: number): Promise<string[]> {
    return (await this.first(count)).map((msg) => msg.string());
  }
}

/** "0", "1", ... as strings: the payloads the ordering cases send. */
function numbers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i));
}

/** Registers the nats.js cases against `target`; skipped, saying why, if it is missing. */
export function runNatsJsSuite(target: NatsTarget): void {
  describe.skipIf(target.missing !== undefined)(`nats.js v3 against ${target.name}`, () => {
    const server = sharedServers(target);
    const connections: NatsConnection[] = [];
    afterEach(async () => {
      await Promise.all(connections.splice(0).map((nc) => nc.close()));
    });
    const nats: NatsJsContext = {
      target,
      server,
      async client(running, options = {}) {
        const nc = await connect({ servers: running.url, ...options });
        connections.push(nc);
        return nc;
      },
    };
    const defaultClient = async () => nats.client(await server());

    test("publish/subscribe delivers every byte value unchanged, and an empty payload", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("bytes");
      const inbox = new Inbox(nc, subject);
      const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
      nc.publish(subject, payload);
      nc.publish(subject);
      const [full, empty] = await inbox.first(2);
      expect(full?.subject).toBe(subject);
      expect(full?.data).toEqual(payload);
      expect(empty?.data.length).toBe(0);
    });

    test("a 512 KiB payload arrives whole, and 1,000 messages arrive in order", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("order");
      const inbox = new Inbox(nc, subject);
      const big = Uint8Array.from({ length: 512 * 1024 }, (_, i) => (i * 31) & 0xff);
      nc.publish(subject, big);
      for (let i = 0; i < 1000; i++) nc.publish(subject, String(i));
      const [first, ...rest] = await inbox.first(1001);
      expect(first?.data).toEqual(big);
      expect(rest.map((msg) => msg.string())).toEqual(numbers(1000));
    });

    test("* matches exactly one token", async () => {
      const nc = await defaultClient();
      const base = uniqueSubject("star");
      const inbox = new Inbox(nc, `${base}.*`);
      for (const subject of [base, `${base}.a.b`, `${base}.a`]) nc.publish(subject, subject);
      await nc.flush();
      expect(inbox.messages.map((msg) => msg.subject)).toEqual([`${base}.a`]);
    });

    test("> matches one or more tokens, not the prefix itself", async () => {
      const nc = await defaultClient();
      const base = uniqueSubject("gt");
      const inbox = new Inbox(nc, `${base}.>`);
      for (const subject of [base, `${base}.a`, `${base}.a.b.c`]) nc.publish(subject, subject);
      await nc.flush();
      expect(inbox.messages.map((msg) => msg.subject)).toEqual([`${base}.a`, `${base}.a.b.c`]);
    });

    test("queue groups: each message to one member per group; a plain sub gets all", async () => {
      const running = await server();
      const [a, b, c, publisher] = await Promise.all([1, 2, 3, 4].map(() => nats.client(running)));
      const subject = uniqueSubject("queue");
      const workers = [a, b].map((nc) => new Inbox(nc as NatsConnection, subject, { queue: "w" }));
      const auditor = new Inbox(c as NatsConnection, subject, { queue: "audit" });
      const plain = new Inbox(a as NatsConnection, subject);
      await Promise.all([a, b, c].map((nc) => nc?.flush()));
      for (let i = 0; i < 50; i++) publisher?.publish(subject, String(i));
      expect(await plain.texts(50)).toEqual(numbers(50));
      expect(await auditor.texts(50)).toEqual(numbers(50));
      await Promise.all([a, b].map((nc) => nc?.flush()));
      const shared = workers.flatMap((inbox) => inbox.messages.map((msg) => msg.string()));
      expect(shared.sort((x, y) => Number(x) - Number(y))).toEqual(numbers(50));
    });

    test("request/reply: the responder's payload comes back to the requester", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("service");
      nc.subscribe(subject, {
        callback: (_err, msg) => {
          expect(msg.reply).toMatch(/^_INBOX\./);
          msg.respond(`echo:${msg.string()}`);
        },
      });
      await nc.flush();
      const reply = await nc.request(subject, "ping", { timeout: 2_000 });
      expect(reply.string()).toBe("echo:ping");
    });

    test("a request nobody listens to fails at once with a no-responders error", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("nobody");
      const failure = await nc.request(subject, "x", { timeout: 5_000 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(errors.RequestError);
      expect((failure as InstanceType<typeof errors.RequestError>).isNoResponders()).toBe(true);
      const cause = (failure as Error).cause;
      expect(cause).toBeInstanceOf(errors.NoRespondersError);
      expect((cause as InstanceType<typeof errors.NoRespondersError>).subject).toBe(subject);
    });

    test("headers round trip: every value, in order, with the key's case kept", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("headers");
      const inbox = new Inbox(nc, subject);
      const sent = headers();
      sent.append("X-Trace", "abc-123");
      sent.append("X-Multi", "one");
      sent.append("X-Multi", "two: with colon");
      sent.append("lower-case", 'a=b; c="d"');
      nc.publish(subject, "body", { headers: sent });
      const [msg] = await inbox.first(1);
      expect(msg?.string()).toBe("body");
      expect(msg?.headers?.get("X-Trace")).toBe("abc-123");
      expect(msg?.headers?.values("X-Multi")).toEqual(["one", "two: with colon"]);
      expect(msg?.headers?.keys().sort()).toEqual(["X-Multi", "X-Trace", "lower-case"]);
      expect(msg?.headers?.get("lower-case")).toBe('a=b; c="d"');
    });

    test("headers travel both ways in a request/reply", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("hreq");
      nc.subscribe(subject, {
        callback: (_err, msg) => {
          const out = headers();
          out.set("Seen", msg.headers?.get("Ask") ?? "none");
          msg.respond("ok", { headers: out });
        },
      });
      await nc.flush();
      const ask = headers();
      ask.set("Ask", "question-1");
      const reply = await nc.request(subject, "?", { timeout: 2_000, headers: ask });
      expect(reply.headers?.get("Seen")).toBe("question-1");
      expect(reply.string()).toBe("ok");
    });

    test("unsubscribe(3) ends the subscription after its third message", async () => {
      const nc = await defaultClient();
      const subject = uniqueSubject("unsub");
      const sub = nc.subscribe(subject);
      sub.unsubscribe(3);
      for (let i = 0; i < 10; i++) nc.publish(subject, String(i));
      const seen: string[] = [];
      for await (const msg of sub) seen.push(msg.string());
      expect(seen).toEqual(["0", "1", "2"]);
      expect(sub.isClosed()).toBe(true);
    });

    test("flush resolves once the server has the subscription: another client's message arrives", async () => {
      const running = await server();
      const [subscriber, publisher] = [await nats.client(running), await nats.client(running)];
      const subject = uniqueSubject("flush");
      const inbox = new Inbox(subscriber, subject);
      await subscriber.flush();
      publisher.publish(subject, "after flush");
      expect(await inbox.texts(1)).toEqual(["after flush"]);
    });

    test("noEcho: a connection does not get its own messages; others do", async () => {
      const running = await server();
      const quiet = await nats.client(running, { noEcho: true });
      const other = await nats.client(running);
      const subject = uniqueSubject("echo");
      const own = new Inbox(quiet, subject);
      const theirs = new Inbox(other, subject);
      await Promise.all([quiet.flush(), other.flush()]);
      quiet.publish(subject, "x");
      expect(await theirs.texts(1)).toEqual(["x"]);
      await quiet.flush();
      expect(own.messages.length).toBe(0);
    });

    test("drain delivers what was sent before it, then closes the connection", async () => {
      const running = await server();
      const [nc, publisher] = [await nats.client(running), await nats.client(running)];
      const subject = uniqueSubject("drain");
      const inbox = new Inbox(nc, subject);
      await nc.flush();
      for (let i = 0; i < 100; i++) publisher.publish(subject, String(i));
      await publisher.flush();
      await nc.drain();
      expect(await nc.closed()).toBeUndefined();
      expect(nc.isClosed()).toBe(true);
      expect(inbox.messages.map((msg) => msg.string())).toEqual(numbers(100));
    });

    natsJsSessionCases(nats);
    natsJsPermissionCases(nats);
  });
}
