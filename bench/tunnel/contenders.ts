/**
 * The tunnels `bench:tunnel` compares, each a pair of processes (server side and client side)
 * in front of one target port: ours (`tunnel server` + `tunnel client`) and Go's smux-tunnel
 * (shared/peers/go-smux, Debian's smux 1.5.16), same smux version and pool size, plus no
 * tunnel at all as the ceiling.
 */
import path from "node:path";
import type { Subprocess } from "bun";
import { freePort, waitUntilListening } from "../lib/pipe-bench.ts";

export interface Running {
  /** Where load goes: the client side's listening port. */
  port: number;
  stop(): Promise<void>;
}

export interface Contender {
  name: string;
  start(targetPort: number): Promise<Running>;
}

/**
 * Starts the server side, then the client side, each once listening. `graceful`: stop with
 * SIGTERM (ours exits at once with --shutdown-timeout 0, and writes its CPU profile);
 * otherwise SIGKILL.
 */
async function spawnPair(
  server: string[],
  client: string[],
  serverPort: number,
  clientPort: number,
  graceful: boolean,
): Promise<Running> {
  const serverChild = Bun.spawn(server, { stdout: "ignore", stderr: "inherit" });
  await waitUntilListening(serverPort, serverChild, 10_000);
  const clientChild = Bun.spawn(client, { stdout: "ignore", stderr: "inherit" });
  await waitUntilListening(clientPort, clientChild, 10_000);
  const stopOne = async (child: Subprocess) => {
    child.kill(graceful ? "SIGTERM" : "SIGKILL");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child.exited;
    clearTimeout(killer);
  };
  return {
    port: clientPort,
    stop: async () => {
      await stopOne(clientChild);
      await stopOne(serverChild);
    },
  };
}

export const direct: Contender = {
  name: "direct (no tunnel)",
  start: async (targetPort) => ({ port: targetPort, stop: async () => {} }),
};

/** Ours: `bun run src/main.ts tunnel server|client`, quiet, no stats lines. */
export function ours(version: 1 | 2, conns: number, profileDir?: string): Contender {
  let started = 0;
  // One profile per process: `client-1.cpuprofile` (bulk, to the sink), `client-2` (echo), ...
  const profile = (side: string) =>
    profileDir
      ? [
          "--cpu-prof",
          "--cpu-prof-dir",
          profileDir,
          "--cpu-prof-name",
          `${side}-${started}.cpuprofile`,
        ]
      : [];
  return {
    name: `bun-relay tunnel (v${version}, ${conns} sessions)`,
    start: (targetPort) => {
      started++;
      const serverPort = freePort();
      const clientPort = freePort();
      const common = [
        "--quiet",
        "--stats-interval",
        "0",
        "--shutdown-timeout",
        "0",
        "--smux-version",
        String(version),
      ];
      return spawnPair(
        [
          "bun",
          ...profile("server"),
          "src/main.ts",
          "tunnel",
          "server",
          "--listen",
          `127.0.0.1:${serverPort}`,
          "--to",
          `127.0.0.1:${targetPort}`,
          ...common,
        ],
        [
          "bun",
          ...profile("client"),
          "src/main.ts",
          "tunnel",
          "client",
          "--listen",
          `127.0.0.1:${clientPort}`,
          "--server",
          `127.0.0.1:${serverPort}`,
          "--conns",
          String(conns),
          ...common,
        ],
        serverPort,
        clientPort,
        true,
      );
    },
  };
}

/** Go: smux-tunnel -mode server|client from shared/peers/go-smux. */
export function go(binary: string, version: 1 | 2, conns: number): Contender {
  return {
    name: `Go smux-tunnel (v${version}, ${conns} sessions)`,
    start: (targetPort) => {
      const serverPort = freePort();
      const clientPort = freePort();
      const v = ["-v", String(version)];
      return spawnPair(
        [
          binary,
          "-mode",
          "server",
          "-listen",
          `127.0.0.1:${serverPort}`,
          "-target",
          `127.0.0.1:${targetPort}`,
          ...v,
        ],
        [
          binary,
          "-mode",
          "client",
          "-listen",
          `127.0.0.1:${clientPort}`,
          "-server",
          `127.0.0.1:${serverPort}`,
          "-conns",
          String(conns),
          ...v,
        ],
        serverPort,
        clientPort,
        false,
      );
    },
  };
}

/** Builds the Go peers (their build.sh prints the binaries' folder last) and returns smux-tunnel's path. */
export async function buildGoTunnel(): Promise<string> {
  const script = path.resolve(import.meta.dir, "../../../shared/peers/go-smux/build.sh");
  const child = Bun.spawn(["bash", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`${script} exited ${code}:\n${out}${err}`);
  const lines = out.trim().split("\n");
  return path.join((lines[lines.length - 1] as string).trim(), "smux-tunnel");
}
