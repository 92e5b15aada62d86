import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/forward/forward-config.ts";
import { checkNotOpenProxy } from "../../src/proxy/proxy-cli.ts";
import { parseAllowPattern } from "../../src/proxy/proxy-policy.ts";
import { ProxyServer, type ProxySettings } from "../../src/proxy/proxy-server.ts";
import {
  cleanupAfterEach,
  closedPort,
  EchoServer,
  EventLog,
  PipeClient,
  unacceptedPort,
} from "../forward/forward-harness.ts";

const cleanup = cleanupAfterEach();

function startProxy(overrides: Partial<ProxySettings> = {}): { proxy: ProxyServer; log: EventLog } {
  const log = new EventLog();
  const proxy = new ProxyServer(
    {
      listenHost: "127.0.0.1",
      listenPort: 0,
      connectTimeout: 2,
      idleTimeout: 0,
      halfCloseTimeout: 0,
      maxConns: 0,
      statsInterval: 0,
      allow: [],
      allowAny: true,
      auth: undefined,
      maxHead: 8192,
      headTimeout: 5,
      ...overrides,
    },
    log.listener,
  );
  cleanup.push(() => proxy.stop());
  return { proxy, log };
}

function echoServer(): EchoServer {
  const echo = new EchoServer();
  cleanup.push(() => echo.stop());
  return echo;
}

/** Sends `head`, waits for the proxy to finish its answer (FIN) and returns the status line. */
async function refusal(port: number, head: string): Promise<{ status: string; text: string }> {
  const client = await PipeClient.connect(port);
  await client.write(head);
  await client.ended;
  client.end();
  const text = client.text();
  return { status: text.slice(0, text.indexOf("\r\n")), text };
}

const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";

