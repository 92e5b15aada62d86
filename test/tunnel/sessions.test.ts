/**
 * The tunnel's sessions: clients waiting for one, the connect timeout when none comes, a
 * session that dies (its streams closed with the cause in the CLOSE line, then a redial), the
 * keepalive timeout against a peer gone silent, and malformed frames from either side closing
 * the session with its reason while the process goes on serving.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import {
  encodeFrame,
  encodePsh,
  encodeSyn,
  SmuxCmd,
  SmuxErrorCode,
} from "../../src/protocol/smux-frame.ts";
import { cleanupAfterEach, concat, hex, onCleanup, seededRandom, until } from "../mux/support.ts";
import {
  EchoServer,
  echoThrough,
  freePort,
  PipeClient,
  patterned,
  sha256,
  startClient,
  startServer,
  startTunnel,
} from "./tunnel-harness.ts";

cleanupAfterEach();

/** A TCP server that accepts and records, and answers only what a test makes it answer. */
function rawServer(onData: (socket: Socket<undefined>, chunk: Uint8Array) => void = () => {}) {
  const sockets = new Set<Socket<undefined>>();
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      open: (socket) => void sockets.add(socket),
      data: onData,
      close: (socket) => void sockets.delete(socket),
      error() {},
    },
  });
  onCleanup(() => listener.stop(true));
  return { port: listener.port, sockets };
}

/** A raw TCP client of a tunnel server; resolves once connected. */
async function rawClient(port: number) {
  const state = { closed: false, received: 0 };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      binaryType: "uint8array",
      data(_socket, chunk) {
        state.received += chunk.length;
      },
      close() {
        state.closed = true;
      },
      error() {},
    },
  });
  onCleanup(() => socket.terminate());
  const send = (bytes: Uint8Array) => socket.write(bytes, 0, bytes.length);
  return { socket, state, send };
}

