/**
 * --log-format json (src/log.ts jsonLogger): the events of a real relay run as one JSON object
 * per line, the same events the text format logs, and the command line end to end.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { formatStats, jsonLogger, textLogger } from "../src/log.ts";
import type { RelayEvent } from "../src/relay/events.ts";
import { ChildLines, relayProcesses } from "./support/child.ts";
import { closeOf, numberedLines, relayPerTest, TestClient } from "./support/harness.ts";

setDefaultTimeout(30_000);
const start = relayPerTest();

type LogRecord = Record<string, unknown> & { ts: string; event: string; level: string };

function jsonLines(events: readonly RelayEvent[], quiet = false): string[] {
  const lines: string[] = [];
  const log = jsonLogger({ quiet, write: (line) => lines.push(line) });
  for (const event of events) log(event);
  return lines;
}

function textLines(events: readonly RelayEvent[], quiet = false): string[] {
  const lines: string[] = [];
  const log = textLogger({ quiet, write: (line) => lines.push(line) });
  for (const event of events) log(event);
  return lines;
}

/** Parses a line and checks the fields every record has. */
function parseRecord(line: string): LogRecord {
  expect(line).not.toContain("\n");
  const record = JSON.parse(line) as LogRecord;
  expect(new Date(record.ts).toISOString()).toBe(record.ts);
  expect(typeof record.event).toBe("string");
  expect(["info", "warn"]).toContain(record.level);
  return record;
}

/** A real run: two subscribers, a publisher that sends 3 lines then one too long, shutdown. */
async function recordedRun(): Promise<RelayEvent[]> {
  const r = start({ maxLine: 100 });
  const [subscriber] = (await r.subscribers(2)) as [TestClient, TestClient];
  const publisher = await r.publisher();
  await publisher.write(numberedLines(3, 20));
  await subscriber.waitForBytes(60);
  await publisher.write(`${"x".repeat(200)}\n`);
  await r.waitFor(closeOf("publisher", "line_too_long"));
  subscriber.end();
  await r.waitFor(closeOf("subscriber", "peer_closed"));
  await r.relay.shutdown(0);
  await r.waitFor(closeOf("subscriber", "shutdown"));
  return [...r.events, { type: "stats", stats: r.relay.totals() }];
}

describe("jsonLogger", () => {
  test("writes each event of a real run as one JSON object with ts, event, level and fields", async () => {
    const records = jsonLines(await recordedRun()).map(parseRecord);
    const ofType = (event: string) => records.filter((record) => record.event === event);

    expect(ofType("listening").map((r) => r.side)).toEqual(["publisher", "subscriber"]);
    expect(ofType("listening")[0]).toMatchObject({ host: "127.0.0.1", level: "info" });
    expect(ofType("open")).toHaveLength(3);
    expect(ofType("open")[0]?.peer).toMatch(/^127\.0\.0\.1:\d+$/);

    const tooLong = ofType("close").find((r) => r.reason === "line_too_long");
    expect(tooLong).toMatchObject({
      side: "publisher",
      level: "warn",
      droppedBytes: 0,
      detail: "line longer than --max-line 100 B",
    });
    const peerClosed = ofType("close").find((r) => r.reason === "peer_closed");
    expect(peerClosed).toMatchObject({ side: "subscriber", level: "info", droppedBytes: 0 });
    expect(ofType("close").filter((r) => r.reason === "shutdown")).toHaveLength(1);

    expect(ofType("shutdown_started")[0]).toMatchObject({ pendingBytes: 0, timeoutSeconds: 0 });
    const bye = ofType("shutdown_finished")[0];
    expect(bye).toMatchObject({ level: "info", unflushedBytes: 0 });
    expect(bye?.totals).toMatchObject({ messagesReceived: 3, messagesSent: 6, linesTooLong: 1 });
    expect(ofType("stats")[0]?.stats).toMatchObject({ messagesReceived: 3, bytesSent: 120 });
  });

  test("logs exactly the events the text format logs, with and without --quiet", async () => {
    const events = await recordedRun();
    const withHeld: RelayEvent[] = [
      ...events,
      { type: "publishers_held", held: true, pendingBytes: 1 },
      { type: "drop_episode", peer: "10.0.0.1:5", messages: 2, bytes: 40, totalMessages: 2 },
    ];
    for (const quiet of [false, true]) {
      const json = jsonLines(withHeld, quiet).map(parseRecord);
      expect(json).toHaveLength(textLines(withHeld, quiet).length);
    }
    const quietEvents = jsonLines(withHeld, true).map(parseRecord);
    expect(quietEvents.some((r) => r.event === "open")).toBe(false);
    expect(quietEvents.filter((r) => r.event === "close").map((r) => r.reason)).toEqual([
      "line_too_long",
    ]);
    expect(quietEvents.find((r) => r.event === "drop_episode")?.level).toBe("warn");
    expect(quietEvents.some((r) => r.event === "publishers_held")).toBe(false);
  });
});

