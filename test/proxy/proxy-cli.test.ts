/**
 * `bun run src/main.ts proxy …` as users run it (src/proxy/proxy-cli.ts): the open-proxy
 * rule, metrics, and the policy a SIGHUP with --config changes while it runs.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EchoServer, PipeClient } from "../forward/forward-harness.ts";
import { ChildLines, relayProcesses, runToExit } from "../support/child.ts";

setDefaultTimeout(30_000);

const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "bun-relay-proxy-"));
const echo = new EchoServer();
afterAll(() => {
  echo.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("on 0.0.0.0 without --allow is a configuration error (exit 2)", async () => {
  const { status, stderr } = await runToExit(spawn, ["proxy", "--listen", "0.0.0.0:0"]);
  expect(status).toBe(2);
  expect(stderr).toBe(
    "bun-relay: proxy: refusing to listen on 0.0.0.0 without --allow (anyone who can reach it could tunnel anywhere); add --allow HOST:PORT patterns or --allow-any\n" +
      "Try 'bun run src/main.ts proxy --help'.\n",
  );
});

test("--metrics-port 0 serves bun_relay_forward_* metrics and /healthz", async () => {
  const child = spawn(["proxy", "--listen", "127.0.0.1:0", "--metrics-port", "0"]);
  const out = new ChildLines(child.stdout);
  const port = Number((await out.match(/LISTEN proxy on 127\.0\.0\.1:(\d+)$/))[1]);
  const url = (await out.match(/LISTEN metrics on (http:\/\/\S+)$/))[1] as string;
  const client = await PipeClient.connect(port);
  await client.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\nhello`);
  await client.waitForBytes(39 + 5);
  client.halfClose();
  await client.closed;
  await out.waitFor(/CLOSE proxy/);
  const metrics = await (await fetch(url)).text();
  expect(metrics).toContain('bun_relay_forward_connections_opened_total{mode="proxy"} 1');
  expect(metrics).toContain(
    'bun_relay_forward_connections_closed_total{mode="proxy",reason="peer_closed"} 1',
  );
  expect(metrics).toContain('bun_relay_forward_bytes_total{mode="proxy",direction="up"} 5');
  expect(metrics).toContain('bun_relay_forward_bytes_total{mode="proxy",direction="down"} 5');
  expect((await fetch(url.replace("/metrics", "/healthz"))).status).toBe(200);
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

test("SIGHUP with --config changes --allow live", async () => {
  const path = join(dir, "proxy.toml");
  writeFileSync(path, "[proxy]\nlisten = '127.0.0.1:0'\nallow = ['127.0.0.1:1']\n");
  const child = spawn(["proxy", "--config", path]);
  const out = new ChildLines(child.stdout);
  const port = Number((await out.match(/LISTEN proxy on 127\.0\.0\.1:(\d+)$/))[1]);
  const connect = async () => {
    const client = await PipeClient.connect(port);
    await client.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`);
    await client.waitForBytes(12);
    const status = client.text().slice(0, 12);
    client.reset();
    return status;
  };
  expect(await connect()).toBe("HTTP/1.1 403");
  writeFileSync(path, `[proxy]\nlisten = '127.0.0.1:0'\nallow = ['127.0.0.1:${echo.port}']\n`);
  child.kill("SIGHUP");
  expect(await out.waitFor(/ RELOAD .*proxy\.toml/)).toEndWith(
    ` RELOAD ${path}: changed --allow=127.0.0.1:${echo.port}`,
  );
  expect(await connect()).toBe("HTTP/1.1 200");
  // A new password applies, and the RELOAD line says so without showing it.
  writeFileSync(
    path,
    `[proxy]\nlisten = '127.0.0.1:0'\nallow = ['127.0.0.1:${echo.port}']\nauth = 'alice:topsecret'\n`,
  );
  child.kill("SIGHUP");
  const reload = await out.waitFor(/ RELOAD .*--auth/);
  expect(reload).toEndWith(` RELOAD ${path}: changed --auth=(not shown)`);
  expect(reload).not.toContain("topsecret");
  expect(await connect()).toBe("HTTP/1.1 407");
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});
