/**
 * `--users-file` as users run it (issue 21): `bun run src/main.ts` in a child process. A file
 * that cannot be used stops the start with exit 2 and one line naming the file, the line and
 * the key (never the password); SIGHUP re-reads it while clients stay connected: new
 * CONNECTs use the new users, live connections keep the rights they were admitted with, and
 * a broken file keeps the old users.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relayProcesses } from "../support/child.ts";
import { NATS_ONLY, natsOnly, runToExit } from "./nats-process.ts";
import { RawNatsClient } from "./raw-client.ts";
import { usersToml } from "./relay-target.ts";

setDefaultTimeout(20_000);
const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "relay-users-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usersFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A raw client that sent CONNECT as `user` (not verbose) and has its INFO taken. */
async function connectAs(port: number, user: string, pass: string): Promise<RawNatsClient> {
  const client = await RawNatsClient.connect(port);
  await client.info();
  client.send(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, user, pass })}\r\n`);
  return client;
}

describe("a users file that cannot be used: exit 2, one line naming file, line and key", () => {
  const secret = "s3cret-never-shown";
  test.each([
    [
      "bad-subject.toml",
      `[[users]]\nuser = "a"\npassword = "${secret}"\n[users.permissions.publish]\nallow = ["ok", "a..b"]\n`,
      ":5: users[0].permissions.publish.allow: 'a..b' is not a valid subject",
    ],
    [
      "no-password.toml",
      `[[users]]\nuser = "a"\npassword = "${secret}"\n\n[[users]]\nuser = "b"\n`,
      ":5: users[1].password: a non-empty string is required",
    ],
    [
      "typo.toml",
      `[[users]]\nuser = "a"\npassword = "${secret}"\n[users.permissions.subscribe]\nalow = ["x"]\n`,
      ":5: users[0].permissions.subscribe.alow: unknown key (allow, deny)",
    ],
    [
      "twice.toml",
      `[[users]]\nuser = "a"\npassword = "${secret}"\n[[users]]\nuser = "a"\npassword = "${secret}"\n`,
      ":5: users[1].user: 'a' is given twice",
    ],
    [
      "queue-in-publish.toml",
      `[[users]]\nuser = "a"\npassword = "${secret}"\n[users.permissions.publish]\ndeny = "x q"\n`,
      ":5: users[0].permissions.publish.deny: 'x q' is not a valid subject",
    ],
  ])("%s", async (name, text, message) => {
    const path = usersFile(name, text);
    const { status, stderr } = await runToExit(spawn, [...NATS_ONLY, "--users-file", path]);
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toBe(`bun-relay: --users-file ${path}${message}`);
    expect(stderr).not.toContain(secret);
  });

  test("not TOML: the file and the parser's reason", async () => {
    const path = usersFile("broken.toml", "[[users]]\nuser = \n");
    const { status, stderr } = await runToExit(spawn, [...NATS_ONLY, "--users-file", path]);
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toStartWith(`bun-relay: --users-file ${path}: not valid TOML (`);
  });

  test("a missing file, from RELAY_USERS_FILE", async () => {
    const path = join(dir, "missing.toml");
    const { status, stderr } = await runToExit(spawn, NATS_ONLY, { RELAY_USERS_FILE: path });
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toBe(
      `bun-relay: --users-file ${path}: cannot read the file (ENOENT)`,
    );
  });

  test.each([
    [["--user", "a", "--pass", "b"], "--users-file and --user/--pass exclude each other"],
    [["--token", "t"], "--users-file and --token exclude each other"],
  ])("with %j: %s", async (extra, message) => {
    const path = usersFile("ok.toml", usersToml([{ user: "a", pass: "b" }]));
    const { status, stderr } = await runToExit(spawn, [
      ...NATS_ONLY,
      "--users-file",
      path,
      ...extra,
    ]);
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toBe(`bun-relay: ${message}`);
  });

  test("with the line ports open", async () => {
    const path = usersFile("ok2.toml", usersToml([{ user: "a", pass: "b" }]));
    const { status, stderr } = await runToExit(spawn, ["--nats-port", "0", "--users-file", path]);
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toBe(
      "bun-relay: --users-file protects only the NATS port: set --pub-port and --sub-port off, or name their user with --line-user (line and frame clients cannot present a user)",
    );
  });
});

describe("SIGHUP re-reads the users file", () => {
  test("new CONNECTs use the new users; live connections keep their rights; a broken file keeps the old users", async () => {
    const path = usersFile(
      "hup.toml",
      usersToml([{ user: "alice", pass: "pw1", permissions: { publish: { allow: ["a"] } } }]),
    );
    const { port, lines, signal, stop } = await natsOnly(spawn, ["--users-file", path]);
    const live = await connectAs(port, "alice", "pw1");
    await live.expectOpen();

    writeFileSync(
      path,
      usersToml([{ user: "alice", pass: "pw2", permissions: { publish: { allow: ["b"] } } }]),
    );
    signal("SIGHUP");
    await lines.waitFor(/RELOAD --users-file .*: 1 users/);

    const old = await connectAs(port, "alice", "pw1");
    await old.expect("-ERR 'Authorization Violation'\r\n");
    await old.expectClosed();
    const fresh = await connectAs(port, "alice", "pw2");
    fresh.send("PUB a 0\r\n\r\nPUB b 0\r\n\r\n");
    await fresh.expect(`-ERR 'Permissions Violation for Publish to "a"'\r\n`);
    await fresh.expectOpen();
    live.send("PUB a 0\r\n\r\nPUB b 0\r\n\r\n");
    await live.expect(`-ERR 'Permissions Violation for Publish to "b"'\r\n`);
    await live.expectOpen();

    writeFileSync(path, `[[users]]\nuser = "alice"\npassword = "pw3"\nrights = 1\n`);
    signal("SIGHUP");
    expect(await lines.waitFor(/RELOAD failed: --users-file/)).toContain(
      `RELOAD failed: --users-file ${path}:4: users[0].rights: unknown key (user, password, permissions); keeping the previous configuration`,
    );
    const still = await connectAs(port, "alice", "pw2");
    await still.expectOpen();
    for (const client of [live, fresh, still]) client.close();
    expect(await stop()).toBe(0);
  });
});
