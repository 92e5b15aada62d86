/**
 * NATS subjects across relay nodes joined through a real nats-server (issue 21): subscribers
 * on one node receive what NATS clients (and line publishers) of another node publish,
 * wildcards included, in order; a queue group gets each message once cluster-wide;
 * request/reply crosses nodes, and no-responders is answered only when no node has interest.
 * The clients are nats.js, the official client.
 */
import { afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { RelayConfig } from "../../src/cli/config.ts";
import { decodeInterest, encodeInterest, InterestKind } from "../../src/cluster/subject-wire.ts";
import { parseNodeId } from "../../src/cluster/wire.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { TestRelay } from "../support/harness.ts";
import {
  clusterConnected,
  NatsServer,
  natsMissing,
  stopNatsServersAfterAll,
  uniqueSubject,
} from "../support/nats-server.ts";

stopNatsServersAfterAll();
setDefaultTimeout(20_000);

let nats: NatsServer;
beforeAll(async () => {
  if (!natsMissing) nats = await NatsServer.start();
});

const started: TestRelay[] = [];
const clients: NatsConnection[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  for (const r of started.splice(0)) await r.stop();
});

/** `count` nodes on one cluster subject, each with a NATS port, all connected. */
async function nodes(count: number, overrides: Partial<RelayConfig> = {}): Promise<TestRelay[]> {
  const clusterSubject = uniqueSubject("subjects");
  const made: TestRelay[] = [];
  for (let i = 0; i < count; i++) {
    const node = new TestRelay({
      cluster: [nats.url],
      clusterSubject,
      nodeId: `00000000000000a${i}`,
      natsPort: 0,
      ...overrides,
    });
    started.push(node);
    made.push(node);
  }
  await Promise.all(made.map((node) => node.waitFor(clusterConnected(false))));
  return made;
}

/** A nats.js client of `node`'s NATS port. */
async function client(node: TestRelay, name: string): Promise<NatsConnection> {
  const nc = await connect({ port: node.relay.natsPort as number, name, reconnect: false });
  clients.push(nc);
  return nc;
}

/** Resolves once `node` knows that another node has interest matching `subject` (or not). */
function interest(node: TestRelay, subject: string, wanted = true): Promise<RelayEvent> {
  const has = () => node.relay.backplane?.subjects?.hasInterest(subject) === wanted;
  return node.waitFor((event) => event.type === "cluster_interest" && has());
}

/** Collects what `sub` receives until `count` messages (as text, with their subjects). */
async function collect(sub: Subscription, count: number): Promise<string[]> {
  const got: string[] = [];
  for await (const m of sub) {
    got.push(`${m.subject} ${m.string()}`);
    if (got.length === count) break;
  }
  return got;
}

