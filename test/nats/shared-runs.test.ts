/**
 * Shared runs (src/relay/subject-router.ts): when every receiver of a publisher's run of PUBs
 * takes the same bytes (one sid, no reply, headers, queue or UNSUB max), each MSG is encoded
 * once and handed to all of them. Over real sockets: the bytes each client gets are exactly
 * what it would get one by one, in order, and every rule that makes bytes differ ends a run.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { relayPerTest, TestClient, type TestRelay } from "../support/harness.ts";
import { RawNatsClient } from "./raw-client.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();

async function client(
  r: TestRelay,
  commands: string,
  connect = '{"verbose":false}',
): Promise<RawNatsClient> {
  const nats = await RawNatsClient.connect(r.relay.natsPort as number);
  await nats.info();
  nats.send(`CONNECT ${connect}\r\n${commands}PING\r\n`);
  await nats.expect("PONG\r\n");
  return nats;
}

const msgs = (subject: string, sid: string, from: number, count: number): string =>
  Array.from(
    { length: count },
    (_, i) => `MSG ${subject} ${sid} ${String(from + i).length}\r\n${from + i}\r\n`,
  ).join("");
const pubs = (subject: string, from: number, count: number): string =>
  Array.from(
    { length: count },
    (_, i) => `PUB ${subject} ${String(from + i).length}\r\n${from + i}\r\n`,
  ).join("");

/** `text` (PUBs or MSGs) with each payload padded to 300 bytes, to pass the kernel's buffers. */
function padded(text: string): string {
  return text.replace(
    / (\d+)\r\n(\d+)\r\n/g,
    (_, _size, n: string) => ` 300\r\n${n.padEnd(300, ".")}\r\n`,
  );
}

describe("shared runs", () => {
  test("three subscribers with sid 1 get every MSG of a 1,000-PUB read, byte for byte, in order", async () => {
    const r = start({ natsPort: 0 });
    const subs = [
      await client(r, "SUB r 1\r\n"),
      await client(r, "SUB r 1\r\n"),
      await client(r, "SUB r 1\r\n"),
    ];
    const publisher = await client(r, "");
    publisher.send(`${pubs("r", 0, 1000)}PING\r\n`);
    await publisher.expect("PONG\r\n");
    for (const sub of subs) await sub.expect(msgs("r", "1", 0, 1000));
  });

  test("a receiver with another sid, a reply or another subject ends the run: each gets its own bytes", async () => {
    const r = start({ natsPort: 0 });
    const a = await client(r, "SUB r 1\r\nSUB s 2\r\n");
    const b = await client(r, "SUB r 1\r\n");
    const c = await client(r, "SUB r 7\r\n");
    const publisher = await client(r, "");
    publisher.send(
      `${pubs("r", 0, 3)}PUB r inbox 1\r\nx\r\nPUB s 1\r\ny\r\n${pubs("r", 3, 2)}PING\r\n`,
    );
    await publisher.expect("PONG\r\n");
    await a.expect(
      `${msgs("r", "1", 0, 3)}MSG r 1 inbox 1\r\nx\r\nMSG s 2 1\r\ny\r\n${msgs("r", "1", 3, 2)}`,
    );
    await b.expect(`${msgs("r", "1", 0, 3)}MSG r 1 inbox 1\r\nx\r\n${msgs("r", "1", 3, 2)}`);
    await c.expect(`${msgs("r", "7", 0, 3)}MSG r 7 inbox 1\r\nx\r\n${msgs("r", "7", 3, 2)}`);
  });

  test("deliveries of a run count for UNSUB max: a max already reached removes at once", async () => {
    const r = start({ natsPort: 0 });
    const a = await client(r, "SUB r 1\r\n");
    const b = await client(r, "SUB r 1\r\n");
    const publisher = await client(r, "");
    publisher.send(`${pubs("r", 0, 5)}PING\r\n`);
    await publisher.expect("PONG\r\n");
    await a.expect(msgs("r", "1", 0, 5));
    await b.expect(msgs("r", "1", 0, 5));
    a.send("UNSUB 1 3\r\nPING\r\n");
    await a.expect("PONG\r\n");
    publisher.send(`${pubs("r", 5, 2)}PING\r\n`);
    await publisher.expect("PONG\r\n");
    await b.expect(msgs("r", "1", 5, 2));
    await a.expectOpen(); // PING, PONG: and nothing else arrived before it
  });

  test("a publisher with echo false is left out of the run; the others still share it", async () => {
    const r = start({ natsPort: 0 });
    const b = await client(r, "SUB r 1\r\n");
    const c = await client(r, "SUB r 1\r\n");
    const publisher = await client(r, "SUB r 1\r\n", '{"verbose":false,"echo":false}');
    publisher.send(`${pubs("r", 0, 4)}PING\r\n`);
    await publisher.expect("PONG\r\n"); // no MSG of its own before its PONG
    await b.expect(msgs("r", "1", 0, 4));
    await c.expect(msgs("r", "1", 0, 4));
  });

  test("a subscriber that falls behind keeps its shared bytes intact while the others go on", async () => {
    // disconnect with a large bound: publishers are never held, the backlog just grows.
    const r = start({ natsPort: 0, slowConsumer: "disconnect", maxPending: 64 * 1024 * 1024 });
    const fast = await client(r, "SUB r 1\r\n");
    const slow = await TestClient.connect(r.relay.natsPort as number);
    await slow.write('CONNECT {"verbose":false}\r\nSUB r 1\r\nPING\r\n');
    await slow.waitForBytes(1); // INFO
    while (!slow.text().includes("PONG\r\n")) await slow.waitForBytes(slow.receivedBytes + 1);
    const greeting = slow.receivedBytes;
    slow.pause();
    const publisher = await client(r, "");
    const batches = 40;
    for (let b = 0; b < batches; b++) {
      publisher.send(`${padded(pubs("r", b * 1000, 1000))}PING\r\n`);
      await publisher.expect("PONG\r\n");
      await fast.expect(padded(msgs("r", "1", b * 1000, 1000)));
    }
    // More than the kernel holds: the slow one's backlog keeps shared bytes by reference.
    expect(r.relay.hub.pendingBytes).toBeGreaterThan(0);
    slow.resume();
    const expected = padded(msgs("r", "1", 0, batches * 1000));
    await slow.waitForBytes(greeting + expected.length);
    expect(Buffer.from(slow.bytes().subarray(greeting)).toString("latin1")).toBe(expected);
  });

  test("a subscriber's PONG never overtakes MSGs of a run queued for it", async () => {
    const r = start({ natsPort: 0 });
    const a = await client(r, "SUB r 1\r\n");
    await client(r, "SUB r 1\r\n");
    // One client publishes and pings in one read: its own run MSGs come before its PONG.
    a.send(`${pubs("r", 0, 3)}PING\r\n`);
    await a.expect(`${msgs("r", "1", 0, 3)}PONG\r\n`);
  });
});
