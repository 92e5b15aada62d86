/**
 * The backplane's failure modes (issue 15), against a real nats-server: NATS killed and
 * restarted mid-run with exact accounting per node, NATS unreachable at start, and NATS
 * cutting a node as a slow consumer. Local delivery never stops.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { RelayConfig } from "../../src/cli/config.ts";
import { formatEvent } from "../../src/log.ts";
import type { RelayEvent } from "../../src/relay/events.ts";
import { type TestClient, TestRelay } from "../support/harness.ts";
import {
  clusterConnected,
  freePort,
  NatsServer,
  natsMissing,
  stopNatsServersAfterAll,
  uniqueSubject,
} from "../support/nats-server.ts";

stopNatsServersAfterAll();

setDefaultTimeout(20_000);

const started: TestRelay[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.stop();
});

function node(overrides: Partial<RelayConfig>): TestRelay {
  const r = new TestRelay(overrides);
  started.push(r);
  return r;
}

const LINE = 16; // "a0000001 ......\n"
function line(tag: string, n: number): string {
  const head = `${tag}${String(n).padStart(7, "0")}`;
  return `${head.padEnd(LINE - 1, ".")}\n`;
}

/**
 * Writes numbered lines on a timer (a few per tick) until stopped, so that every phase of a
 * fault sees traffic. `sent` counts what was written.
 */