describe.skipIf(natsMissing !== undefined)("NATS subjects across nodes", () => {
  test("wildcard and literal subscriptions on B get what A publishes, in publish order", async () => {
    const [a, b] = (await nodes(2)) as [TestRelay, TestRelay];
    const [pub, sub] = [await client(a, "pub"), await client(b, "sub")];
    const star = sub.subscribe("orders.*");
    const full = sub.subscribe("orders.>");
    const literal = sub.subscribe("orders.eu");
    await sub.flush();
    await interest(a, "orders.eu.x");
    await interest(a, "orders.us");
    const count = 2000;
    const sent: string[] = [];
    for (let i = 0; i < count; i++) {
      const subject = i % 3 === 0 ? "orders.eu" : i % 3 === 1 ? "orders.us" : "orders.eu.x";
      pub.publish(subject, `m${i}`);
      sent.push(`${subject} m${i}`);
    }
    pub.publish("other.thing", "never");
    await pub.flush();
    const [gotStar, gotFull, gotLiteral] = await Promise.all([
      collect(star, sent.filter((m) => !m.startsWith("orders.eu.x")).length),
      collect(full, count),
      collect(literal, sent.filter((m) => m.startsWith("orders.eu ")).length),
    ]);
    expect(gotFull).toEqual(sent);
    expect(gotStar).toEqual(sent.filter((m) => !m.startsWith("orders.eu.x")));
    expect(gotLiteral).toEqual(sent.filter((m) => m.startsWith("orders.eu ")));
    const stats = b.relay.backplane?.stats();
    expect(stats?.lost).toEqual({
      not_connected: 0,
      too_large: 0,
      slow_nats: 0,
      gap: 0,
      no_member: 0,
    });
  });

  test("a queue group spread over nodes gets each message exactly once cluster-wide", async () => {
    const [a, b, c] = (await nodes(3)) as [TestRelay, TestRelay, TestRelay];
    const subject = "jobs.run";
    const received: { node: string; data: string }[] = [];
    const done: Promise<void>[] = [];
    for (const node of ["a", "a", "b", "b"] as const) {
      const nc = await client(node === "a" ? a : b, `member-${node}`);
      nc.subscribe(subject, {
        queue: "workers",
        callback: (_e, m) => {
          received.push({ node, data: m.string() });
        },
      });
      // Every member also hears "end" from each publisher, plainly: it arrives after all of
      // that publisher's messages to this node (one connection's order, one batch stream).
      const { promise, resolve } = Promise.withResolvers<void>();
      let ends = 0;
      nc.subscribe("jobs.end", {
        callback: () => {
          if (++ends === 2) resolve();
        },
      });
      done.push(promise);
      await nc.flush();
    }
    await interest(c, "jobs.end");
    await c.waitFor(
      () => c.relay.backplane?.subjects?.table.index.match(subject).queues[0]?.length === 2,
    );
    await interest(a, "jobs.end");
    // From C (no member there): the nodes share the group, each message goes to one member.
    const fromC = await client(c, "pub-c");
    for (let i = 0; i < 400; i++) fromC.publish(subject, `c${i}`);
    fromC.publish("jobs.end", "");
    // From A (two members there): a local member takes each one, as nats-server prefers.
    const fromA = await client(a, "pub-a");
    for (let i = 0; i < 100; i++) fromA.publish(subject, `a${i}`);
    fromA.publish("jobs.end", "");
    await Promise.all([fromC.flush(), fromA.flush()]);
    await Promise.all(done);
    const all = received.map((r) => r.data).sort();
    const expected = [
      ...Array.from({ length: 400 }, (_, i) => `c${i}`),
      ...Array.from({ length: 100 }, (_, i) => `a${i}`),
    ].sort();
    expect(all).toEqual(expected); // each exactly once
    const count = (node: string, prefix: string) =>
      received.filter((r) => r.node === node && r.data.startsWith(prefix)).length;
    expect(count("a", "a")).toBe(100);
    expect(count("a", "c")).toBeGreaterThan(100);
    expect(count("b", "c")).toBeGreaterThan(100);
  });

  test("request/reply crosses nodes; no-responders only when no node has interest", async () => {
    const [a, b] = (await nodes(2)) as [TestRelay, TestRelay];
    const [requester, responder] = [await client(a, "requester"), await client(b, "responder")];
    const service = responder.subscribe("svc.echo", {
      callback: (_e, m) => {
        m.respond(`echo ${m.string()}`);
      },
    });
    await responder.flush();
    await interest(a, "svc.echo");
    // 50 concurrent requests, each answered through B and back.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        requester.request("svc.echo", `r${i}`, { timeout: 5000 }),
      ),
    );
    expect(replies.map((m) => m.string())).toEqual(
      Array.from({ length: 50 }, (_, i) => `echo r${i}`),
    );
    // Nobody anywhere: 503 at once (nats.js: no responders), not a timeout.
    const started = performance.now();
    const nobody = await requester
      .request("svc.none", "x", { timeout: 5000 })
      .catch((e: Error) => e);
    expect(String(nobody)).toMatch(/no responders|503/i);
    expect(performance.now() - started).toBeLessThan(2000);
    // The responder leaves: A hears of it, and then answers 503 too.
    service.unsubscribe();
    await responder.flush();
    await interest(a, "svc.echo", false);
    const gone = await requester.request("svc.echo", "x", { timeout: 5000 }).catch((e: Error) => e);
    expect(String(gone)).toMatch(/no responders|503/i);
  });

  test("the line/frame stream and NATS subjects meet across nodes", async () => {
    const [a, b] = (await nodes(2, { subject: "stream.events" })) as [TestRelay, TestRelay];
    const natsOnB = await client(b, "nats-sub");
    const got: string[] = [];
    let arrived = Promise.withResolvers<void>();
    natsOnB.subscribe("stream.>", {
      callback: (_e, m) => {
        got.push(`${m.subject} ${m.string()}`);
        arrived.resolve();
      },
    });
    await natsOnB.flush();
    await interest(a, "stream.events");
    const until = async (count: number) => {
      while (got.length < count) {
        await arrived.promise;
        arrived = Promise.withResolvers<void>();
      }
    };
    // A line publisher on A reaches a NATS subscriber on B (bridged on A, carried by subject).
    const [lineSubOnB] = await b.subscribers(1);
    const publisher = await a.publisher();
    await publisher.write("one\ntwo\n");
    await until(2);
    expect(got).toEqual(["stream.events one", "stream.events two"]);
    // A NATS publisher on A reaches a line subscriber on B (bridged on A, carried by the stream).
    const natsOnA = await client(a, "nats-pub");
    natsOnA.publish("stream.events", "three");
    await natsOnA.flush();
    await lineSubOnB?.waitForBytes("one\ntwo\nthree\n".length);
    expect(lineSubOnB?.text()).toBe("one\ntwo\nthree\n");
    await until(3);
    expect(got).toEqual(["stream.events one", "stream.events two", "stream.events three"]);
  });

  test("clients of the backing nats-server see no relay subject; a node that stops is forgotten", async () => {
    const [a, b] = (await nodes(2)) as [TestRelay, TestRelay];
    const onBacking = await connect({ servers: nats.url });
    clients.push(onBacking);
    const seen: string[] = [];
    onBacking.subscribe("orders.>", {
      callback: (_e, m) => {
        seen.push(m.subject);
      },
    });
    await onBacking.flush();
    const sub = (await client(b, "sub")).subscribe("orders.>");
    await interest(a, "orders.x");
    const pub = await client(a, "pub");
    pub.publish("orders.x", "1");
    await pub.flush();
    expect(await collect(sub, 1)).toEqual(["orders.x 1"]);
    await onBacking.flush();
    expect(seen).toEqual([]);
    // B leaves: it says bye, and A stops routing to it.
    await b.stop();
    started.splice(started.indexOf(b), 1);
    await a.waitFor((event) => event.type === "cluster_node" && !event.joined);
    expect(a.relay.backplane?.subjects?.hasInterest("orders.x")).toBe(false);
  });

  test("NATS killed and restarted: nodes tell each other their interest again, subjects cross again", async () => {
    const own = await NatsServer.start();
    const clusterSubject = uniqueSubject("restart");
    const [a, b] = [0, 1].map((i) => {
      const node = new TestRelay({
        cluster: [own.url],
        clusterSubject,
        nodeId: `00000000000000b${i}`,
        natsPort: 0,
      });
      started.push(node);
      return node;
    }) as [TestRelay, TestRelay];
    await Promise.all([a, b].map((node) => node.waitFor(clusterConnected(false))));
    const sub = (await client(b, "sub")).subscribe("after.*");
    await interest(a, "after.x");
    await own.kill();
    await Promise.all([a, b].map((node) => node.waitFor((e) => e.type === "cluster_disconnected")));
    // While NATS is away, a subscription comes and goes on B: A must learn of it afterwards.
    const late = await client(b, "late");
    late.subscribe("late.one");
    await late.flush();
    await own.restart();
    await Promise.all([a, b].map((node) => node.waitFor(clusterConnected(true))));
    await interest(a, "late.one");
    const pub = await client(a, "pub");
    pub.publish("after.x", "back");
    await pub.flush();
    expect(await collect(sub, 1)).toEqual(["after.x back"]);
    await own.stop();
  });

  test("with both line ports off, the cluster subject defaults to bun-relay.nats.PORT", async () => {
    const node = new TestRelay({
      cluster: [nats.url],
      natsPort: 0,
      pubPort: undefined,
      subPort: undefined,
    });
    started.push(node);
    const starting = await node.waitFor((event) => event.type === "cluster_starting");
    expect(starting).toMatchObject({ subject: `bun-relay.nats.${node.relay.natsPort}` });
  });

  test("a node that goes silent is forgotten; a jump in its announcements makes this node ask again", async () => {
    const [a] = (await nodes(1)) as [TestRelay];
    const clusterSubject = (
      a.events.find((e) => e.type === "cluster_starting") as { subject: string }
    ).subject;
    // A fake node on the backing server: it speaks the channel's encoding by hand.
    const fake = await connect({ servers: nats.url });
    clients.push(fake);
    const heard: number[] = [];
    fake.subscribe(`${clusterSubject}.interest`, {
      callback: (_e, m) => {
        const decoded = decodeInterest(m.data);
        if (typeof decoded !== "string" && decoded.source !== "00000000000000ff") {
          heard.push(decoded.kind);
        }
      },
    });
    await fake.flush();
    const id = parseNodeId("00000000000000ff");
    const announce = (seq: number, subject: string) =>
      fake.publish(
        `${clusterSubject}.interest`,
        encodeInterest(InterestKind.changes, id, seq, [{ add: true, subject, queue: undefined }]),
      );
    announce(0, "fake.one");
    await fake.flush();
    await interest(a, "fake.one");
    const hellos = heard.filter((kind) => kind === InterestKind.hello).length;
    // seq 1 and 2 never sent: A missed something, and asks everyone for a snapshot.
    announce(3, "fake.two");
    fake.publish(`${clusterSubject}.interest`, new Uint8Array([9, 9, 9]));
    await fake.flush();
    await interest(a, "fake.two");
    await a.waitFor((e) => e.type === "cluster_warning" && e.message.includes("malformed"));
    await fake.flush();
    while (heard.filter((kind) => kind === InterestKind.hello).length === hellos)
      await fake.flush();
    // Silent from now on: forgotten after NODE_EXPIRY_MS, with its interest.
    const forgotten = await a.waitFor((e) => e.type === "cluster_node" && !e.joined);
    expect(forgotten).toMatchObject({ source: "00000000000000ff", reason: "not heard from" });
    expect(a.relay.backplane?.subjects?.hasInterest("fake.one")).toBe(false);
    expect(a.relay.backplane?.stats().malformed).toBe(1);
  });

  test("a node that joins late learns 3,000 subscriptions sent as several interest messages", async () => {
    const clusterSubject = uniqueSubject("late");
    const early = new TestRelay({ cluster: [nats.url], clusterSubject, natsPort: 0 });
    started.push(early);
    await early.waitFor(clusterConnected(false));
    const nc = await client(early, "many");
    const subject = (i: number) =>
      `orders.region-${i % 7}.customer-${String(i).padStart(6, "0")}.events`;
    for (let i = 0; i < 3000; i++) nc.subscribe(subject(i), i % 2 === 0 ? {} : { queue: "q" });
    await nc.flush();
    const late = new TestRelay({ cluster: [nats.url], clusterSubject, natsPort: 0 });
    started.push(late);
    const learned = () => late.relay.backplane?.subjects?.table.pairs === 3000;
    await late.waitFor((event) => event.type === "cluster_interest" && learned());
    expect(late.relay.backplane?.subjects?.hasInterest(subject(2999))).toBe(true);
    // More than one interest message carried them (64 KiB each at most).
    const interestEvents = late.events.filter((e) => e.type === "cluster_interest").length;
    expect(interestEvents).toBeGreaterThan(1);
    expect(late.relay.backplane?.stats().malformed).toBe(0);
  });
});
