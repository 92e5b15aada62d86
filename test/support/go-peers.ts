/**
 * Builds the Go peers of ../shared/peers (seed implementations we interoperate with) for the
 * tests that need them. Each program is built once per machine into a cache folder under the
 * system temp directory, from a copy of the peer's source (CI's shared/ is read-only), with
 * Debian's Go and no network (GOPROXY=off). `.ci/run` installs golang-go (and, for go-smux,
 * golang-github-xtaci-smux-dev); elsewhere, a test without Go skips with the reason.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** ../shared/peers beside this repository (the layout of the workplace and of CI). */
export const PEERS_DIR = path.resolve(import.meta.dir, "../../../shared/peers");

const CACHE_DIR = path.join(tmpdir(), "bun-relay-go-peers");

/** Why Go peers cannot be built here, or undefined when they can. */
export function goUnavailable(): string | undefined {
  if (!Bun.which("go")) return "Go is not installed (Debian: apt-get install golang-go)";
  if (!existsSync(PEERS_DIR)) return `no peers folder at ${PEERS_DIR}`;
  return undefined;
}

/**
 * The path of `peer`'s program `cmd` (../shared/peers/PEER/cmd/CMD), building it if it is
 * not cached yet. Throws with Go's output when the build fails.
 */
export async function goPeer(peer: string, cmd: string): Promise<string> {
  const binary = path.join(CACHE_DIR, peer, cmd);
  if (existsSync(binary)) return binary;
  const work = mkdtempSync(path.join(tmpdir(), `bun-relay-${peer}-`));
  try {
    const copy = Bun.spawnSync(["cp", "-r", `${path.join(PEERS_DIR, peer)}/.`, work]);
    if (copy.exitCode !== 0) throw new Error(`cannot copy ${peer}: ${copy.stderr.toString()}`);
    const build = Bun.spawn(["go", "build", "-o", binary, `./cmd/${cmd}`], {
      cwd: work,
      env: {
        ...process.env,
        GOFLAGS: "-mod=mod",
        GOPROXY: "off",
        GOCACHE: process.env.GOCACHE ?? path.join(tmpdir(), "go-build-cache"),
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [status, errors] = await Promise.all([build.exited, new Response(build.stderr).text()]);
    if (status !== 0) throw new Error(`go build ${peer}/cmd/${cmd} failed:\n${errors}`);
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
