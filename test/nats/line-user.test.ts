/**
 * `--line-user NAME` as users run it (issue 21): with --users-file, the line and frame ports
 * stay open when they act as a user of the file whose rights cover --subject (publish) and
 * --sub-subject (subscribe); anything else is refused at start with exit 2 and one line, and
 * a SIGHUP whose file takes those rights away keeps the old users. --tls-map-user's own
 * refusals are here too (its mapping is in tls-map-user.test.ts).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ChildLines, relayProcesses } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";
import { Inbox } from "./nats-js-suite.ts";
import { NATS_ONLY, runToExit } from "./nats-process.ts";
import { usersToml } from "./relay-target.ts";
import type { TestUser } from "./target.ts";

setDefaultTimeout(20_000);
const spawn = relayProcesses();
const dir = mkdtempSync(join(tmpdir(), "relay-line-user-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USERS: TestUser[] = [
  {
    user: "lines",
    pass: "never-used",
    permissions: {
      publish: { allow: ["relay.in"] },
      subscribe: { allow: ["orders.>"], deny: ["secret.>"] },
    },
  },
  { user: "bob", pass: "bobpw" },
];

function usersFile(name: string, users: readonly TestUser[]): string {
  const path = join(dir, name);
  writeFileSync(path, usersToml(users));
  return path;
}

/** Every port open on 127.0.0.1 (line ports and NATS), subjects as the USERS allow. */
const ALL_PORTS = ["--host", "127.0.0.1", "0", "0", "--nats-port", "0", "--stats-interval", "0"];
const SUBJECTS = ["--subject", "relay.in", "--sub-subject", "orders.>"];

describe("refused at start (exit 2, one line)", () => {
  const path = usersFile("users.toml", USERS);
  test.each([
    [["--line-user", "nobody", ...SUBJECTS], "--line-user 'nobody' is not a user of --users-file"],
    [
      ["--line-user", "lines", "--subject", "relay.other", "--sub-subject", "orders.>"],
      "--line-user 'lines' may not publish to --subject 'relay.other' (line and frame publishers act as that user)",
    ],
    [
      ["--line-user", "lines", "--subject", "relay.in", "--sub-subject", "other.>"],
      "--line-user 'lines' may not subscribe to --sub-subject 'other.>' (line and frame subscribers act as that user)",
    ],
    [
      ["--line-user", "lines", "--subject", "relay.in", "--sub-subject", ">"],
      "--line-user 'lines' may not subscribe to --sub-subject '>' (line and frame subscribers act as that user)",
    ],
    [
      ["--line-user", "bob", "--tls-map-user", ...SUBJECTS],
      "--tls-map-user needs --tls-client-ca (only a verified client certificate can name a user)",
    ],
    [
      SUBJECTS,
      "--users-file protects only the NATS port: set --pub-port and --sub-port off, or name their user with --line-user (line and frame clients cannot present a user)",
    ],
  ])("%j", async (extra, message) => {
    const { status, stderr } = await runToExit(spawn, [
      ...ALL_PORTS,
      "--users-file",
      path,
      ...extra,
    ]);
    expect(stderr.split("\n")[0]).toBe(`bun-relay: ${message}`);
    expect(status).toBe(2);
  });

  test("a --sub-subject that covers a denied subject is refused (the fan-out cannot filter it)", async () => {
    const open: TestUser[] = [
      { user: "lines", pass: "x", permissions: { subscribe: { deny: ["secret.>"] } } },
    ];
    const { status, stderr } = await runToExit(spawn, [
      ...ALL_PORTS,
      "--users-file",
      usersFile("deny.toml", open),
      "--line-user",
      "lines",
      "--sub-subject",
      ">",
    ]);
    expect(stderr.split("\n")[0]).toBe(
      "bun-relay: --sub-subject '>' covers a subject --line-user 'lines' is denied (line and frame subscribers cannot filter it out): narrow --sub-subject",
    );
    expect(status).toBe(2);
  });

  test.each([
    [{ RELAY_LINE_USER: "lines" }, "--line-user needs --users-file"],
    [{ RELAY_TLS_MAP_USER: "true" }, "--tls-map-user needs --users-file"],
  ])("%j without --users-file", async (env, message) => {
    const { status, stderr } = await runToExit(spawn, NATS_ONLY, env);
    expect(stderr.split("\n")[0]).toBe(`bun-relay: ${message}`);
    expect(status).toBe(2);
  });
});

describe("line ports acting as --line-user", () => {
  test("a line publisher reaches NATS on --subject and a line subscriber gets --sub-subject; SIGHUP with a file that takes the rights away keeps the old users", async () => {
    const path = usersFile("live.toml", USERS);
    const child = spawn([...ALL_PORTS, ...SUBJECTS, "--users-file", path], {
      RELAY_LINE_USER: "lines",
    });
    const lines = new ChildLines(child.stdout);
    const pubPort = Number((await lines.match(/LISTEN publishers on 127\.0\.0\.1:(\d+)/))[1]);
    const subPort = Number((await lines.match(/LISTEN subscribers on 127\.0\.0\.1:(\d+)/))[1]);
    const natsPort = Number((await lines.match(/LISTEN nats-clients on 127\.0\.0\.1:(\d+)/))[1]);
    const nc = await connect({ port: natsPort, user: "bob", pass: "bobpw" });
    try {
      const fromLines = new Inbox(nc, "relay.in");
      await nc.flush();
      const subscriber = await TestClient.connect(subPort);
      await lines.waitFor(/ OPEN subscriber /);
      const publisher = await TestClient.connect(pubPort);
      await publisher.write("from a line\n");
      expect(await fromLines.texts(1)).toEqual(["from a line"]);
      nc.publish("orders.eu", "to the lines");
      await subscriber.waitForBytes("to the lines\n".length);
      expect(subscriber.text()).toBe("to the lines\n");

      writeFileSync(
        path,
        usersToml([{ user: "lines", pass: "x", permissions: { publish: { allow: ["x"] } } }]),
      );
      child.kill("SIGHUP");
      expect(await lines.waitFor(/RELOAD failed: --users-file/)).toContain(
        `RELOAD failed: --users-file ${path}: --line-user 'lines' may not publish to --subject 'relay.in' (line and frame publishers act as that user); keeping the previous configuration`,
      );
      const stillBob = await connect({ port: natsPort, user: "bob", pass: "bobpw" });
      await stillBob.close();
      publisher.end();
      subscriber.end();
    } finally {
      await nc.close();
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    }
  });
});
