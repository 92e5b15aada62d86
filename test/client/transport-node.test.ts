/**
 * src/client/transport-node.ts under real Node (not Bun's node:net): the compiled
 * dist/client/client/transport-node.js, built here with `node scripts/build-client.mjs`,
 * driven by test/client/fixtures/node-transport.mjs against a node:net server that reads
 * nothing until the client is full. The ClientSocket contract (transport.ts) as Node must
 * keep it: writes are taken whole until Node's buffer is past its high-water mark, then 0
 * until `drain`; every taken byte arrives, in order; `write` is -1 once terminated; `close`
 * follows; data chunks are plain Uint8Arrays. The client over this transport, end to end
 * (publish, subscribe, TLS), is test/package/install.test.ts.
 */
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";

setDefaultTimeout(30_000);

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURE = new URL("./fixtures/node-transport.mjs", import.meta.url).pathname;
const CHUNK = 64 * 1024;

beforeAll(async () => {
  const build = Bun.spawn(["node", join(ROOT, "scripts/build-client.mjs")], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await build.exited) !== 0) throw new Error(await new Response(build.stderr).text());
});

test("Node's socket keeps Bun's write contract: taken, then 0 until drain, -1 once terminated", async () => {
  const child = Bun.spawn(["node", FIXTURE, join(ROOT, "dist/client/client/transport-node.js")], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(stderr).toBe("");
  expect(exitCode).toBe(0);
  const result = JSON.parse(stdout);
  expect(result.fullAfter).toBeGreaterThan(1);
  expect(result.taken).toBe((result.fullAfter - 1) * CHUNK);
  expect(result).toMatchObject({
    drained: true,
    received: result.taken,
    inOrder: true,
    afterTerminate: -1,
    closed: "clean",
    data: "true 2",
  });
});
