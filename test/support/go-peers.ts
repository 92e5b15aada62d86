/**
 * Builds the Go programs the tests run: the peers of ../shared/peers (seed implementations we
 * interoperate with) and small clients kept beside their tests (test/nats/go-client). Each is
 * built once per machine into a cache folder under the system temp directory, with Debian's
 * Go and no network (GOPROXY=off). `.ci/run` installs golang-go and the Debian source packages
 * the programs import; elsewhere, a test without Go skips with the reason.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
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
    await goBuild(["-o", binary, `./cmd/${cmd}`], work, { GOFLAGS: "-mod=mod" });
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The path of the Go program whose `main` package is `sourceDir`, built in GOPATH mode
 * (GO111MODULE=off) against the packages Debian ships as source under /usr/share/gocode, for
 * programs with no go.mod. Cached per version of the source: the binary's name ends with a
 * hash of the folder's .go files. Throws with Go's output when the build fails.
 */
export async function goGopathProgram(sourceDir: string, name: string): Promise<string> {
  const sources = readdirSync(sourceDir)
    .filter((file) => file.endsWith(".go"))
    .sort()
    .map((file) => `${file}\n${readFileSync(path.join(sourceDir, file), "utf8")}`);
  const hash = Bun.hash(sources.join("\n")).toString(16);
  const binary = path.join(CACHE_DIR, `${name}-${hash}`);
  if (existsSync(binary)) return binary;
  // Built beside its final name, then renamed: a concurrent run never sees half a binary.
  const partial = `${binary}.${process.pid}.partial`;
  await goBuild(["-o", partial, "."], sourceDir, {
    GO111MODULE: "off",
    GOPATH: "/usr/share/gocode",
    GOFLAGS: "",
  });
  renameSync(partial, binary);
  return binary;
}

/** `go build ARGS` in `cwd`, offline, with `env` added; throws with Go's output if it fails. */
async function goBuild(args: string[], cwd: string, env: Record<string, string>): Promise<void> {
  const build = Bun.spawn(["go", "build", ...args], {
    cwd,
    env: {
      ...process.env,
      GOPROXY: "off",
      GOCACHE: process.env.GOCACHE ?? path.join(tmpdir(), "go-build-cache"),
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [status, errors] = await Promise.all([build.exited, new Response(build.stderr).text()]);
  if (status !== 0) throw new Error(`go build ${args.join(" ")} in ${cwd} failed:\n${errors}`);
}
