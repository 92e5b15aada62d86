/**
 * The NATS port as users start it: `bun run src/main.ts --nats-port …` in a child process,
 * with the line and frame ports off, credentials on the command line, and the refusals of
 * combinations that would leave a port open to anyone.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "@nats-io/transport-node";
import { relayProcesses } from "../support/child.ts";
import { runToExit as runProcess, natsOnly as startNatsOnly } from "./nats-process.ts";

setDefaultTimeout(20_000);
const spawn = relayProcesses();

const natsOnly = (args: string[]) => startNatsOnly(spawn, args);
const runToExit = (args: string[]) => runProcess(spawn, args);

describe("the relay as a NATS server alone", () => {
  test("--pub-port off --sub-port off --token: only the NATS port listens; the token admits", async () => {
    const relay = await natsOnly(["--token", "s3cret"]);
    expect(relay.lines.lines.some((line) => / LISTEN (publishers|subscribers) /.test(line))).toBe(
      false,
    );
    const nc = await connect({ port: relay.port, token: "s3cret" });
    const sub = nc.subscribe("greet.*", { max: 1 });
    nc.publish("greet.you", "hello");
    for await (const msg of sub)
      expect([msg.subject, msg.string()]).toEqual(["greet.you", "hello"]);
    await nc.close();
    const refused = await connect({ port: relay.port, token: "wrong", reconnect: false }).then(
      () => "connected",
      (error: Error) => error.name,
    );
    expect(refused).toBe("AuthorizationError");
    expect(await relay.stop()).toBe(0);
  });

  test("--user with a bcrypt --pass: the password connects", async () => {
    const hash = await Bun.password.hash("pw", { algorithm: "bcrypt", cost: 4 });
    const relay = await natsOnly(["--user", "alice", "--pass", hash]);
    const nc = await connect({ port: relay.port, user: "alice", pass: "pw" });
    await nc.flush();
    await nc.close();
    expect(await relay.stop()).toBe(0);
  });
});

describe("combinations that are refused at start (exit 2, one line)", () => {
  test.each([
    [
      ["--nats-port", "0", "--user", "a", "--pass", "b"],
      "--user/--pass protect only the NATS port: set --pub-port and --sub-port off (line and frame clients cannot present a user)",
    ],
    [
      ["--pub-port", "off", "--sub-port", "off"],
      "every port is off: open --pub-port, --sub-port, --nats-port or --ws-port",
    ],
    [
      ["--sub-port", "off", "--nats-port", "0", "--token", "t"],
      "--token needs --pub-port to be frame or off (a line client cannot present a token)",
    ],
    [
      ["--pub-port", "off", "--sub-port", "off", "--nats-port", "0", "--user", "a"],
      "--user needs --pass",
    ],
    [
      ["--framing", "frame", "--nats-port", "0", "--token", "$2a$11$abcdefghijklmnopqrstuv"],
      "--token is a bcrypt hash, which only NATS clients can be checked against: set --pub-port and --sub-port off, or give frame clients the token itself",
    ],
    [
      ["--subject", "a.*"],
      "--subject 'a.*' is not a literal NATS subject (non-empty tokens separated by '.', no whitespace, no wildcard)",
    ],
    [
      ["--subject", "a b"],
      "--subject 'a b' is not a literal NATS subject (non-empty tokens separated by '.', no whitespace, no wildcard)",
    ],
    [
      ["--ws-allowed-origins", "https://app.example.com"],
      "--ws-allowed-origins and --ws-same-origin apply to the WebSocket port: add --ws-port",
    ],
    [
      ["--ws-port", "0", "--ws-allowed-origins", ","],
      "--ws-allowed-origins: the list is empty: name origins (scheme://host[:port], comma-separated), or leave the flag out to allow any",
    ],
    [
      ["--sub-subject", "a.>.b"],
      "--sub-subject 'a.>.b' is not a NATS subject (non-empty tokens separated by '.', no whitespace, '>' only as the last token)",
    ],
  ])("%j", async (args, message) => {
    const { status, stderr } = await runToExit(args);
    expect(status).toBe(2);
    expect(stderr.split("\n")[0]).toBe(`bun-relay: ${message}`);
  });
});
