/**
 * A read that reaches many clients (SubjectRouter.flushRead leaves their writes to the end of
 * the event-loop turn): each still gets exactly its messages, in order, and its own replies
 * after them.
 */
import { describe, setDefaultTimeout, test } from "bun:test";
import { relayPerTest, type TestRelay } from "../support/harness.ts";
import { RawNatsClient } from "./raw-client.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();

async function client(r: TestRelay, commands: string): Promise<RawNatsClient> {
  const nats = await RawNatsClient.connect(r.relay.natsPort as number);
  await nats.info();
  nats.send(`CONNECT {"verbose":false}\r\n${commands}PING\r\n`);
  await nats.expect("PONG\r\n");
  return nats;
}

describe("a read that reaches many clients", () => {
  test("40 subscribers on their own subjects, a publisher cycling through them 25 times", async () => {
    const r = start({ natsPort: 0 });
    const subscribers: RawNatsClient[] = [];
    for (let i = 0; i < 40; i++) subscribers.push(await client(r, `SUB s.${i} 1\r\n`));
    const publisher = await client(r, "");
    let pubs = "";
    for (let round = 0; round < 25; round++) {
      for (let i = 0; i < 40; i++) pubs += `PUB s.${i} ${String(round).length}\r\n${round}\r\n`;
    }
    publisher.send(`${pubs}PING\r\n`);
    await publisher.expect("PONG\r\n");
    for (let i = 0; i < 40; i++) {
      const sub = subscribers[i] as RawNatsClient;
      sub.send("PING\r\n");
      let expected = "";
      for (let round = 0; round < 25; round++) {
        expected += `MSG s.${i} 1 ${String(round).length}\r\n${round}\r\n`;
      }
      await sub.expect(`${expected}PONG\r\n`);
    }
  });
});
