/**
 * `bun run src/main.ts tunnel …` as a user runs it: two processes (server and client) in
 * front of an echo, their LISTEN/OPEN/CLOSE/SESSION lines, the metrics endpoint, SIGTERM
 * (exit 0), a bad flag (exit 2, one line) and a taken port (exit 1).
 */
import { expect, test } from "bun:test";
import { cleanupAfterEach, onCleanup } from "../mux/support.ts";
import { EchoServer, echoThrough, patterned, sha256, spawnTunnel } from "./tunnel-harness.ts";

cleanupAfterEach();

/** Reads a child's stdout line by line; `next(test)` resolves with the first matching line. */
const portOf = (line: string) => Number(/ on [\d.]+:(\d+) /.exec(line)?.[1]);

test("`main.ts tunnel server` and `tunnel client`: LISTEN, OPEN/CLOSE with streams, metrics, SIGTERM exits 0", async () => {
  const echo = new EchoServer();
  onCleanup(() => echo.stop());
  const server = spawnTunnel([
    "server",
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${echo.port}`,
    "--smux-version",
    "2",
  ]);
  const serverPort = portOf(await server.out.waitFor((l) => l.includes("LISTEN tunnel-server")));
  const client = spawnTunnel([
    "client",
    "--listen",
    "127.0.0.1:0",
    "--server",
    `127.0.0.1:${serverPort}`,
    "--conns",
    "2",
    "--smux-version",
    "2",
    "--metrics-port",
    "0",
  ]);
  const listen = await client.out.waitFor((l) => l.includes("LISTEN tunnel-client"));
  expect(listen).toContain(`-> 127.0.0.1:${serverPort} (2 session(s), smux v2)`);
  const metricsUrl = /LISTEN metrics on (\S+)/.exec(
    await client.out.waitFor((l) => l.includes("LISTEN metrics")),
  )?.[1];
  await client.out.waitFor((l) => l.includes("SESSION_UP tunnel-client session 2"));
  const data = patterned(2 * 1024 * 1024);
  const { sha } = await echoThrough(portOf(listen), data);
  expect(sha).toBe(sha256(data));
  const open = await client.out.waitFor((l) => l.includes("OPEN tunnel-client #1"));
  expect(open).toMatch(/-> 127\.0\.0\.1:\d+ session \d stream 3$/);
  const close = await server.out.waitFor((l) => l.includes("CLOSE tunnel-server #1"));
  expect(close).toContain(`stream 3 -> 127.0.0.1:${echo.port} reason=peer_closed`);
  expect(close).toContain(`up=${data.length}B down=${data.length}B`);

  const metrics = await (await fetch(metricsUrl as string)).text();
  expect(metrics).toContain('bun_relay_tunnel_sessions{mode="tunnel-client"} 2');
  expect(metrics).toContain('bun_relay_tunnel_connections_opened_total{mode="tunnel-client"} 1');
  expect(metrics).toContain(
    `bun_relay_tunnel_bytes_total{mode="tunnel-client",direction="up"} ${data.length}`,
  );
  expect(metrics).toMatch(
    /bun_relay_tunnel_session_bytes_total\{mode="tunnel-client",direction="out"\} \d+/,
  );

  client.child.kill("SIGTERM");
  expect(await client.child.exited).toBe(0);
  await client.out.waitFor((l) => l.includes("SIGNAL SIGTERM"));
  await server.out.waitFor((l) => l.includes("SESSION_DOWN tunnel-server"));
  server.child.kill("SIGTERM");
  expect(await server.child.exited).toBe(0);
}, 20_000);

test("`main.ts tunnel` with a bad flag exits 2 with a one-line reason", async () => {
  const child = Bun.spawn(
    ["bun", "run", "src/main.ts", "tunnel", "client", "--server", "h:1", "--max-frame", "1MiB"],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  expect(code).toBe(2);
  expect(stderr).toBe(
    "bun-relay: tunnel client: smux settings: max frame size must not be larger than 65535\n" +
      "Try 'bun run src/main.ts tunnel client --help'.\n",
  );
});

test("`main.ts tunnel server` on a taken port exits 1", async () => {
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  onCleanup(() => taken.stop(true));
  const child = Bun.spawn(
    [
      "bun",
      "run",
      "src/main.ts",
      "tunnel",
      "server",
      "--listen",
      `127.0.0.1:${taken.port}`,
      "--to",
      "127.0.0.1:1",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  expect(code).toBe(1);
  expect(stderr).toBe(`bun-relay: tunnel server port 127.0.0.1:${taken.port} is already in use\n`);
});

test("`main.ts tunnel --help` and `tunnel client --help` print help and exit 0", async () => {
  for (const args of [["--help"], ["client", "--help"], ["server", "-h"]]) {
    const child = Bun.spawn(["bun", "run", "src/main.ts", "tunnel", ...args], { stdout: "pipe" });
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(0);
    expect(stdout).toContain("bun-relay tunnel");
  }
});
