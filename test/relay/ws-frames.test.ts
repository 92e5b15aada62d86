/**
 * The WebSocket port at the byte level (test/relay/ws-raw-client.ts): NATS operations are a
 * byte stream across frames (several in one frame, one cut anywhere across two), origins are
 * checked at the upgrade with nats-server's 403, a relay-side close sends what was queued and
 * then a close frame with nats-server's status, and a client that stops reading is cut as a
 * slow consumer, counted and logged.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { formatEvent } from "../../src/log.ts";
import { parseAllowedOrigin } from "../../src/relay/ws-origin.ts";
import { wsCloseStatus } from "../../src/relay/ws-socket.ts";
import { closeOf, relayPerTest } from "../support/harness.ts";
import { RawWsClient } from "./ws-raw-client.ts";

setDefaultTimeout(20_000);
const start = relayPerTest();
const wsOnly = { wsPort: 0, pubPort: undefined, subPort: undefined } as const;

const SESSION = 'CONNECT {"verbose":false}\r\nSUB x 1\r\nPUB x 5\r\nhello\r\nPING\r\n';
const ANSWER = "MSG x 1 5\r\nhello\r\nPONG\r\n";

/** What came after the INFO line. */
function afterInfo(client: RawWsClient): string {
  const text = client.text();
  return text.slice(text.indexOf("\r\n") + 2);
}

describe("NATS operations across WebSocket frames", () => {
  test("one frame holding several operations", async () => {
    const r = start(wsOnly);
    const client = await RawWsClient.connect({ port: r.relay.wsPort as number });
    expect(client.status).toBe(101);
    client.send(SESSION);
    await client.until(() => afterInfo(client).length >= ANSWER.length);
    expect(client.text().startsWith("INFO {")).toBe(true);
    expect(afterInfo(client)).toBe(ANSWER);
    client.socket.end();
  });

  test("an operation cut at every point across two frames", async () => {
    const r = start(wsOnly);
    const port = r.relay.wsPort as number;
    for (let cut = 1; cut < SESSION.length; cut++) {
      const client = await RawWsClient.connect({ port });
      client.send(SESSION.slice(0, cut));
      client.send(SESSION.slice(cut));
      await client.until(() => afterInfo(client).length >= ANSWER.length);
      expect({ cut, got: afterInfo(client) }).toEqual({ cut, got: ANSWER });
      client.socket.end();
    }
  });

  test("a relay-side close: the -ERR first, then close frame 1008 (auth) as nats-server", async () => {
    const r = start({ ...wsOnly, user: "u", pass: "p" });
    const client = await RawWsClient.connect({ port: r.relay.wsPort as number });
    client.send('CONNECT {"verbose":false,"user":"u","pass":"no"}\r\n');
    await client.until(() => client.closeStatus !== undefined);
    expect(afterInfo(client)).toBe("-ERR 'Authorization Violation'\r\n");
    expect(client.closeStatus).toBe(1008);
    await r.waitFor(closeOf("ws-client", "auth_failed"));
  });
});

describe("close statuses", () => {
  test("shutdown flushes what is queued, then close frame 1001 (going away)", async () => {
    const r = start(wsOnly);
    const client = await RawWsClient.connect({ port: r.relay.wsPort as number });
    client.send(SESSION);
    await client.until(() => afterInfo(client).length >= ANSWER.length);
    await r.relay.shutdown(1);
    await client.until(() => client.closeStatus !== undefined);
    expect(client.closeStatus).toBe(1001);
    expect(afterInfo(client)).toBe(ANSWER);
    await r.waitFor(closeOf("ws-client", "shutdown"));
  });

  test.each([
    [undefined, 1000],
    ["peer_closed", 1000],
    ["slow_consumer", 1008],
    ["write_timeout", 1008],
    ["max_conns", 1008],
    ["auth_timeout", 1008],
    ["protocol_error", 1002],
    ["shutdown", 1001],
    ["stale_connection", 1001],
  ] as const)("reason %s is status %d, as websocket.go maps it", (reason, status) => {
    expect(wsCloseStatus(reason)).toBe(status);
  });
});

