/**
 * bcrypt passwords are checked off the event loop (Bun.password.verify): a CONNECT whose
 * check is under way holds only its own connection; what it pipelined after CONNECT is read
 * once the check answers, in order.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { relayPerTest } from "../support/harness.ts";
import { RawNatsClient } from "./raw-client.ts";

setDefaultTimeout(20_000);
const start = relayPerTest();

async function opened(port: number): Promise<RawNatsClient> {
  const client = await RawNatsClient.connect(port);
  await client.info();
  return client;
}

describe("bcrypt passwords", () => {
  test("operations pipelined after a bcrypt CONNECT run once it is verified", async () => {
    const hash = await Bun.password.hash("pw", { algorithm: "bcrypt", cost: 4 });
    const r = start({ natsPort: 0, pubPort: undefined, subPort: undefined, user: "u", pass: hash });
    const client = await opened(r.relay.natsPort as number);
    client.send(
      'CONNECT {"verbose":false,"user":"u","pass":"pw"}\r\nSUB a 1\r\nPUB a 2\r\nok\r\nPING\r\n',
    );
    await client.expect("MSG a 1 2\r\nok\r\nPONG\r\n");
  });

  test("a slow bcrypt check of a wrong password holds no other client", async () => {
    const hash = await Bun.password.hash("pw", { algorithm: "bcrypt", cost: 8 });
    const r = start({ natsPort: 0, pubPort: undefined, subPort: undefined, user: "u", pass: hash });
    const port = r.relay.natsPort as number;
    const good = await opened(port);
    good.send('CONNECT {"verbose":false,"user":"u","pass":"pw"}\r\nPING\r\n');
    await good.expect("PONG\r\n"); // verified once: remembered
    const wrong = await opened(port);
    wrong.send('CONNECT {"verbose":false,"user":"u","pass":"nope"}\r\nPING\r\n');
    const order: string[] = [];
    const denied = wrong
      .expect("-ERR 'Authorization Violation'\r\n")
      .then(() => order.push("denied"));
    good.send("PING\r\n");
    await good.expect("PONG\r\n");
    order.push("pong");
    await denied;
    // The other client's PING was answered while the bcrypt check (cost 8) ran.
    expect(order).toEqual(["pong", "denied"]);
    await wrong.expectClosed();
  });
});
