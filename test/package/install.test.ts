/**
 * The package as a user gets it (issue 23): `npm pack` of this checkout (its `prepack` builds
 * dist/client), the tarball's file list, and the tarball installed into empty projects in a
 * temporary directory with `bun add` and with `npm install`. There the `bun-relay` bin
 * answers `--help`, test/package/fixtures/pubsub.mjs publishes and subscribes through
 * `bun-relay/client` under Node (dist/client's JavaScript, node:net and node:tls) and under
 * Bun (the .ts source, "bun" export condition) against a relay in this process, and `tsc`
 * with a `module: nodenext` tsconfig type-checks an import of it, with this repository's
 * TypeScript and with TypeScript 5 (npx; skipped, saying so, when npm cannot fetch it).
 *
 * The installs take the tarball's dependencies from the package managers' caches when they
 * are there (`--prefer-offline`), else from the registry.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";
import { TestRelay } from "../support/harness.ts";

setDefaultTimeout(60_000);

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURE = new URL("./fixtures/pubsub.mjs", import.meta.url).pathname;
const VERSION: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
const TARBALL = `bun-relay-${VERSION}.tgz`;
/** The bin only runs as `bunx bun-relay` / `npx bun-relay` when main.ts says which runtime. */
const HAS_SHEBANG = readFileSync(join(ROOT, "bin/bun-relay"), "utf8").startsWith(
  "#!/usr/bin/env bun\n",
);

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const child = Bun.spawn(cmd, {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, ...env },
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** Runs `cmd` and returns its stdout; throws with both streams when it fails. */
async function runOk(cmd: string[], cwd: string): Promise<string> {
  const result = await run(cmd, cwd);
  if (result.exitCode !== 0) {
    throw new Error(
      `${cmd.join(" ")} exited ${result.exitCode}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

/** An empty ESM project in `dir`, with the pub/sub script and a nodenext tsconfig. */
function emptyProject(dir: string): string {
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), '{ "name": "app", "private": true, "type": "module" }');
  copyFileSync(FIXTURE, join(dir, "pubsub.mjs"));
  return dir;
}

let work: string;
let files: string[];
let bunApp: string;
let npmApp: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "bun-relay-pkg-"));
  await runOk(["npm", "pack", "--silent", "--pack-destination", work], ROOT);
  const tarball = join(work, TARBALL);
  files = (await runOk(["tar", "tzf", tarball], work)).trim().split("\n");
  bunApp = emptyProject(join(work, "bun-app"));
  npmApp = emptyProject(join(work, "npm-app"));
  await Promise.all([
    runOk(["bun", "add", tarball], bunApp),
    runOk(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", tarball], npmApp),
  ]);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm pack", () => {
  test("the tarball holds bin/, src/, dist/client (JS and .d.ts), docs/, README.md and LICENSE, and nothing else", () => {
    const tops = new Set(files.map((file) => file.split("/")[1]));
    expect([...tops].sort()).toEqual([
      "LICENSE",
      "README.md",
      "bin",
      "dist",
      "docs",
      "package.json",
      "src",
    ]);
    expect(files).toContain("package/bin/bun-relay");
    expect(files).toContain("package/src/main.ts");
    expect(files).toContain("package/src/client/index.ts");
    expect(files).toContain("package/dist/client/client/index.js");
    expect(files).toContain("package/dist/client/client/index.d.ts");
    expect(files).toContain("package/dist/client/client/transport-node.js");
    expect(files).toContain("package/docs/client.md");
    const outside = /^package\/(tls|test|bench|soak|examples|scripts|node_modules|\.git)\//;
    expect(files.filter((file) => outside.test(file))).toEqual([]);
    expect(files.filter((file) => /\.(key|pem|crt)$/.test(file))).toEqual([]);
  });

  test("its package.json is publishable, with the bin and the client's exports", () => {
    const manifest = JSON.parse(
      readFileSync(join(bunApp, "node_modules/bun-relay/package.json"), "utf8"),
    );
    expect(manifest.private).toBeUndefined();
    expect(manifest.bin).toEqual({ "bun-relay": "bin/bun-relay" });
    expect(manifest.exports["./client"]).toEqual({
      types: "./dist/client/client/index.d.ts",
      bun: "./src/client/index.ts",
      import: "./dist/client/client/index.js",
      default: "./dist/client/client/index.js",
    });
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      "@nats-io/transport-node",
      "prom-client",
    ]);
  });

  test("no declaration file imports from bun or from a .ts path", async () => {
    const dts = files.filter((file) => file.endsWith(".d.ts"));
    expect(dts.length).toBeGreaterThan(10);
    for (const file of dts) {
      const text = readFileSync(join(npmApp, "node_modules/bun-relay", file.slice(8)), "utf8");
      expect(text).not.toMatch(/from\s+["']bun["']|import\(["']bun["']\)/);
      expect(text).not.toMatch(/from\s+["']\.{1,2}\/[^"']+\.ts["']/);
    }
  });
});

describe("installed in an empty project", () => {
  test.skipIf(!HAS_SHEBANG)(
    `bunx bun-relay --help and npx bun-relay --help print the usage${HAS_SHEBANG ? "" : " (skipped: bin/bun-relay has no #!/usr/bin/env bun line)"}`,
    async () => {
      for (const [cmd, dir] of [
        [["bunx", "bun-relay", "--help"], bunApp],
        [["npx", "--no-install", "bun-relay", "--help"], npmApp],
      ] as const) {
        const result = await run([...cmd], dir);
        expect(result.stderr).toBe("");
        expect(result.stdout).toStartWith("bun-relay: a TCP pub/sub relay.");
        // Started from the package's bin: every usage line names it so.
        expect(result.stdout).toContain("Usage: bun-relay ");
        expect(result.stdout).not.toContain("src/main.ts");
        expect(result.exitCode).toBe(0);
      }
      const bad = await run(["bunx", "bun-relay", "--bogus"], bunApp);
      expect(bad.stderr).toBe("bun-relay: unknown option '--bogus'\nTry 'bun-relay --help'.\n");
      expect(bad.exitCode).toBe(2);
    },
  );

  test("the client publishes and subscribes under Node (dist/client) and under Bun (src/client)", async () => {
    const relay = new TestRelay({ pubFraming: "frame", subFraming: "frame" });
    try {
      const ports = [String(relay.relay.pubPort), String(relay.relay.subPort)];
      const [node, bun] = await Promise.all([
        run(["node", "pubsub.mjs", ...ports], npmApp),
        run(["bun", "pubsub.mjs", ...ports], bunApp),
      ]);
      expect(JSON.parse(node.stdout)).toEqual({
        runtime: `node ${(await runOk(["node", "--version"], npmApp)).trim()}`,
        payload: "hello from node",
        acked: true,
      });
      expect(JSON.parse(bun.stdout)).toEqual({
        runtime: `bun ${Bun.version}`,
        payload: "hello from bun",
        acked: true,
      });
      expect([node.exitCode, bun.exitCode]).toEqual([0, 0]);
    } finally {
      await relay.stop();
    }
  });

  describe("under Node over TLS (node:tls)", () => {
    let certs: TestCerts;
    beforeAll(() => {
      certs = makeTestCerts();
    });
    afterAll(() => certs?.remove());

    test("a trusted relay: the frame arrives; an untrusted one: connect fails with CLIENT_ERR_CONNECT", async () => {
      const relay = new TestRelay({
        pubFraming: "frame",
        subFraming: "frame",
        tlsCert: certs.serverCert,
        tlsKey: certs.serverKey,
      });
      try {
        const ports = [String(relay.relay.pubPort), String(relay.relay.subPort)];
        const trusted = await run(
          ["node", "pubsub.mjs", ...ports, certs.caCert, "localhost"],
          npmApp,
        );
        expect(JSON.parse(trusted.stdout)).toMatchObject({
          payload: "hello from node",
          acked: true,
        });
        const untrusted = await run(
          ["node", "pubsub.mjs", ...ports, certs.otherCaCert, "localhost"],
          npmApp,
        );
        const failure = JSON.parse(untrusted.stdout);
        expect(failure.code).toBe("CLIENT_ERR_CONNECT");
        expect(failure.reason).toStartWith("TLS handshake failed: ");
        expect(untrusted.exitCode).toBe(1);
      } finally {
        await relay.stop();
      }
    });
  });
});

describe("tsc, module nodenext", () => {
  const CHECK = `import { type ClientTlsOptions, connect, type Publisher, type Subscriber } from "bun-relay/client";
const tls: ClientTlsOptions = { ca: "PEM", serverName: "localhost" };
const publisher: Publisher = await connect({ role: "publisher", framing: "frame", tls });
const subscriber: Subscriber = await connect({ role: "subscriber" });
await publisher.publish("hello");
for await (const payload of subscriber) {
  const bytes: Uint8Array = payload;
  void bytes;
}
`;
  const TSCONFIG = {
    compilerOptions: {
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
    },
    files: ["check.ts"],
  };

  /** Writes check.ts (with `extra` appended) and the tsconfig into the npm project. */
  function project(extra = ""): string {
    writeFileSync(join(npmApp, "check.ts"), `${CHECK}${extra}`);
    writeFileSync(join(npmApp, "tsconfig.json"), JSON.stringify(TSCONFIG));
    return npmApp;
  }

  test("this repository's TypeScript checks the import, declarations included (skipLibCheck off)", async () => {
    const tsc = join(ROOT, "node_modules/.bin/tsc");
    const clean = await run([tsc, "-p", "."], project());
    expect(clean.stdout).toBe("");
    expect(clean.exitCode).toBe(0);
    // The check can fail: a wrong use of the imported types is reported.
    const wrong = await run(
      [tsc, "-p", "."],
      project('const n: number = "x" as unknown as Publisher;\n'),
    );
    expect(wrong.stdout).toContain(
      "error TS2322: Type 'Publisher' is not assignable to type 'number'",
    );
  });

  test("TypeScript 5 checks it too (npx typescript@5; skipped when npm cannot fetch it)", async () => {
    const probe = await run(
      ["npx", "--prefer-offline", "-y", "-p", "typescript@5", "tsc", "--version"],
      npmApp,
    );
    if (!probe.stdout.startsWith("Version 5.")) {
      console.warn(`skipped: npx could not run typescript@5: ${probe.stderr.trim()}`);
      return;
    }
    const result = await run(
      ["npx", "--prefer-offline", "-y", "-p", "typescript@5", "tsc", "-p", "."],
      project(),
    );
    expect(result.stdout).toBe("");
    expect(result.exitCode).toBe(0);
  });
});