describe("proxy CONNECT", () => {
  test("answers 200 and then tunnels both ways, including bytes sent right after the head", async () => {
    const echo = echoServer();
    const { proxy, log } = startProxy();
    const client = await PipeClient.connect(proxy.port);
    await client.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\nearly`);
    await client.waitForBytes(ESTABLISHED.length + 5);
    await client.write(" and late");
    client.halfClose();
    await client.closed;
    expect(client.text()).toBe(`${ESTABLISHED}early and late`);
    const open = await log.waitFor("open");
    expect(open.upstream).toBe(`127.0.0.1:${echo.port}`);
    const close = await log.waitFor("close");
    expect(close).toMatchObject({ reason: "peer_closed", bytesUp: 14, bytesDown: 14 });
  });

  test("answers 405 to a method other than CONNECT", async () => {
    const { proxy, log } = startProxy();
    const { status, text } = await refusal(proxy.port, "GET http://example.com/ HTTP/1.1\r\n\r\n");
    expect(status).toBe("HTTP/1.1 405 Method Not Allowed");
    expect(text).toContain("Allow: CONNECT\r\n");
    expect((await log.waitFor("close")).reason).toBe("bad_request");
  });

  test("answers 400 to a malformed head and to one larger than --max-head", async () => {
    const { proxy } = startProxy({ maxHead: 256 });
    expect((await refusal(proxy.port, "CONNECT nowhere HTTP/1.1\r\n\r\n")).status).toBe(
      "HTTP/1.1 400 Bad Request",
    );
    const big = `CONNECT h:1 HTTP/1.1\r\nX: ${"a".repeat(1000)}\r\n\r\n`;
    const answer = await refusal(proxy.port, big);
    expect(answer.status).toBe("HTTP/1.1 400 Bad Request");
    expect(answer.text).toContain("request head larger than 256 bytes");
  });

  test("answers 408 when the head does not arrive within --head-timeout", async () => {
    const { proxy, log } = startProxy({ headTimeout: 0.2 });
    const started = performance.now();
    const { status } = await refusal(proxy.port, "CONNECT 127.0.0.1:1 HTTP/1.1\r\n");
    expect(status).toBe("HTTP/1.1 408 Request Timeout");
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect((await log.waitFor("close")).reason).toBe("head_timeout");
  });

  test("answers 403 to a target outside --allow", async () => {
    const echo = echoServer();
    const { proxy, log } = startProxy({
      allowAny: false,
      allow: [parseAllowPattern(`127.0.0.1:${echo.port}`)],
    });
    const { status } = await refusal(proxy.port, "CONNECT 127.0.0.1:22 HTTP/1.1\r\n\r\n");
    expect(status).toBe("HTTP/1.1 403 Forbidden");
    expect((await log.waitFor("close")).reason).toBe("forbidden");
    expect(echo.accepted).toBe(0);
    const allowed = await PipeClient.connect(proxy.port);
    await allowed.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`);
    await allowed.waitForBytes(ESTABLISHED.length);
    expect(allowed.text()).toBe(ESTABLISHED);
    allowed.end();
  });

  test("answers 407 with Proxy-Authenticate without the right credentials, 200 with them", async () => {
    const echo = echoServer();
    const { proxy } = startProxy({ auth: "alice:s3cret" });
    const head = `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n`;
    const missing = await refusal(proxy.port, `${head}\r\n`);
    expect(missing.status).toBe("HTTP/1.1 407 Proxy Authentication Required");
    expect(missing.text).toContain('Proxy-Authenticate: Basic realm="bun-relay"\r\n');
    const wrong = `Proxy-Authorization: Basic ${btoa("alice:wrong")}\r\n\r\n`;
    expect((await refusal(proxy.port, head + wrong)).status).toContain("407");
    const client = await PipeClient.connect(proxy.port);
    await client.write(`${head}Proxy-Authorization: Basic ${btoa("alice:s3cret")}\r\n\r\nok`);
    await client.waitForBytes(ESTABLISHED.length + 2);
    expect(client.text()).toBe(`${ESTABLISHED}ok`);
    client.end();
  });

  test("answers 502 when the target refuses", async () => {
    const { proxy, log } = startProxy();
    const port = closedPort();
    const { status, text } = await refusal(
      proxy.port,
      `CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`,
    );
    expect(status).toBe("HTTP/1.1 502 Bad Gateway");
    expect(text).toContain("ECONNREFUSED");
    expect((await log.waitFor("close")).reason).toBe("connect_failed");
  });

  test("answers 504 when the target does not accept within --connect-timeout", async () => {
    const slow = await unacceptedPort();
    cleanup.push(() => slow.close());
    const { proxy, log } = startProxy({ connectTimeout: 0.2 });
    const { status } = await refusal(proxy.port, `CONNECT 127.0.0.1:${slow.port} HTTP/1.1\r\n\r\n`);
    expect(status).toBe("HTTP/1.1 504 Gateway Timeout");
    expect((await log.waitFor("close")).reason).toBe("connect_timeout");
  });

  test("refuses to start as an open proxy beyond loopback without --allow or --allow-any", () => {
    const config = defaultConfig("proxy");
    config.listen = { host: "0.0.0.0", port: 0 };
    expect(() => checkNotOpenProxy(config)).toThrow("RELAY_ERR_OPEN_PROXY");
    expect(() => checkNotOpenProxy({ ...config, allowAny: true })).not.toThrow();
    expect(() =>
      checkNotOpenProxy({ ...config, allow: [parseAllowPattern("*:443")] }),
    ).not.toThrow();
    expect(() =>
      checkNotOpenProxy({ ...config, listen: { host: "127.0.0.1", port: 0 } }),
    ).not.toThrow();
  });

  const curl = Bun.which("curl");
  test.skipIf(curl === null)("curl -p -x tunnels an HTTP request through the proxy", async () => {
    const web = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("hello through the tunnel\n"),
    });
    cleanup.push(() => web.stop(true));
    const { proxy, log } = startProxy();
    const run = Bun.spawn(
      [
        curl as string,
        "-sS",
        "--max-time",
        "5",
        "-p",
        "-x",
        `http://127.0.0.1:${proxy.port}`,
        `http://127.0.0.1:${web.port}/`,
      ],
      { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } },
    );
    const [out, err, code] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
      run.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toBe("hello through the tunnel\n");
    expect((await log.waitFor("open")).upstream).toBe(`127.0.0.1:${web.port}`);
  });
});
