/**
 * forward and proxy with src/net (issue 14): TLS termination (`forward --tls-cert`, stunnel's
 * main job) and TLS origination (`--to-tls`, `--to-ca`, `--to-servername`), each carrying
 * 100 MB with equal SHA-256; a target whose certificate does not verify is a failed connect;
 * --allow-from on the forward port; the proxy on a TLS listener driven by
 * `curl --proxy https://… --proxy-cacert …`; the command line's errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { DEFAULT_NET_OPTIONS, NetAccess, type NetOptions } from "../../src/net/access.ts";
import type { NetEvent } from "../../src/net/net-events.ts";
import { ProxyServer } from "../../src/proxy/proxy-server.ts";
import { EchoServer, EventLog } from "../forward/forward-harness.ts";
import { startForwarder } from "../forward/start.ts";
import { relayProcesses } from "../support/child.ts";
import { makeTestCerts, type TestCerts } from "./certs.ts";
import { TlsTestClient } from "./tls-client.ts";

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function access(options: Partial<NetOptions>, events: NetEvent[] = []): NetAccess {
  return NetAccess.load({ ...DEFAULT_NET_OPTIONS, ...options }, (e) => events.push(e));
}

function forwarder(targets: number[], overrides: Parameters<typeof startForwarder>[1] = {}) {
  const started = startForwarder(targets, overrides);
  cleanups.push(() => started.forwarder.stop());
  return started;
}

interface EchoConn {
  outbox: Uint8Array[];
}

/** A TLS echo server with backpressure (the upstream for --to-tls). */
function tlsEcho(cert: string, key: string): TCPSocketListener<EchoConn> {
  const flush = (socket: Socket<EchoConn>) => {
    const outbox = socket.data.outbox;
    while (outbox.length > 0) {
      const head = outbox[0] as Uint8Array;
      const written = socket.write(head, 0, head.length);
      if (written < head.length) {
        if (written > 0) outbox[0] = head.subarray(written);
        return;
      }
      outbox.shift();
    }
    socket.resume();
  };
  const listener = Bun.listen<EchoConn>({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: certs.read(cert), key: certs.read(key) },
    socket: {
      binaryType: "uint8array",
      open(socket) {
        socket.data = { outbox: [] };
      },
      data(socket, chunk) {
        socket.data.outbox.push(chunk);
        if (socket.data.outbox.length === 1) flush(socket);
        if (socket.data.outbox.length > 0) socket.pause();
      },
      drain(socket) {
        flush(socket);
      },
    },
  });
  cleanups.push(() => listener.stop(true));
  return listener;
}

/** Sends `size` bytes (blocks that all differ) and waits for as many back; returns both hashes. */
async function roundTrip(
  client: TlsTestClient,
  size: number,
): Promise<{ sent: string; got: string }> {
  const block = new Uint8Array(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + (i >> 9)) & 0xff;
  const sent = new Bun.CryptoHasher("sha256");
  const writes: Promise<void>[] = [];
  for (let offset = 0; offset < size; offset += block.length) {
    block[0] = (offset >> 20) & 0xff;
    const copy = block.slice();
    sent.update(copy);
    writes.push(client.write(copy));
  }
  await Promise.all(writes);
  await client.waitForBytes(size);
  expect(client.received).toBe(size);
  return { sent: sent.digest("hex"), got: client.hash.digest("hex") };
}

const SIZE = 100 * 1024 * 1024;

describe("forward", () => {
  test("TLS termination: a TLS client, a plaintext upstream, 100 MB each way with equal SHA-256", async () => {
    const echo = new EchoServer();
    cleanups.push(() => echo.stop());
    const { forwarder: fwd, log } = forwarder([echo.port], {
      access: access({ tlsCert: certs.serverCert, tlsKey: certs.serverKey }),
    });
    const client = await TlsTestClient.connect({
      port: fwd.port,
      ca: certs.read(certs.caCert),
      keep: false,
    });
    cleanups.push(() => client.terminate());
    expect(client.handshake?.ok).toBe(true);
    const started = performance.now();
    const { sent, got } = await roundTrip(client, SIZE);
    expect(got).toBe(sent);
    console.log(
      `100 MB each way, TLS terminated by forward, in ${((performance.now() - started) / 1000).toFixed(2)} s (${client.handshake?.cipher})`,
    );
    client.end();
    const close = await log.waitFor("close");
    expect(close.bytesUp).toBe(SIZE);
    expect(close.bytesDown).toBe(SIZE);
  }, 60_000);

  test("TLS origination (--to-tls --to-ca): a plaintext client, a TLS upstream, 100 MB each way with equal SHA-256", async () => {
    const upstream = tlsEcho(certs.serverCert, certs.serverKey);
    const { forwarder: fwd } = forwarder([upstream.port], {
      toTls: { ca: certs.read(certs.caCert), serverName: "localhost" },
    });
    const client = await TlsTestClient.connect({ port: fwd.port, plain: true, keep: false });
    cleanups.push(() => client.terminate());
    const started = performance.now();
    const { sent, got } = await roundTrip(client, SIZE);
    expect(got).toBe(sent);
    console.log(
      `100 MB each way, TLS originated by forward, in ${((performance.now() - started) / 1000).toFixed(2)} s`,
    );
  }, 60_000);

  test("both: TLS in and TLS out (a TLS client re-encrypted to a TLS upstream), SNI from the target's host", async () => {
    const upstream = tlsEcho(certs.serverCert, certs.serverKey);
    // The target is 127.0.0.1: the certificate's IP SAN matches it.
    const { forwarder: fwd } = forwarder([upstream.port], {
      access: access({ tlsCert: certs.server2Cert, tlsKey: certs.server2Key }),
      toTls: { ca: certs.read(certs.caCert) },
    });
    const client = await TlsTestClient.connect({ port: fwd.port, ca: certs.read(certs.caCert) });
    cleanups.push(() => client.terminate());
    expect(client.handshake).toMatchObject({ ok: true, peerName: "reloaded" });
    await client.write("through two TLS sessions\n");
    await client.waitForBytes(25);
    expect(client.text).toBe("through two TLS sessions\n");
  });

  test.each([
    [
      "another CA",
      () => ({ ca: certs.read(certs.otherCaCert), serverName: "localhost" }),
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    ],
    [
      "the wrong name",
      () => ({ ca: certs.read(certs.caCert), serverName: "example.com" }),
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ],
  ])(
    "a target whose certificate does not verify (%s) is a failed connect",
    async (_name, tls, code) => {
      const upstream = tlsEcho(certs.serverCert, certs.serverKey);
      const { forwarder: fwd, log } = forwarder([upstream.port], { toTls: tls() });
      const client = await TlsTestClient.connect({ port: fwd.port, plain: true });
      cleanups.push(() => client.terminate());
      await client.write("hello\n");
      await client.closed;
      const close = await log.waitFor("close");
      expect(close.reason).toBe("connect_failed");
      expect(close.detail).toContain(`TLS handshake failed (${code})`);
    },
  );

  test("--allow-from on the forward port: an outside peer never reaches the upstream", async () => {
    const echo = new EchoServer();
    cleanups.push(() => echo.stop());
    const events: NetEvent[] = [];
    const { forwarder: fwd } = forwarder([echo.port], {
      access: access({ allowFrom: ["127.0.0.1/32"] }, events),
    });
    const outsider = await TlsTestClient.connect({
      port: fwd.port,
      plain: true,
      localAddress: "127.0.0.2",
    });
    await outsider.write("let me through\n");
    await outsider.closed;
    expect(echo.accepted).toBe(0);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "access_refused", listener: "forward" }),
    );
    const insider = await TlsTestClient.connect({ port: fwd.port, plain: true });
    cleanups.push(() => insider.terminate());
    await insider.write("hi\n");
    await insider.waitForBytes(3);
    expect(insider.text).toBe("hi\n");
  });
});

