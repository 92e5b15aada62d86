/**
 * `--reuse-port` (issue 15): two relay processes, started as users start them
 * (`bun run src/main.ts --reuse-port --cluster …`), on the same ports. The kernel spreads
 * connections across both, and through NATS they act as one relay.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ChildLines, relayProcesses } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";
import {
  freePort,
  NatsServer,
  natsMissing,
  stopNatsServersAfterAll,
  uniqueSubject,
} from "../support/nats-server.ts";

stopNatsServersAfterAll();

setDefaultTimeout(30_000);
const spawn = relayProcesses();

const SUBSCRIBERS = 16;
const PUBLISHERS = 4;
const MESSAGES = 1000;

function line(publisher: number, n: number): string {
  return `p${publisher}-${String(n).padStart(6, "0")}\n`;
}

describe.skipIf(natsMissing !== undefined)("--reuse-port", () => {
  test("two relay processes on the same ports both take connections and act as one through NATS", async () => {
    const nats = await NatsServer.start();
    const pubPort = freePort();
    let subPort = freePort();
    while (subPort === pubPort) subPort = freePort();
    const args = [
      "--host",
      "127.0.0.1",
      "--pub-port",
      String(pubPort),
      "--sub-port",
      String(subPort),
      "--reuse-port",
      "--cluster",
      nats.url,
      "--cluster-subject",
      uniqueSubject("reuse"),
      "--stats-interval",
      "0",
    ];
    const children = [spawn(args), spawn(args)];
    const logs = children.map((child) => new ChildLines(child.stdout));
    for (const log of logs) {
      expect(await log.waitFor(/LISTEN publishers|bun-relay:/)).toContain("LISTEN publishers");
      await log.waitFor(/CLUSTER connected to/);
    }

    // Subscribers: the kernel hashes each connection to one of the two processes.
    const subscribers = await Promise.all(
      Array.from({ length: SUBSCRIBERS }, () => TestClient.connect(subPort)),
    );
    const opens = () =>
      logs.reduce(
        (sum, log) => sum + log.lines.filter((l) => l.includes("OPEN subscriber")).length,
        0,
      );
    await Promise.race(
      logs.map((log) => log.waitFor(() => opens() >= SUBSCRIBERS).catch(() => "")),
    );
    expect(opens()).toBe(SUBSCRIBERS);

    const publishers = await Promise.all(
      Array.from({ length: PUBLISHERS }, () => TestClient.connect(pubPort)),
    );
    const expected: string[] = [];
    await Promise.all(
      publishers.map((publisher, p) => {
        let text = "";
        for (let n = 0; n < MESSAGES; n++) text += line(p, n);
        expected[p] = text;
        return publisher.write(text);
      }),
    );
    const total = expected.reduce((sum, text) => sum + text.length, 0);
    for (const subscriber of subscribers) {
      await subscriber.waitForBytes(total);
      const text = subscriber.text();
      expect(text.length).toBe(total);
      const got = text.split("\n");
      for (let p = 0; p < PUBLISHERS; p++) {
        const mine = got.filter((l) => l.startsWith(`p${p}-`)).join("\n");
        expect(`${mine}\n`).toBe(expected[p] as string);
      }
    }

    for (const child of children) child.kill("SIGTERM");
    const [one, two] = await Promise.all(logs.map((log) => log.rest()));
    const subscribersOf = (lines: string[] | undefined) =>
      (lines ?? []).filter((l) => l.includes("OPEN subscriber")).length;
    // Both processes took subscribers (16 connections all on one: odds 2 in 65,536).
    expect(subscribersOf(one)).toBeGreaterThan(0);
    expect(subscribersOf(two)).toBeGreaterThan(0);
    expect(subscribersOf(one) + subscribersOf(two)).toBe(SUBSCRIBERS);
    for (const lines of [one, two]) expect(lines?.some((l) => l.includes("BYE"))).toBe(true);
    await nats.stop();
  });
});
