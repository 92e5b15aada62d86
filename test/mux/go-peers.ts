/**
 * The Go smux peers (Debian's xtaci/smux 1.5.16, shared/peers/go-smux): found, built once per
 * test run by their build.sh (whose last printed line is the binaries' folder), and started.
 *
 * Tests that need them skip, saying why, when `go` or Debian's smux source is not installed:
 * CI installs golang-go and golang-github-xtaci-smux-dev.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Subprocess } from "bun";
import { onCleanup } from "./support.ts";

const BUILD_SH = path.resolve(import.meta.dir, "../../../shared/peers/go-smux/build.sh");
const SMUX_SOURCE = "/usr/share/gocode/src/github.com/xtaci/smux/session.go";

/** Why the Go peers cannot run here, or undefined when they can. */
export const goSkipReason: string | undefined = !existsSync(BUILD_SH)
  ? `no ${BUILD_SH}`
  : Bun.which("go") === null
    ? "`go` is not installed (Debian package golang-go)"
    : !existsSync(SMUX_SOURCE)
      ? `no ${SMUX_SOURCE} (Debian package golang-github-xtaci-smux-dev)`
      : undefined;

let built: Promise<string> | undefined;

/** Servers still running: killed after their test, and at exit should a test not get there. */
const running = new Set<Subprocess>();
process.on("exit", () => {
  for (const child of running) child.kill();
});

/** Builds the peers (once per run) and resolves with the folder holding the binaries. */
export function goPeersDir(): Promise<string> {
  built ??= (async () => {
    const child = Bun.spawn(["bash", BUILD_SH], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    if (code !== 0) throw new Error(`${BUILD_SH} exited ${code}:\n${out}${err}`);
    const lines = out.trim().split("\n");
    return (lines[lines.length - 1] as string).trim();
  })();
  return built;
}

/** Starts `smux-echo-server -v version` on an ephemeral port; resolves with its port. */
export async function startGoEchoServer(version: 1 | 2): Promise<number> {
  const dir = await goPeersDir();
  const child = Bun.spawn(
    [path.join(dir, "smux-echo-server"), "-listen", "127.0.0.1:0", "-v", String(version)],
    { stdout: "ignore", stderr: "pipe" },
  );
  running.add(child);
  onCleanup(async () => {
    child.kill();
    await child.exited;
    running.delete(child);
  });
  // It logs "smux-echo-server listening on 127.0.0.1:PORT (smux vN)" once listening.
  const port = await firstMatch(child, /listening on 127\.0\.0\.1:(\d+)/);
  return Number(port);
}

/** Runs `smux-client`; resolves with its exit code, stdout and stderr. */
export async function runGoClient(
  port: number,
  version: 1 | 2,
  streams: number,
  bytesPerStream: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await goPeersDir();
  const child = Bun.spawn(
    [
      path.join(dir, "smux-client"),
      "-connect",
      `127.0.0.1:${port}`,
      "-streams",
      String(streams),
      "-bytes",
      String(bytesPerStream),
      "-v",
      String(version),
      "-timeout",
      "20s",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/** Reads `child`'s stderr until `pattern` matches; resolves with its first group. */
async function firstMatch(child: Subprocess<"ignore", "ignore", "pipe">, pattern: RegExp) {
  const reader = child.stderr.getReader();
  const text = new TextDecoder();
  let seen = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before printing ${pattern}: ${seen}`);
    seen += text.decode(value, { stream: true });
    const match = pattern.exec(seen);
    if (match) {
      reader.releaseLock();
      return match[1] as string;
    }
  }
}
