/**
 * SIGHUP with --config (issue 24), as users run it: the file is read again, what can change
 * live changes at once, one RELOAD line says what changed and what needs a restart, and a
 * bad file keeps the running configuration.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildLines, relayProcesses } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";

setDefaultTimeout(30_000);

const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "bun-relay-reload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("forward: max-conns and quiet change live; listen needs a restart; a bad file changes nothing", async () => {
  const upstream = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const path = join(dir, "forward.toml");
    const write = (lines: string[]) => writeFileSync(path, `[forward]\n${lines.join("\n")}\n`);
    write(["listen = '127.0.0.1:0'", `to = ['127.0.0.1:${upstream.port}']`, "max-conns = 1"]);
    const child = spawn(["forward", "--config", path]);
    const out = new ChildLines(child.stdout);
    const port = Number((await out.match(/LISTEN forward on 127\.0\.0\.1:(\d+)$/))[1]);

    const first = await TestClient.connect(port);
    await out.waitFor(/OPEN forward #1 /);
    const refused = await TestClient.connect(port);
    await out.waitFor(/CLOSE forward #2 .* reason=max_conns/);
    await refused.closed;

    write([
      "listen = '127.0.0.1:1'",
      `to = ['127.0.0.1:${upstream.port}']`,
      "max-conns = 2",
      "quiet = true",
    ]);
    child.kill("SIGHUP");
    expect(await out.waitFor(/ RELOAD .*forward\.toml/)).toEndWith(
      ` RELOAD ${path}: changed --max-conns=2, --quiet=true; needs a restart: --listen`,
    );
    // Live: a second connection is admitted now, and quietly (no OPEN line).
    const second = await TestClient.connect(port);
    second.end();
    await second.closed;

    write(["listen = '127.0.0.1:0'", "max-conns = 'many'"]);
    child.kill("SIGHUP");
    expect(await out.waitFor(/ RELOAD failed/)).toEndWith(
      ` RELOAD failed: ${path}:3: max-conns: 'many' is not a whole number; keeping the previous configuration`,
    );
    first.end();
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    // The connection after the reload was not refused (a refusal is logged even when quiet).
    const lines = await out.rest();
    expect(lines.filter((line) => / CLOSE forward #3 /.test(line))).toEqual([]);
  } finally {
    upstream.stop(true);
  }
});

test("relay: quiet, max-pending and slow-consumer change live, write-timeout needs a restart", async () => {
  const path = join(dir, "relay.toml");
  writeFileSync(path, "host = '127.0.0.1'\npub-port = 0\nsub-port = 0\n");
  const child = spawn(["--config", path]);
  const out = new ChildLines(child.stdout);
  await out.waitFor(/LISTEN subscribers/);
  writeFileSync(
    path,
    "host = '127.0.0.1'\npub-port = 0\nsub-port = 0\nquiet = true\nmax-pending = '2MiB'\nslow-consumer = 'drop'\nwrite-timeout = 5\n",
  );
  child.kill("SIGHUP");
  expect(await out.waitFor(/ RELOAD .*relay\.toml/)).toEndWith(
    ` RELOAD ${path}: changed --max-pending=2097152, --slow-consumer=drop, --quiet=true; needs a restart: --write-timeout`,
  );
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

test("relay: one RELOAD line for the file, the allow-list and the users file together", async () => {
  const path = join(dir, "one-line.toml");
  const users = join(dir, "users.toml");
  writeFileSync(users, '[[users]]\nuser = "a"\npassword = "pw"\n');
  const config = (pending: string) =>
    `host = '127.0.0.1'\npub-port = 'off'\nsub-port = 'off'\nnats-port = 0\n` +
    `users-file = '${users}'\nallow-from = ['127.0.0.1']\nmax-pending = '${pending}'\n`;
  writeFileSync(path, config("1MiB"));
  const child = spawn(["--config", path]);
  const out = new ChildLines(child.stdout);
  await out.waitFor(/LISTEN nats-clients/);
  writeFileSync(path, config("2MiB"));
  writeFileSync(
    users,
    '[[users]]\nuser = "a"\npassword = "pw"\n\n[[users]]\nuser = "b"\npassword = "x"\n',
  );
  child.kill("SIGHUP");
  expect(await out.waitFor(/ RELOAD /)).toEndWith(
    ` RELOAD ${path}: changed --max-pending=2097152; --allow-from 127.0.0.1; --users-file ${users}: 2 users`,
  );
  // A users file that fails (the file's check fails with it): said once, then what applied.
  writeFileSync(users, '[[users]]\nuser = "a"\n');
  child.kill("SIGHUP");
  expect(await out.waitFor(/ RELOAD failed/)).toEndWith(
    ` RELOAD failed: --users-file ${users}:1: users[0].password: a non-empty string is required; keeping the previous configuration | applied: --allow-from 127.0.0.1`,
  );
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
  const lines = await out.rest();
  expect(lines.filter((line) => / RELOAD /.test(line))).toHaveLength(2);
});
