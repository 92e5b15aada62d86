/**
 * The Bun socket adapter: sessions over TLS, connect failures as MuxErrors, the peer's
 * address in errors, transport resets, and application callbacks that throw inside the data
 * event (the session closes; nothing escapes the socket handler).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectSession, listenSessions, MuxErrorCode, type Session } from "../../src/mux/index.ts";
import { encodePsh, encodeSyn } from "../../src/protocol/smux-frame.ts";
import {
  bytes,
  cleanupAfterEach,
  concat,
  decoder,
  echo,
  onCleanup,
  randomBytes,
  rawClientOf,
  readAll,
  sessionPair,
  sha256,
  writeAll,
} from "./support.ts";

cleanupAfterEach();

const opensslSkipReason =
  Bun.which("openssl") === null ? "no openssl to make a test certificate" : undefined;

describe.skipIf(opensslSkipReason !== undefined)(
  opensslSkipReason === undefined ? "TLS" : `TLS (skipped: ${opensslSkipReason})`,
  () => {
    let key = "";
    let cert = "";
    beforeAll(() => {
      const dir = mkdtempSync(path.join(tmpdir(), "mux-tls-"));
      const made = Bun.spawnSync(
        [
          "openssl",
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          `${dir}/key.pem`,
          "-out",
          `${dir}/cert.pem`,
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
          "-addext",
          "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        { stdout: "ignore", stderr: "pipe" },
      );
      if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
      key = readFileSync(`${dir}/key.pem`, "utf8");
      cert = readFileSync(`${dir}/cert.pem`, "utf8");
    });

    test("v2 streams echo over TLS, the certificate verified", async () => {
      const listener = listenSessions({
        hostname: "127.0.0.1",
        port: 0,
        tls: { key, cert },
        config: { version: 2 },
        onStream: echo,
        onSession() {},
      });
      onCleanup(() => {
        listener.stop(true);
      });
      const session = await connectSession({
        hostname: "127.0.0.1",
        port: listener.port,
        tls: { ca: cert, serverName: "localhost" },
        config: { version: 2 },
      });
      onCleanup(() => session.close());
      const results = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const stream = session.open();
          const data = randomBytes(300_000);
          const back = readAll(stream);
          await writeAll(stream, data);
          stream.closeWrite();
          return sha256(await back) === sha256(data);
        }),
      );
      expect(results).toEqual(Array(10).fill(true));
    });

    test("a certificate the client does not trust fails the connect", async () => {
      const listener = listenSessions({
        hostname: "127.0.0.1",
        port: 0,
        tls: { key, cert },
        onSession() {},
      });
      onCleanup(() => {
        listener.stop(true);
      });
      const failed = connectSession({ hostname: "127.0.0.1", port: listener.port, tls: true });
      await expect(failed).rejects.toMatchObject({
        code: MuxErrorCode.TransportError,
        reason: "connect failed (DEPTH_ZERO_SELF_SIGNED_CERT)",
      });
      // A plain TCP client fails the listener's handshake: no session, nothing thrown.
      const plain = connectSession({ hostname: "127.0.0.1", port: listener.port });
      const session = await plain.catch(() => undefined);
      session
        ?.open()
        .write(bytes("not TLS"))
        .catch(() => {});
      if (session !== undefined) expect((await session.closed).code).toMatch(/TRANSPORT/);
      const trusted = await connectSession({
        hostname: "127.0.0.1",
        port: listener.port,
        tls: { ca: cert, serverName: "localhost" },
      });
      onCleanup(() => trusted.close());
      expect(trusted.isClosed).toBe(false);
    });
  },
);

describe("connections", () => {
  test("a refused connection rejects with MUX_ERR_TRANSPORT_ERROR naming the peer", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const failed = connectSession({ hostname: "127.0.0.1", port });
    await expect(failed).rejects.toMatchObject({
      code: MuxErrorCode.TransportError,
      peer: `127.0.0.1:${port}`,
      reason: "connect failed (ECONNREFUSED)",
    });
  });

  test("a bad config rejects before connecting", async () => {
    await expect(
      connectSession({ hostname: "127.0.0.1", port: 1, config: { maxFrameSize: 0 } }),
    ).rejects.toMatchObject({
      code: MuxErrorCode.BadConfig,
    });
  });

  test("each side's peer is the other's host:port", async () => {
    const { client, server, listener } = await sessionPair({ version: 1 });
    expect(client.peer).toBe(`127.0.0.1:${listener.port}`);
    expect(server.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.peer).not.toBe(client.peer);
  });

  test("a reset connection closes the session with MUX_ERR_TRANSPORT_ERROR", async () => {
    const { raw, session } = await rawClientOf({ version: 1, keepAliveDisabled: true });
    raw.write(encodeSyn(1, 3));
    const stream = await session.accept();
    raw.socket.terminate();
    const cause = await session.closed;
    expect(cause.code).toBe(MuxErrorCode.TransportError);
    expect(cause.reason).toBe("the connection failed (ECONNRESET: connection reset by peer, read)");
    expect(await stream.closed).toBe(cause);
  });
});

describe("callbacks that throw", () => {
  test("an onData handler that throws closes the session with MUX_ERR_CALLBACK", async () => {
    const { raw, session } = await rawClientOf({ version: 1, keepAliveDisabled: true });
    session.onStream = (stream) =>
      stream.onData((chunk) => {
        throw new Error(`cannot take ${decoder.decode(chunk)}`);
      });
    raw.write(concat([encodeSyn(1, 3), encodePsh(1, 3, bytes("this"))]));
    const cause = await session.closed;
    expect(cause.code).toBe(MuxErrorCode.Callback);
    expect(cause.reason).toBe("an application callback threw: cannot take this");
    expect((cause.cause as Error).message).toBe("cannot take this");
    await raw.when((peer) => peer.closed);
  });

  test("an onStream handler that throws does too, and the other sessions go on", async () => {
    const sessions: Session[] = [];
    let first = true;
    const listener = listenSessions({
      hostname: "127.0.0.1",
      port: 0,
      config: { version: 2 },
      onStream(stream) {
        if (first) {
          first = false;
          throw new Error("no");
        }
        echo(stream);
      },
      onSession: (session) => sessions.push(session),
    });
    onCleanup(() => {
      listener.stop(true);
    });
    const doomed = await connectSession({
      hostname: "127.0.0.1",
      port: listener.port,
      config: { version: 2 },
    });
    doomed.open();
    expect((await doomed.closed).code).toBe(MuxErrorCode.TransportClosed);
    expect((await (sessions[0] as Session).closed).code).toBe(MuxErrorCode.Callback);
    const fine = await connectSession({
      hostname: "127.0.0.1",
      port: listener.port,
      config: { version: 2 },
    });
    onCleanup(() => fine.close());
    const stream = fine.open();
    await stream.write(bytes("ok"));
    stream.closeWrite();
    expect(decoder.decode(await readAll(stream))).toBe("ok");
  });
});