class Pump {
  sent = 0;
  private timer: ReturnType<typeof setInterval>;
  constructor(
    private readonly publisher: TestClient,
    private readonly tag: string,
  ) {
    this.timer = setInterval(() => {
      let text = "";
      for (let i = 0; i < 5; i++) text += line(this.tag, this.sent++);
      void this.publisher.write(text);
    }, 2);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** The numbers of `tag`'s lines in what `sub` received, in arrival order. */
function numbers(sub: TestClient, tag: string): number[] {
  return sub
    .text()
    .split("\n")
    .filter((l) => l.startsWith(tag))
    .map((l) => Number(l.slice(1, 8)));
}

describe.skipIf(natsMissing !== undefined)("faults", () => {
  test("NATS killed (SIGKILL) and restarted on its port mid-run: local delivery goes on; received + counted lost = sent, per node", async () => {
    const nats = await NatsServer.start();
    const clusterSubject = uniqueSubject("kill");
    const a = node({ cluster: [nats.url], clusterSubject, nodeId: "000000000000000a" });
    const b = node({ cluster: [nats.url], clusterSubject, nodeId: "000000000000000b" });
    await Promise.all([a.waitFor(clusterConnected(false)), b.waitFor(clusterConnected(false))]);
    const [subA] = (await a.subscribers(1)) as [TestClient];
    const [subB] = (await b.subscribers(1)) as [TestClient];
    const pumpA = new Pump(await a.publisher(), "a");
    const pumpB = new Pump(await b.publisher(), "b");

    // Traffic crosses both ways, then NATS dies.
    await Promise.all([subB.waitForBytes(200 * LINE), subA.waitForBytes(200 * LINE)]);
    await nats.kill();
    const down = (e: RelayEvent) => e.type === "cluster_disconnected";
    await Promise.all([a.waitFor(down), b.waitFor(down)]);
    // While it is down, each node still serves its own subscriber.
    const ownA = numbers(subA, "a").length;
    const ownB = numbers(subB, "b").length;
    await Promise.all([
      subA.waitForBytes(subA.receivedBytes + 100 * LINE),
      subB.waitForBytes(subB.receivedBytes + 100 * LINE),
    ]);
    expect(numbers(subA, "a").length).toBeGreaterThan(ownA);
    expect(numbers(subB, "b").length).toBeGreaterThan(ownB);

    await nats.restart();
    await Promise.all([a.waitFor(clusterConnected(true)), b.waitFor(clusterConnected(true))]);
    // Traffic crosses again after the restart, then the publishers stop.
    const crossedA = numbers(subB, "a").length;
    const crossedB = numbers(subA, "b").length;
    await Promise.all([
      subB.waitForBytes(subB.receivedBytes + 200 * LINE),
      subA.waitForBytes(subA.receivedBytes + 200 * LINE),
    ]);
    pumpA.stop();
    pumpB.stop();
    // One last line each, and wait until the other node has it: everything before it has
    // arrived or is a counted gap.
    const lastA = await a.publisher();
    const lastB = await b.publisher();
    await lastA.write("z-last-from-a\n");
    await lastB.write("y-last-from-b\n");
    const hasLast = (sub: TestClient, text: string) => sub.text().includes(text);
    while (!hasLast(subB, "z-last-from-a") || !hasLast(subA, "y-last-from-b")) {
      await Promise.race([
        subB.waitForBytes(subB.receivedBytes + 1),
        subA.waitForBytes(subA.receivedBytes + 1),
      ]);
    }

    const sa = a.relay.backplane?.stats();
    const sb = b.relay.backplane?.stats();
    if (!sa || !sb) throw new Error("no backplane");
    for (const [from, to, sender, receiver, sent, tag] of [
      [a, b, sa, sb, pumpA.sent, "a"],
      [b, a, sb, sa, pumpB.sent, "b"],
    ] as const) {
      const toSub = to === b ? subB : subA;
      const fromSub = from === a ? subA : subB;
      // Its own node delivered every line, in order, with no gap.
      const own = numbers(fromSub, tag);
      expect(own).toEqual(Array.from({ length: sent }, (_, i) => i));
      // The other node: a subsequence in order, no duplicates.
      const crossed = numbers(toSub, tag);
      for (let i = 1; i < crossed.length; i++) {
        expect(crossed[i] as number).toBeGreaterThan(crossed[i - 1] as number);
      }
      // Exact accounting: every message published on `from` (its last line included) either
      // arrived, or is counted lost by the sender (not connected) or by the receiver (gap).
      const published = sent + 1;
      expect(sender.lost.too_large + sender.lost.slow_nats).toBe(0);
      expect(crossed.length + 1 + receiver.lost.gap + sender.lost.not_connected).toBe(published);
      expect(receiver.messagesIn).toBe(crossed.length + 1);
      expect(sender.messagesOut + sender.lost.not_connected).toBe(published);
      expect(sender.disconnects).toBe(1);
      expect(sender.reconnects).toBe(1);
      expect(sender.slowConsumerCuts).toBe(0);
    }
    // Something was lost (the outage was real), and said so in the log.
    expect(sa.lost.not_connected + sb.lost.not_connected).toBeGreaterThan(0);
    expect(a.events.some((e) => e.type === "cluster_dropped" && e.cause === "not_connected")).toBe(
      true,
    );
    expect(crossedA).toBeGreaterThan(0);
    expect(crossedB).toBeGreaterThan(0);
    await nats.stop();
  });

  test("NATS restarted on its port with a smaller max_payload: the reconnect logs both limits, and the new one applies", async () => {
    const nats = await NatsServer.start(); // max_payload 1 MiB, nats-server's default
    const clusterSubject = uniqueSubject("maxpayload");
    // Messages up to 100,000 B: they fit 1 MiB, so the first connection reports no limit.
    const a = node({ cluster: [nats.url], clusterSubject, maxLine: 100_000, maxFrame: 100_013 });
    const first = await a.waitFor(clusterConnected(false));
    expect(first).toMatchObject({ maxPayload: 1024 * 1024 });
    const [subA] = (await a.subscribers(1)) as [TestClient];
    const pubA = await a.publisher();

    await nats.kill();
    await a.waitFor((e) => e.type === "cluster_disconnected");
    await nats.restart({ config: "max_payload: 65536\n" });
    await a.waitFor(clusterConnected(true));
    const changes = a.events.filter((e) => e.type === "cluster_max_payload");
    expect(changes).toEqual([
      {
        type: "cluster_max_payload",
        server: `127.0.0.1:${nats.port}`,
        previous: 1024 * 1024,
        maxPayload: 65536,
        largestMessage: 65536 - 22 - 13, // less the batch header and a Submit frame's
        limiting: true,
      },
    ]);
    expect(formatEvent(changes[0] as RelayEvent, false)).toBe(
      `CLUSTER NATS max_payload changed from 1048576 B to 65536 B (127.0.0.1:${nats.port}): a message longer than 65501 B cannot cross the backplane (dropped by the sender, counted as too_large; --max-line/--max-frame allow more here)`,
    );
    // The new limit is the one in force: a 70,000 B line is delivered here but not sent out.
    await pubA.write(`${"x".repeat(70_000)}\n`);
    await subA.waitForBytes(70_001);
    expect(a.relay.backplane?.stats().lost.too_large).toBe(1);
    await nats.stop();
  });

  test("NATS unreachable at start: the relay serves locally, says so, retries, and joins once NATS is up", async () => {
    const port = freePort();
    const clusterSubject = uniqueSubject("late");
    const a = node({ cluster: [`nats://127.0.0.1:${port}`], clusterSubject });
    await a.waitFor((e) => e.type === "cluster_unreachable");
    expect(a.relay.backplane?.state).toBe("connecting");
    const [subA] = (await a.subscribers(1)) as [TestClient];
    const pubA = await a.publisher();
    await pubA.write("local while NATS is away\n");
    await subA.waitForBytes(25);
    expect(subA.text()).toBe("local while NATS is away\n");
    expect(a.relay.backplane?.stats().lost.not_connected).toBe(1);

    const nats = await NatsServer.start({ port });
    await a.waitFor(clusterConnected(false));
    expect(a.events.some((e) => e.type === "cluster_dropped" && e.messages === 1)).toBe(true);
    const b = node({ cluster: [nats.url], clusterSubject });
    await b.waitFor(clusterConnected(false));
    const [subB] = (await b.subscribers(1)) as [TestClient];
    await pubA.write("now across\n");
    await subB.waitForBytes(11);
    expect(subB.text()).toBe("now across\n");
    await nats.stop();
  });

  test("NATS cuts a node that reads too slowly (slow consumer): counted, it reconnects, the loss is a counted gap", async () => {
    // A small max_pending and write deadline make nats-server cut a stalled reader quickly.
    const nats = await NatsServer.start({
      config: 'max_pending: 262144\nmax_payload: 131072\nwrite_deadline: "500ms"\n',
    });
    const clusterSubject = uniqueSubject("slow");
    const b = node({ cluster: [nats.url], clusterSubject });
    await b.waitFor(clusterConnected(false));
    const [subB] = (await b.subscribers(1)) as [TestClient];
    // Another process floods the subject as a node would, then sends a last batch every
    // 100 ms until it is stopped.
    const flooder = Bun.spawn(
      [
        "bun",
        "run",
        new URL("./flood-node.ts", import.meta.url).pathname,
        nats.url,
        clusterSubject,
      ],
      { stdout: "pipe", stderr: "inherit", stdin: "ignore" },
    );
    try {
      const reader = flooder.stdout.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toStartWith("flooding");
      // Stall this process (and so node B) while the flood arrives.
      const until = Date.now() + 1500;
      while (Date.now() < until) {}
      await b.waitFor(clusterConnected(true));
      const out = new TextDecoder().decode((await reader.read()).value);
      const total = Number(/total (\d+)/.exec(out)?.[1]);
      // Wait for a batch sent after the flood (its count is past the flood's total).
      const seen = () => {
        const stats = b.relay.backplane?.stats();
        return (stats?.messagesIn ?? 0) + (stats?.lost.gap ?? 0);
      };
      while (seen() <= total) await subB.waitForBytes(subB.receivedBytes + 1);
    } finally {
      flooder.kill();
      await flooder.exited;
    }
    const stats = b.relay.backplane?.stats();
    expect(stats?.slowConsumerCuts).toBe(1);
    expect(stats?.lost.gap).toBeGreaterThan(0);
    // Every message the backplane received reached the subscriber (100 B + \n each).
    await subB.waitForBytes((stats?.messagesIn ?? 0) * 101);
    expect(subB.receivedBytes).toBe((stats?.messagesIn ?? 0) * 101);
    expect(
      b.events.some((e) => e.type === "cluster_warning" && /slow consumer/.test(e.message)),
    ).toBe(true);
    await nats.stop();
  });
});