describe("origins (nats-server's allowed_origins and same_origin)", () => {
  const allowed = [parseAllowedOrigin("https://app.example.com")];

  test("a listed origin is upgraded; another gets 403, counted and logged", async () => {
    const r = start({ ...wsOnly, wsAllowedOrigins: allowed });
    const port = r.relay.wsPort as number;
    const ok = await RawWsClient.connect({ port, headers: { Origin: "https://app.example.com" } });
    expect(ok.status).toBe(101);
    ok.socket.end();
    const wrongPort = await RawWsClient.connect({
      port,
      headers: { Origin: "https://app.example.com:8443" },
    });
    expect(wrongPort.statusLine).toBe("HTTP/1.1 403 Forbidden");
    const other = await RawWsClient.connect({ port, headers: { Origin: "http://evil.example" } });
    expect(other.status).toBe(403);
    const refusal = await r.waitFor((e) => e.type === "access_refused" && e.reason === "origin");
    expect(formatEvent(refusal, false)).toContain("REFUSED ws 127.0.0.1:");
    const counters = r.relay.access.counters;
    expect(counters.get(counters.refused, "ws", "origin")).toBe(2);
  });

  test("no Origin header (not a browser) is upgraded, as nats-server does", async () => {
    const r = start({ ...wsOnly, wsAllowedOrigins: allowed });
    const client = await RawWsClient.connect({ port: r.relay.wsPort as number });
    expect(client.status).toBe(101);
    client.socket.end();
  });

  test("--ws-same-origin: the page's origin must be the Host it connected to", async () => {
    const r = start({ ...wsOnly, wsSameOrigin: true });
    const port = r.relay.wsPort as number;
    const same = await RawWsClient.connect({
      port,
      headers: { Origin: `http://127.0.0.1:${port}` },
    });
    expect(same.status).toBe(101);
    same.socket.end();
    const cross = await RawWsClient.connect({ port, headers: { Origin: "http://127.0.0.1:1" } });
    expect(cross.status).toBe(403);
  });

  test("--allow-from: a peer outside every range gets 403 before the upgrade", async () => {
    const r = start({ ...wsOnly, allowFrom: ["10.0.0.0/8"] });
    const client = await RawWsClient.connect({ port: r.relay.wsPort as number });
    expect(client.status).toBe(403);
    const counters = r.relay.access.counters;
    expect(counters.get(counters.refused, "ws", "allow_from")).toBe(1);
  });
});

describe("a WebSocket client that stops reading", () => {
  test("is cut as a slow consumer: counter, close reason and log line", async () => {
    const r = start({
      wsPort: 0,
      subPort: undefined,
      subject: "feed",
      maxPending: 256 * 1024,
      slowConsumer: "disconnect",
    });
    const client = await RawWsClient.connect({ port: r.relay.wsPort as number });
    client.send('CONNECT {"verbose":false}\r\nSUB feed 1\r\nPING\r\n');
    await client.until(() => client.text().includes("PONG\r\n"));
    client.socket.pause(); // reads nothing more: the kernel's buffers fill, then ours
    const publisher = await Bun.connect({
      hostname: "127.0.0.1",
      port: r.relay.pubPort,
      socket: { data() {} },
    });
    const line = `${"x".repeat(1023)}\n`;
    const chunk = line.repeat(256); // 256 KiB
    let cut = false;
    const closed = r.waitFor(closeOf("ws-client", "slow_consumer")).then((event) => {
      cut = true;
      return event;
    });
    for (let sent = 0; !cut && sent < 256; sent++) {
      publisher.write(chunk);
      await new Promise((resolve) => setImmediate(resolve)); // the relay reads; ends at the cut
    }
    const event = await closed;
    expect(r.relay.hub.counters.slowConsumerDisconnects).toBe(1);
    // Bun never had to drop a frame: what it did not take stayed in our accounted backlog.
    expect(r.relay.wsListener?.counters.sendsRefused).toBe(0);
    expect(formatEvent(event, false)).toMatch(
      /CLOSE ws-client 127\.0\.0\.1:\d+ reason=slow_consumer .*over --max-pending 262144 B/,
    );
    publisher.end();
  });
});
