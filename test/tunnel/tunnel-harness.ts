/**
 * Test support for the `tunnel` modes: our tunnel server and client started in this process
 * (ephemeral ports on 127.0.0.1) in front of forward's echo upstream, an event log to wait on,
 * echo transfers checked by SHA-256, and Go's smux-tunnel started as a process.
 *
 * Cleanup goes through test/mux/support.ts's onCleanup: call `cleanupAfterEach()` once at
 * the top of each test file.
 */
import path from "node:path";
import type { Subprocess } from "bun";
import { type MuxConfig, resolveConfig } from "../../src/mux/index.ts";
import { TunnelClient, type TunnelClientSettings } from "../../src/tunnel/tunnel-client.ts";
import type { TunnelEvent } from "../../src/tunnel/tunnel-events.ts";
import { TunnelServer, type TunnelServerSettings } from "../../src/tunnel/tunnel-server.ts";
import { EchoServer, PipeClient } from "../forward/forward-harness.ts";
import { goPeersDir } from "../mux/go-peers.ts";
import { onCleanup, until } from "../mux/support.ts";
import { ChildLines } from "../support/child.ts";
import { TypedEventLog } from "../support/event-log.ts";

export { EchoServer, PipeClient };

/** A tunnel side's events, to wait on (test/support/event-log.ts); waits time out after 8 s. */
export class TunnelLog extends TypedEventLog<TunnelEvent> {
  constructor() {
    super(8000);
  }
}

const TABLE_DEFAULTS = { maxConns: 0, idleTimeout: 0, halfCloseTimeout: 0, statsInterval: 0 };

/** Our tunnel server in front of `targetPort`. */
export function startServer(
  targetPort: number,
  mux: Partial<MuxConfig> = {},
  overrides: Partial<TunnelServerSettings> = {},
): { server: TunnelServer; log: TunnelLog } {
  const log = new TunnelLog();
  const server = new TunnelServer(
    {
      ...TABLE_DEFAULTS,
      listenHost: "127.0.0.1",
      listenPort: 0,
      targetHost: "127.0.0.1",
      targetPort,
      config: resolveConfig(mux),
      connectTimeout: 2,
      ...overrides,
    },
    log.listener,
  );
  onCleanup(() => server.stop());
  return { server, log };
}

/** Our tunnel client to `serverPort`; resolves once all its sessions are up (unless `wait` is false). */
export async function startClient(
  serverPort: number,
  mux: Partial<MuxConfig> = {},
  overrides: Partial<TunnelClientSettings> = {},
  wait = true,
): Promise<{ client: TunnelClient; log: TunnelLog }> {
  const log = new TunnelLog();
  const client = new TunnelClient(
    {
      ...TABLE_DEFAULTS,
      listenHost: "127.0.0.1",
      listenPort: 0,
      serverHost: "127.0.0.1",
      serverPort,
      conns: 2,
      config: resolveConfig(mux),
      connectTimeout: 2,
      ...overrides,
    },
    log.listener,
  );
  onCleanup(() => client.stop());
  if (wait) await until(() => client.pool.upCount === client.settings.conns, "sessions up");
  return { client, log };
}

/** echo <- our tunnel server <- our tunnel client, all in this process. */
export async function startTunnel(
  mux: Partial<MuxConfig> = {},
  options: {
    server?: Partial<TunnelServerSettings>;
    client?: Partial<TunnelClientSettings>;
  } = {},
) {
  const echo = new EchoServer();
  onCleanup(() => echo.stop());
  const { server, log: serverLog } = startServer(echo.port, mux, options.server);
  const { client, log: clientLog } = await startClient(server.port, mux, options.client);
  return { echo, server, serverLog, client, clientLog };
}

export function sha256(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** `length` bytes of a fixed pattern that differs every 1 MiB (cheap to make and to check). */
export function patterned(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + (i >> 9) + seed) & 0xff;
  return out;
}

/**
 * Sends `data` through `port`, waits for the whole echo, then half-closes and waits for the
 * close. Reading everything back before the FIN matters for Go peers: Go's smux-tunnel
 * closes the whole stream on the first EOF, and Go's v2 writer stops once a FIN arrived.
 * Resolves with the SHA-256 of what came back and the client.
 */
export async function echoThrough(
  port: number,
  data: Uint8Array,
): Promise<{ sha: string; client: PipeClient }> {
  const client = await PipeClient.connect(port, { keep: false });
  await client.write(data);
  await client.waitForBytes(data.length);
  client.halfClose();
  await client.closed;
  return { sha: client.hash?.digest("hex") ?? "", client };
}

/** A port that was free a moment ago (Go's smux-tunnel needs a number up front). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Resolves once `port` accepts a TCP connection (polls: the other process gives no signal). */
export async function listening(port: number, child: Subprocess): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening`);
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch (error) {
      if (performance.now() > giveUpAt) throw error;
      await Bun.sleep(20);
    }
  }
}

/**
 * Starts Go's `smux-tunnel -mode client|server` (shared/peers/go-smux) on a free port and
 * resolves with that port once it listens. `to` is -server for a client, -target for a server.
 */
export async function startGoTunnel(
  mode: "client" | "server",
  to: number,
  version: 1 | 2,
): Promise<number> {
  const dir = await goPeersDir();
  const port = freePort();
  const child = Bun.spawn(
    [
      path.join(dir, "smux-tunnel"),
      "-mode",
      mode,
      "-listen",
      `127.0.0.1:${port}`,
      mode === "client" ? "-server" : "-target",
      `127.0.0.1:${to}`,
      "-v",
      String(version),
      ...(mode === "client" ? ["-conns", "2"] : []),
    ],
    { stdout: "ignore", stderr: "inherit" },
  );
  const stop = () => child.kill();
  process.on("exit", stop);
  onCleanup(async () => {
    child.kill();
    await child.exited;
    process.off("exit", stop);
  });
  await listening(port, child);
  return port;
}

/**
 * `bun run src/main.ts tunnel ARGS` as a child process (killed at cleanup), with its stdout
 * as lines to wait for (`out.waitFor`); its stderr goes to the test's.
 */
export function spawnTunnel(args: string[]): {
  child: Subprocess<"ignore", "pipe", "inherit">;
  out: ChildLines;
} {
  const child = Bun.spawn(["bun", "run", "src/main.ts", "tunnel", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  onCleanup(() => {
    child.kill();
  });
  return { child, out: new ChildLines(child.stdout) };
}