describe("proxy", () => {
  const curl = Bun.which("curl");
  test.skipIf(curl === null)(
    "a TLS listener: curl --proxy https://… --proxy-cacert … tunnels a request",
    async () => {
      const web = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: () => new Response("hello through a TLS proxy\n"),
      });
      cleanups.push(() => web.stop(true));
      const log = new EventLog();
      const proxy = new ProxyServer(
        {
          listenHost: "127.0.0.1",
          listenPort: 0,
          connectTimeout: 2,
          allow: [],
          allowAny: true,
          auth: "user:secret",
          maxHead: 8192,
          headTimeout: 5,
          maxConns: 0,
          idleTimeout: 0,
          halfCloseTimeout: 0,
          statsInterval: 0,
          access: access({ tlsCert: certs.serverCert, tlsKey: certs.serverKey }),
        },
        log.listener,
      );
      cleanups.push(() => proxy.stop());
      const run = Bun.spawn(
        [curl as string, "-sS", "--max-time", "5", "-p"]
          .concat(["--proxy", `https://localhost:${proxy.port}`, "--proxy-cacert", certs.caCert])
          .concat(["--proxy-user", "user:secret", `http://127.0.0.1:${web.port}/`]),
        { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } },
      );
      const [out, err, code] = await Promise.all([
        new Response(run.stdout).text(),
        new Response(run.stderr).text(),
        run.exited,
      ]);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      expect(out).toBe("hello through a TLS proxy\n");
      expect((await log.waitFor("open")).upstream).toBe(`127.0.0.1:${web.port}`);
    },
  );
});

describe("the command line", () => {
  const spawn = relayProcesses();
  test.each([
    [
      ["forward", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:1", "--tls-cert", "CERT"],
      "bun-relay: forward: --tls-cert needs --tls-key",
    ],
    [
      ["forward", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:1", "--to-ca", "CERT"],
      "bun-relay: forward: --to-ca and --to-servername need --to-tls",
    ],
    [
      [
        "forward",
        "--listen",
        "127.0.0.1:0",
        "--to",
        "127.0.0.1:1",
        "--to-tls",
        "--to-ca",
        "/nonexistent",
      ],
      "bun-relay: --to-ca /nonexistent: cannot read the file (ENOENT)",
    ],
    [
      [
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent",
        "--tls-key",
        "/nonexistent",
      ],
      "bun-relay: --tls-cert /nonexistent: cannot read the file (ENOENT)",
    ],
  ])("%p: exit 2 with one line", async (args, message) => {
    const child = spawn(args.map((arg) => (arg === "CERT" ? certs.serverCert : arg)));
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toBe(message);
  });

  test("forward --help lists the access and --to-tls flags with FORWARD_ variables; proxy has no --to-tls", async () => {
    const forwardHelp = await new Response(spawn(["forward", "--help"]).stdout).text();
    for (const env of [
      "FORWARD_TLS_CERT",
      "FORWARD_TLS_CLIENT_CA",
      "FORWARD_ALLOW_FROM",
      "FORWARD_TO_TLS",
      "FORWARD_TO_CA",
      "FORWARD_TO_SERVERNAME",
    ]) {
      expect(forwardHelp).toContain(`env ${env})`);
    }
    const proxyHelp = await new Response(spawn(["proxy", "--help"]).stdout).text();
    expect(proxyHelp).toContain("env PROXY_TLS_CERT)");
    expect(proxyHelp).not.toContain("--to-tls");
  });
});