describe("tunnel sessions", () => {
  test("a client waits for a session that comes up later, then goes through", async () => {
    const port = freePort();
    const { client, log } = await startClient(port, { version: 1 }, { connectTimeout: 3 }, false);
    await log.waitFor("dial_failed");
    const tcp = await PipeClient.connect(client.port);
    await tcp.write("early bytes");
    expect(client.table.totals.opened).toBe(0); // waiting: no stream yet
    const echo = new EchoServer();
    onCleanup(() => echo.stop());
    startServer(echo.port, { version: 1 }, { listenPort: port });
    await log.waitFor("session_up");
    await tcp.waitForBytes(11);
    expect(tcp.text()).toBe("early bytes");
    tcp.end();
    const close = await log.waitFor("close");
    expect(close.reason).toBe("peer_closed");
  });

  test("with no session up, a client is closed after --connect-timeout, naming the last dial error", async () => {
    const port = freePort();
    const { client, log } = await startClient(port, {}, { connectTimeout: 0.3 }, false);
    const tcp = await PipeClient.connect(client.port);
    await tcp.ended; // our FIN (the test client is half-open, so it does not close by itself)
    const close = await log.waitFor("close");
    expect(close.reason).toBe("connect_timeout");
    expect(close.detail).toContain("no tunnel session up within --connect-timeout 0.3s");
    expect(close.detail).toContain("ECONNREFUSED");
    const failed = await log.waitFor("dial_failed");
    expect(failed.retryInSeconds).toBeGreaterThan(0);
  });

  test("a session that dies closes its streams with its cause, and the pool redials", async () => {
    const { client, clientLog, server } = await startTunnel(
      { version: 2 },
      { client: { conns: 1 } },
    );
    const tcp = await PipeClient.connect(client.port);
    await tcp.write("ping");
    await tcp.waitForBytes(4);
    for (const record of server.sessions.live) record.session.close("killed by the test");
    const error = await tcp.closed;
    expect((error as { code?: string } | undefined)?.code).toBe("ECONNRESET");
    const close = await clientLog.waitFor("close");
    expect(close.reason).toBe("peer_reset");
    // The server ends the connection with bytes unread, which the kernel turns into a reset.
    const cause = /^tunnel session 1 \(127\.0\.0\.1:\d+\) closed: (MUX_ERR_TRANSPORT_\w+)/;
    expect(close.detail).toMatch(cause);
    const down = await clientLog.waitFor("session_down");
    expect(down).toMatchObject({ session: 1, streams: 1 });
    expect(down.code).toBe(cause.exec(close.detail ?? "")?.[1] as string);
    expect(down.retryInSeconds).toBeDefined();
    await clientLog.waitFor("session_up", (up) => up.session === 2);
    const data = patterned(100_000);
    const { sha } = await echoThrough(client.port, data);
    expect(sha).toBe(sha256(data));
  });

  test("keepalive: a server gone silent is dropped after the keepalive timeout, its streams closed", async () => {
    const silent = rawServer();
    const { client, log } = await startClient(
      silent.port,
      { version: 1, keepAliveIntervalMs: 100, keepAliveTimeoutMs: 300 },
      { conns: 1 },
    );
    const tcp = await PipeClient.connect(client.port);
    await log.waitFor("open"); // one SYN costs no round trip: OPEN at once
    await tcp.closed;
    const down = await log.waitFor("session_down");
    expect(down.code).toBe("MUX_ERR_KEEPALIVE_TIMEOUT");
    expect(down.seconds).toBeGreaterThanOrEqual(0.3);
    expect(down.seconds).toBeLessThan(1.5);
    const close = await log.waitFor("close");
    expect(close.reason).toBe("peer_reset");
    expect(close.detail).toContain("MUX_ERR_KEEPALIVE_TIMEOUT");
    await log.waitFor("session_up", (up) => up.session === 2); // redialed
  });

  const VIOLATIONS: { name: string; version: 1 | 2; frame: Uint8Array; code: string }[] = [
    {
      name: "a version mismatch",
      version: 1,
      frame: hex("02 00 00 00 05 00 00 00"),
      code: SmuxErrorCode.BadVersion,
    },
    {
      name: "an unknown command",
      version: 2,
      frame: hex("02 07 00 00 05 00 00 00"),
      code: SmuxErrorCode.UnknownCommand,
    },
    {
      name: "a SYN with a body",
      version: 1,
      frame: encodeFrame(1, SmuxCmd.SYN, 5, hex("00")),
      code: SmuxErrorCode.UnexpectedBody,
    },
    {
      name: "an UPD body of 4 bytes",
      version: 2,
      frame: encodeFrame(2, SmuxCmd.UPD, 3, hex("00 00 00 00")),
      code: SmuxErrorCode.BadUpd,
    },
    {
      name: "an UPD on v1",
      version: 1,
      frame: concat([hex("01 04 08 00 03 00 00 00"), new Uint8Array(8)]),
      code: SmuxErrorCode.UpdOnV1,
    },
  ];

  for (const violation of VIOLATIONS) {
    test(`${violation.name} from a client closes its session with ${violation.code}; the server serves on`, async () => {
      const echo = new EchoServer();
      onCleanup(() => echo.stop());
      const { server, log } = startServer(echo.port, { version: violation.version });
      const raw = await rawClient(server.port);
      raw.send(
        concat([encodeSyn(violation.version, 3), encodePsh(violation.version, 3, hex("68 69"))]),
      );
      await log.waitFor("open");
      await until(() => raw.state.received >= 8 + 2, "the echo of stream 3");
      raw.send(violation.frame);
      const down = await log.waitFor("session_down");
      expect(down.code).toBe(violation.code);
      const close = await log.waitFor("close");
      expect(close.reason).toBe("peer_reset");
      expect(close.detail).toContain(violation.code);
      await until(() => raw.state.closed, "the bad session's connection to close");
      // The server goes on: a proper client works.
      const { client } = await startClient(server.port, { version: violation.version });
      const data = patterned(50_000);
      expect((await echoThrough(client.port, data)).sha).toBe(sha256(data));
    });
  }

  test("random bytes from clients close their sessions and never crash the server", async () => {
    const echo = new EchoServer();
    onCleanup(() => echo.stop());
    const { server, log } = startServer(echo.port, { version: 2 });
    const random = seededRandom(13);
    for (let round = 0; round < 20; round++) {
      const raw = await rawClient(server.port);
      const garbage = new Uint8Array(64 + Math.floor(random() * 4096));
      for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
      garbage[0] = 9; // a bad version byte: every round is a violation, not a wait for a body
      raw.send(garbage);
      await until(() => raw.state.closed, `round ${round} to be closed`);
    }
    expect(log.of("session_down")).toHaveLength(20);
    const { client } = await startClient(server.port, { version: 2 });
    const data = patterned(50_000);
    expect((await echoThrough(client.port, data)).sha).toBe(sha256(data));
  });

  test("a malformed frame from the server closes the client's session, its stream with the reason, then a redial", async () => {
    let answered = 0;
    const bad = rawServer((socket) => {
      // Answer the first bytes (the stream's SYN) with an UPD on a v1 session: a violation.
      if (answered++ > 0) return;
      const frame = concat([hex("01 04 08 00 03 00 00 00"), new Uint8Array(8)]);
      socket.write(frame, 0, frame.length);
    });
    const { client, log } = await startClient(bad.port, { version: 1 }, { conns: 1 });
    const tcp = await PipeClient.connect(client.port);
    await tcp.write("hello");
    await tcp.closed;
    const down = await log.waitFor("session_down");
    expect(down.code).toBe(SmuxErrorCode.UpdOnV1);
    const close = await log.waitFor("close");
    expect(close.detail).toContain(SmuxErrorCode.UpdOnV1);
    await log.waitFor("session_up", (up) => up.session === 2);
  });
});
