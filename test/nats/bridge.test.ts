/**
 * Lines and frames become subjects (issue 20, src/relay/stream-bridge.ts), byte for byte over
 * real sockets: line and frame publishers publish to --subject, line and frame subscribers
 * receive what --sub-subject matches, NATS clients sit on both sides.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { RelayConfig } from "../../src/cli/config.ts";
import { encodeSubmit, encodeSubmitAck } from "../../src/protocol/frame-codec.ts";
import { closeOf, relayPerTest, type TestClient, type TestRelay } from "../support/harness.ts";
import { RawNatsClient } from "./raw-client.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();

function relay(overrides: Partial<RelayConfig> = {}): TestRelay {
  return start({ natsPort: 0, ...overrides });
}

/** A raw NATS client subscribed to `subject` as sid 1, registered (PONG) before it returns. */
async function natsSubscriber(
  r: TestRelay,
  subject: string,
  headers: boolean,
): Promise<RawNatsClient> {
  const client = await RawNatsClient.connect(r.relay.natsPort as number);
  await client.info();
  client.send(`CONNECT {"verbose":false,"headers":${headers}}\r\nSUB ${subject} 1\r\nPING\r\n`);
  await client.expect("PONG\r\n");
  return client;
}

async function natsPublisher(r: TestRelay): Promise<RawNatsClient> {
  const client = await RawNatsClient.connect(r.relay.natsPort as number);
  await client.info();
  client.send('CONNECT {"verbose":false,"headers":true}\r\n');
  return client;
}

describe("line and frame publishers to NATS subscribers of --subject", () => {
  test("a line arrives without its \\n or \\r\\n; the zero-copy line path still feeds line subscribers", async () => {
    const r = relay();
    const nats = await natsSubscriber(r, "relay", false);
    const [line] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write("hello\nwith cr\r\nx\r\r\n");
    // One \r of a \r\n goes with the newline; a second one is content, for both kinds.
    await nats.expect(
      "MSG relay 1 5\r\nhello\r\nMSG relay 1 7\r\nwith cr\r\nMSG relay 1 2\r\nx\r\r\n",
    );
    await line.waitForBytes(17);
    expect(line.text()).toBe("hello\nwith cr\nx\r\n");
  });

  test("a line split across reads arrives whole; a NATS wildcard subscription matches --subject", async () => {
    const r = relay({ subject: "sensors.room1" });
    const nats = await natsSubscriber(r, "sensors.*", false);
    const publisher = await r.publisher();
    await publisher.write("tempera");
    await publisher.write("ture=21\n");
    await nats.expect("MSG sensors.room1 1 14\r\ntemperature=21\r\n");
  });

  test("a frame's ID travels in Bun-Relay-Frame-Id to a headers client; a plain client gets the payload; the ack still comes", async () => {
    const r = relay({ pubFraming: "frame" });
    const withHeaders = await natsSubscriber(r, "relay", true);
    const plain = await natsSubscriber(r, "relay", false);
    const publisher = await r.publisher();
    await publisher.write(encodeSubmit("00000042", "payload"));
    const header = "NATS/1.0\r\nBun-Relay-Frame-Id: 00000042\r\n\r\n";
    await withHeaders.expect(
      `HMSG relay 1 ${header.length} ${header.length + 7}\r\n${header}payload\r\n`,
    );
    await plain.expect("MSG relay 1 7\r\npayload\r\n");
    await publisher.waitForBytes(14);
    expect(publisher.bytes()).toEqual(encodeSubmitAck("00000042", 0));
  });

  test("a line longer than --max-payload is not given to NATS subscribers, and is counted", async () => {
    const r = relay({ maxPayload: 8 });
    const nats = await natsSubscriber(r, "relay", false);
    const [line] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write("too long a line\nshort\n");
    await nats.expect("MSG relay 1 5\r\nshort\r\n");
    await line.waitForBytes(22);
    expect(r.relay.totals().messagesTooLargeForNats).toBe(1);
  });
});

describe("NATS publishers to line and frame subscribers of --sub-subject", () => {
  test("a line subscriber gets the body and \\n (headers dropped); a body holding \\n is skipped and counted", async () => {
    const r = relay();
    const [line] = (await r.subscribers(1)) as [TestClient];
    const nats = await natsPublisher(r);
    const header = "NATS/1.0\r\nX: y\r\n\r\n";
    nats.send(
      `PUB relay 5\r\nfirst\r\nPUB relay 3\r\na\nb\r\nHPUB relay ${header.length} ${header.length + 4}\r\n${header}last\r\nPUB other 1\r\nx\r\n`,
    );
    await line.waitForBytes(11);
    nats.send("PING\r\n");
    await nats.expect("PONG\r\n");
    expect(line.text()).toBe("first\nlast\n");
    expect(r.relay.totals().messagesNotLines).toBe(1);
  });

  test("a frame subscriber gets a Submit with a relay-assigned ID", async () => {
    const r = relay({ subFraming: "frame" });
    const [frames] = (await r.subscribers(1)) as [TestClient];
    const nats = await natsPublisher(r);
    nats.send("PUB relay 2\r\nhi\r\nPUB relay 0\r\n\r\n");
    const expected = Buffer.concat([encodeSubmit("00000001", "hi"), encodeSubmit("00000002", "")]);
    await frames.waitForBytes(expected.length);
    expect(Buffer.from(frames.bytes())).toEqual(expected);
  });

  test("--sub-subject with a wildcard: line subscribers get every matching subject, local lines included", async () => {
    const r = relay({ subject: "feed.local", subSubject: "feed.>" });
    const [line] = (await r.subscribers(1)) as [TestClient];
    const nats = await natsPublisher(r);
    nats.send("PUB feed.remote.a 6\r\nremote\r\nPUB elsewhere 2\r\nno\r\n");
    await line.waitForBytes(7);
    const publisher = await r.publisher();
    await publisher.write("local\n");
    await line.waitForBytes(13);
    expect(line.text()).toBe("remote\nlocal\n");
  });

  test("--sub-subject not matching --subject: lines go to NATS only, and line subscribers hear NATS only", async () => {
    const r = relay({ subject: "up", subSubject: "down" });
    const up = await natsSubscriber(r, "up", false);
    const [line] = (await r.subscribers(1)) as [TestClient];
    const publisher = await r.publisher();
    await publisher.write("to nats\n");
    await up.expect("MSG up 1 7\r\nto nats\r\n");
    const nats = await natsPublisher(r);
    nats.send("PUB down 8\r\nto lines\r\n");
    await line.waitForBytes(9);
    expect(line.text()).toBe("to lines\n");
  });

  test("a request to --subject with only line subscribers is delivered: no 503", async () => {
    const r = relay();
    const [line] = (await r.subscribers(1)) as [TestClient];
    const nats = await RawNatsClient.connect(r.relay.natsPort as number);
    await nats.info();
    nats.send(
      'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.x 9\r\nPUB relay _INBOX.x 3\r\nask\r\nPING\r\n',
    );
    await nats.expect("PONG\r\n");
    await line.waitForBytes(4);
    expect(line.text()).toBe("ask\n");
    await nats.expectOpen();
    expect(r.events.some(closeOf("subscriber"))).toBe(false);
  });
});
