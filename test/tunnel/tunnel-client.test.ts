/**
 * The tunnel client's account of a session the server closed (issue 24): smux has no error
 * frame, so a server that rejects our version just closes; the client names the likely cause.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { likelyCause } from "../../src/tunnel/tunnel-client.ts";
import { ChildLines, relayProcesses } from "../support/child.ts";
import { TestClient } from "../support/harness.ts";

setDefaultTimeout(30_000);

const spawn = relayProcesses();

const CAUSE =
  " (the server closed it after our first frames without sending one: likely a different --smux-version on the server, or --server is not a tunnel server)";

test("likelyCause: only a transport close before any frame from the server, after ours", () => {
  expect(likelyCause("MUX_ERR_TRANSPORT_CLOSED", { framesIn: 0, framesOut: 1 })).toBe(CAUSE);
  expect(likelyCause("MUX_ERR_TRANSPORT_CLOSED", { framesIn: 1, framesOut: 1 })).toBe("");
  expect(likelyCause("MUX_ERR_TRANSPORT_CLOSED", { framesIn: 0, framesOut: 0 })).toBe("");
  expect(likelyCause("MUX_ERR_KEEPALIVE_TIMEOUT", { framesIn: 0, framesOut: 3 })).toBe("");
});

test("a v2 client of a v1 server logs the likely cause with the session's end", async () => {
  const server = spawn([
    "tunnel",
    "server",
    "--listen",
    "127.0.0.1:0",
    "--to",
    "127.0.0.1:9",
    "--smux-version",
    "1",
  ]);
  const serverOut = new ChildLines(server.stdout);
  const serverPort = (await serverOut.match(/LISTEN tunnel-server on 127\.0\.0\.1:(\d+)/))[1];
  const client = spawn([
    "tunnel",
    "client",
    "--listen",
    "127.0.0.1:0",
    "--server",
    `127.0.0.1:${serverPort}`,
    "--smux-version",
    "2",
    "--conns",
    "1",
  ]);
  const clientOut = new ChildLines(client.stdout);
  const port = Number((await clientOut.match(/LISTEN tunnel-client on 127\.0\.0\.1:(\d+)/))[1]);
  await clientOut.waitFor(/SESSION_UP tunnel-client session 1 /);
  const user = await TestClient.connect(port);
  const down = await clientOut.waitFor(/SESSION_DOWN tunnel-client session 1 /);
  expect(down).toContain(`: MUX_ERR_TRANSPORT_CLOSED the connection was closed${CAUSE}; redial in`);
  await serverOut.waitFor(/MUX_ERR_BAD_VERSION version 2 on a version 1 session/);
  await user.closed;
});
