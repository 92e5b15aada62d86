/**
 * The single executable (issue 23): `bun build --compile src/main.ts`, as `bun run
 * build:binary` makes dist/bun-relay, built once into a temporary directory. It answers
 * `--help` in every mode and `--version`, and relays one line from a publisher to a
 * subscriber over real sockets, with no Bun and no source next to it.
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  setDefaultTimeout,
  test,
} from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ChildLines } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";

setDefaultTimeout(30_000);

const ROOT = new URL("../../", import.meta.url).pathname;
const MANIFEST = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

let work: string;
let binary: string;
const children: Subprocess[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "bun-relay-bin-"));
  binary = join(work, "bun-relay");
  // build:binary's command, with the output in the temporary directory.
  const build = Bun.spawn(
    ["bun", "build", "--compile", join(ROOT, "src/main.ts"), "--outfile", binary],
    { stdout: "pipe", stderr: "pipe" },
  );
  if ((await build.exited) !== 0) throw new Error(await new Response(build.stderr).text());
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs the binary from an empty directory, so nothing of the checkout can help it. */
function start(args: string[]): Subprocess<"ignore", "pipe", "pipe"> {
  const child = Bun.spawn([binary, ...args], {
    cwd: work,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(child);
  return child;
}

async function output(args: string[]): Promise<{ exitCode: number; stdout: string }> {
  const child = start(args);
  const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return { exitCode, stdout };
}

test("package.json's build:binary compiles src/main.ts to dist/bun-relay", () => {
  expect(MANIFEST.scripts["build:binary"]).toBe(
    "bun build --compile src/main.ts --outfile dist/bun-relay",
  );
});

describe("the compiled binary", () => {
  test("--version prints the package's version and Bun's, and exits 0", async () => {
    expect(await output(["--version"])).toEqual({
      exitCode: 0,
      stdout: `bun-relay ${MANIFEST.version} (Bun ${Bun.version})\n`,
    });
  });

  test.each([
    [[], "bun-relay: a TCP pub/sub relay."],
    [["forward"], "bun-relay forward: "],
    [["proxy"], "bun-relay proxy: "],
    [["tunnel", "client"], "bun-relay tunnel client: "],
    [["tunnel", "server"], "bun-relay tunnel server: "],
  ])("%p --help prints that mode's usage and exits 0", async (mode, head) => {
    const { exitCode, stdout } = await output([...mode, "--help"]);
    expect(stdout).toStartWith(head);
    expect(exitCode).toBe(0);
  });

  test("relays a line from a publisher to a subscriber, then stops cleanly on SIGTERM", async () => {
    const relay = start(["0", "0", "--host", "127.0.0.1"]);
    const log = new ChildLines(relay.stdout);
    const pubPort = Number((await log.match(/LISTEN publishers on 127\.0\.0\.1:(\d+)/))[1]);
    const subPort = Number((await log.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
    const subscriber = await TestClient.connect(subPort);
    await log.waitFor(/OPEN subscriber /);
    const publisher = await TestClient.connect(pubPort);
    await publisher.write("hello through the binary\n");
    await subscriber.waitForBytes(25);
    expect(subscriber.text()).toBe("hello through the binary\n");
    publisher.end();
    subscriber.end();
    relay.kill("SIGTERM");
    expect(await relay.exited).toBe(0);
  });
});