describe("cluster_max_payload", () => {
  const limit = {
    type: "cluster_max_payload",
    server: "10.0.0.9:4222",
    maxPayload: 65536,
    largestMessage: 65501,
    limiting: true,
  } as const;

  test("the first connection's limit, a change to a smaller and to a larger one", () => {
    const lines = [
      limit,
      { ...limit, previous: 1048576 },
      { ...limit, previous: 65536, maxPayload: 8388608, largestMessage: 8388573, limiting: false },
    ].map((event) => textLines([event])[0]?.replace(/^\S+ /, ""));
    const dropped =
      "a message longer than 65501 B cannot cross the backplane (dropped by the sender, counted as too_large; --max-line/--max-frame allow more here)";
    expect(lines).toEqual([
      `CLUSTER NATS max_payload is 65536 B: ${dropped}`,
      `CLUSTER NATS max_payload changed from 1048576 B to 65536 B (10.0.0.9:4222): ${dropped}`,
      "CLUSTER NATS max_payload changed from 65536 B to 8388608 B (10.0.0.9:4222): every message this node accepts can cross (up to 8388573 B)",
    ]);
  });

  test("is a warning only while it limits what this node accepts", () => {
    const levels = jsonLines([limit, { ...limit, limiting: false }], true).map(
      (line) => parseRecord(line).level,
    );
    expect(levels).toEqual(["warn", "info"]);
  });
});

const spawnRelay = relayProcesses();

describe("bun run src/main.ts --log-format json --metrics-port 0", () => {
  test("every stdout line is JSON; /metrics and /healthz answer; SIGTERM ends with a JSON BYE", async () => {
    const child = spawnRelay([
      "--host=127.0.0.1",
      "--pub-port=0",
      "--sub-port=0",
      "--metrics-port=0",
      "--log-format=json",
    ]);
    const stdout = new ChildLines(child.stdout);
    const event = (type: string) => (line: string) => JSON.parse(line).event === type;
    const pub = JSON.parse(await stdout.waitFor((l) => /"side":"publisher"/.test(l)));
    const sub = JSON.parse(await stdout.waitFor((l) => /"side":"subscriber"/.test(l)));
    const metrics = JSON.parse(await stdout.waitFor(event("metrics_listening")));
    expect(metrics).toMatchObject({ host: "127.0.0.1", level: "info" });

    const subscriber = await TestClient.connect(sub.port);
    const publisher = await TestClient.connect(pub.port);
    await publisher.write("hello\n");
    await subscriber.waitForBytes(6);
    const base = `http://127.0.0.1:${metrics.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const exposition = await (await fetch(`${base}/metrics`)).text();
    expect(exposition).toContain("bun_relay_received_messages_total 1\n");
    expect(exposition).toContain('bun_relay_connections{side="subscriber"} 1\n');

    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    const lines = (await stdout.rest()).filter((line) => line !== "");
    const records = lines.map((line) => parseRecord(line));
    expect(records.map((r) => r.event)).toEqual(
      expect.arrayContaining(["open", "signal", "shutdown_started", "shutdown_finished"]),
    );
    expect(records.find((r) => r.event === "signal")?.signal).toBe("SIGTERM");
    expect(records.at(-1)?.event).toBe("shutdown_finished");
  });

  test("a metrics port in use: one line on stderr, exit 1", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const child = spawnRelay(["--pub-port=0", "--sub-port=0", `--metrics-port=${taken.port}`]);
      const [status, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
      expect(status).toBe(1);
      expect(stderr).toBe(`bun-relay: metrics port 127.0.0.1:${taken.port} is already in use\n`);
    } finally {
      await taken.stop(true);
    }
  });

  test("a bad --log-format is one clear line and exit 2", async () => {
    const child = spawnRelay(["--log-format=xml"]);
    const [status, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toBe("bun-relay: --log-format: 'xml' is not one of: text, json");
  });
});

describe("the STATS line", () => {
  test("shows every counter of the snapshot, the stall and frame ones included", () => {
    const stats = {
      seconds: 60,
      messagesReceived: 120,
      messagesSent: 360,
      bytesReceived: 1,
      bytesSent: 2,
      slowConsumerDisconnects: 3,
      writeTimeouts: 4,
      messagesDropped: 5,
      publisherPauses: 6,
      publishersHeldMs: 1234.5,
      stallTimeouts: 7,
      linesTooLong: 8,
      submitsReceived: 9,
      acksOk: 10,
      acksFailed: 11,
      frameErrors: 12,
      authFailures: 13,
      messagesNotLines: 14,
      messagesTooLargeForNats: 0,
      refusedConnections: 15,
      publishersAccepted: 16,
      subscribersAccepted: 17,
      natsClientsAccepted: 0,
      publishers: 18,
      subscribers: 19,
      pendingBytes: 20,
    };
    expect(formatStats(stats)).toBe(
      "Interval 60s | Recv: 120 (2.00/s), Sent: 360 (6.00/s) | SendConn=19 RecvConn=18 | " +
        "SlowConsumers=3 WriteTimeouts=4 Dropped=5 Pauses=6 Held=1.234s Stalls=7 " +
        "LinesTooLong=8 Refused=15 Submits=9 AcksOk=10 AcksFailed=11 FrameErrors=12 " +
        "AuthFailures=13 NotLines=14 Pending=20B",
    );
  });
});
