/**
 * Queue groups over real sockets: one member per group gets each message, in turn, and one
 * group name used on several subjects is a group per subject with its own turn (a fresh-eyes
 * review found a per-name counter sending everything to one member of each when two subjects
 * were published alternately).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { relayPerTest, type TestRelay } from "../support/harness.ts";
import { RawNatsClient } from "./raw-client.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();

async function member(r: TestRelay, subject: string): Promise<RawNatsClient> {
  const client = await RawNatsClient.connect(r.relay.natsPort as number);
  await client.info();
  client.send(`CONNECT {"verbose":false}\r\nSUB ${subject} workers 1\r\nPING\r\n`);
  await client.expect("PONG\r\n");
  return client;
}

describe("queue groups", () => {
  test("one name on two subjects published alternately: every member gets its half", async () => {
    const r = start({ natsPort: 0 });
    const [x1, x2, y1, y2] = [
      await member(r, "x"),
      await member(r, "x"),
      await member(r, "y"),
      await member(r, "y"),
    ];
    const publisher = await RawNatsClient.connect(r.relay.natsPort as number);
    await publisher.info();
    publisher.send('CONNECT {"verbose":false}\r\n');
    publisher.send(`${"PUB x 1\r\na\r\nPUB y 1\r\nb\r\n".repeat(100)}PING\r\n`);
    await publisher.expect("PONG\r\n");
    const counts: number[] = [];
    for (const client of [x1, x2, y1, y2]) {
      client.send("PING\r\n");
      let messages = 0;
      for (;;) {
        const line = await client.line();
        if (line === "PONG") break;
        messages++;
        await client.line(); // the payload
      }
      counts.push(messages);
    }
    expect(counts).toEqual([50, 50, 50, 50]);
  });
});
