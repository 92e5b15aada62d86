/**
 * Our tunnel modes against Go smux 1.5.16 (Debian's xtaci/smux, shared/peers/go-smux), every
 * transfer checked byte for byte: Go's smux-client verifies its own echoes; our TCP clients
 * compare SHA-256. Skipped, with the reason, when Go or Debian's smux source is missing
 * (CI installs golang-go and golang-github-xtaci-smux-dev).
 */
import { describe, expect, test } from "bun:test";
import { goSkipReason, runGoClient, startGoEchoServer } from "../mux/go-peers.ts";
import { cleanupAfterEach } from "../mux/support.ts";
import {
  EchoServer,
  echoThrough,
  patterned,
  sha256,
  startClient,
  startGoTunnel,
  startServer,
} from "./tunnel-harness.ts";

cleanupAfterEach();

if (goSkipReason !== undefined) console.warn(`tunnel Go interop skipped: ${goSkipReason}`);
const withGo = goSkipReason === undefined ? describe : describe.skip;

for (const version of [1, 2] as const) {
  withGo(`tunnel interop with Go smux, v${version}`, () => {
    test(`Go smux-client -v ${version}: 100 streams x 100 KB through our tunnel server to an echo`, async () => {
      const echo = new EchoServer();
      const { server, log } = startServer(echo.port, { version });
      try {
        const result = await runGoClient(server.port, version, 100, 100_000);
        expect(result.stderr).not.toContain("FAIL");
        expect(result.stdout).toContain("OK streams=100 bytes=100000");
        expect(result.code).toBe(0);
        const down = await log.waitFor("session_down");
        expect(down.streams).toBe(100);
        expect(server.table.totals.opened).toBe(100);
      } finally {
        echo.stop();
      }
    }, 30_000);

    test(`our tunnel client against Go smux-echo-server -v ${version}: 8 clients, 1 MB each`, async () => {
      const goPort = await startGoEchoServer(version);
      const { client, log } = await startClient(goPort, { version });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const data = patterned(1_000_000, i);
          return echoThrough(client.port, data).then((r) => ({ ...r, want: sha256(data) }));
        }),
      );
      for (const { sha, want } of results) expect(sha).toBe(want);
      await until(() => client.table.totals.closed === 8);
      // Both pool sessions carried streams (fewest open streams first).
      const slots = new Set(log.of("open").map((open) => /session (\d+)/.exec(open.upstream)?.[1]));
      expect(slots.size).toBe(2);
    }, 30_000);

    test(`our tunnel client -> Go smux-tunnel server -> echo, v${version}: SHA-256 equal`, async () => {
      const echo = new EchoServer();
      const goServer = await startGoTunnel("server", echo.port, version);
      const { client } = await startClient(goServer, { version });
      try {
        const data = patterned(8 * 1024 * 1024, 7);
        const { sha } = await echoThrough(client.port, data);
        expect(sha).toBe(sha256(data));
      } finally {
        echo.stop();
      }
    }, 30_000);

    test(`Go smux-tunnel client -> our tunnel server -> echo, v${version}: SHA-256 equal`, async () => {
      const echo = new EchoServer();
      const { server } = startServer(echo.port, { version });
      const goClient = await startGoTunnel("client", server.port, version);
      try {
        const data = patterned(8 * 1024 * 1024, 9);
        const runs = await Promise.all([0, 1, 2, 3].map(() => echoThrough(goClient, data)));
        for (const { sha } of runs) expect(sha).toBe(sha256(data));
      } finally {
        echo.stop();
      }
    }, 30_000);
  });
}

async function until(predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error("condition not reached");
    await Bun.sleep(5);
  }
}
