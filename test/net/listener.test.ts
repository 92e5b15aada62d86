/**
 * openListener over real sockets on loopback: TLS with Bun's TLS, mutual TLS and each way a
 * handshake fails, --allow-from at accept, a TLS client on a plaintext port, the handshake
 * timeout, rate-limited logging, reloads (new certificate and allow-list while a connection
 * stays up; a bad file keeps the old configuration), and listen errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { ErrorCode, type RelayError } from "../../src/errors.ts";
import { DEFAULT_NET_OPTIONS, NetAccess, type NetOptions } from "../../src/net/access.ts";
import type { PortProtocol } from "../../src/net/first-bytes.ts";
import { type NetListener, openListener } from "../../src/net/listener.ts";
import type { NetEvent } from "../../src/net/net-events.ts";
import { makeTestCerts, type TestCerts } from "./certs.ts";
import { TlsTestClient, until } from "./tls-client.ts";

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

const listeners: NetListener<unknown>[] = [];
const clients: TlsTestClient[] = [];
afterEach(() => {
  for (const listener of listeners.splice(0)) listener.stop(true);
  for (const client of clients.splice(0)) if (client.isOpen) client.terminate();
});

interface EchoServer {
  listener: NetListener<unknown>;
  access: NetAccess;
  events: NetEvent[];
  opens: number;
  closes: number;
  refusedBySniff: string[];
}

/** An echo server on an openListener: every byte is written back. */
function echoServer(
  options: Partial<NetOptions>,
  extra: { expects?: PortProtocol; port?: number; reusePort?: boolean; host?: string } = {},
): EchoServer {
  const events: NetEvent[] = [];
  const access = NetAccess.load({ ...DEFAULT_NET_OPTIONS, ...options }, (e) => events.push(e));
  const server: EchoServer = {
    listener: undefined as unknown as NetListener<unknown>,
    access,
    events,
    opens: 0,
    closes: 0,
    refusedBySniff: [],
  };
  server.listener = openListener<unknown>({
    what: "echo",
    host: extra.host ?? "127.0.0.1",
    port: extra.port ?? 0,
    access,
    reusePort: extra.reusePort ?? false,
    ...(extra.expects ? { expects: extra.expects } : {}),
    refused: (_socket, reason) => server.refusedBySniff.push(reason),
    socket: {
      binaryType: "uint8array",
      open() {
        server.opens++;
      },
      data(socket: Socket<unknown>, chunk: Uint8Array) {
        socket.write(chunk, 0, chunk.length);
      },
      close() {
        server.closes++;
      },
    },
  });
  listeners.push(server.listener);
  return server;
}

const tlsOptions = (): Partial<NetOptions> => ({
  tlsCert: certs.serverCert,
  tlsKey: certs.serverKey,
});
const mutualOptions = (): Partial<NetOptions> => ({
  ...tlsOptions(),
  tlsClientCa: certs.caCert,
});

async function connect(options: Parameters<typeof TlsTestClient.connect>[0]) {
  const client = await TlsTestClient.connect(options);
  clients.push(client);
  return client;
}

async function echoes(client: TlsTestClient, text: string): Promise<boolean> {
  const before = client.received;
  await client.write(text);
  await client.waitForBytes(before + text.length);
  return client.text.slice(before) === text;
}

function failures(server: EchoServer, reason: string): number {
  return server.access.counters.get(server.access.counters.handshakeFailures, "echo", reason);
}

function refusals(server: EchoServer, reason: string): number {
  return server.access.counters.get(server.access.counters.refused, "echo", reason);
}

/** Runs `openssl s_client` against the port; resolves with its exit code and output. */
async function sClient(port: number, args: string[]): Promise<{ code: number; out: string }> {
  const child = Bun.spawn(
    ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"].concat(
      args,
    ),
    { stdin: new Blob(["ping\n"]), stdout: "pipe", stderr: "pipe" },
  );
  const timer = setTimeout(() => child.kill(), 5000);
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code, out: out + err };
}

describe("TLS", () => {
  test("echoes exact bytes over TLS 1.3; the mode's open runs after the handshake", async () => {
    const server = echoServer(tlsOptions());
    const client = await connect({ port: server.listener.port, ca: certs.read(certs.caCert) });
    expect(client.handshake).toMatchObject({ ok: true, error: null, version: "TLSv1.3" });
    expect(client.handshake?.cipher).toMatch(/^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20)/);
    await until(() => server.opens === 1, 5000, "the open");
    const payload = new Uint8Array(256 * 1024).map((_, i) => (i * 31 + 7) & 255);
    await client.write(payload);
    await client.waitForBytes(payload.length);
    expect(Bun.hash(client.bytes())).toBe(Bun.hash(payload));
    expect(server.access.counters.get(server.access.counters.handshakes, "echo", "ok")).toBe(1);
  });

  test("TLS 1.2 is accepted, TLS 1.1 refused with protocol_version (counted, logged)", async () => {
    const server = echoServer(tlsOptions());
    const port = server.listener.port;
    const tls12 = await sClient(port, ["-tls1_2", "-CAfile", certs.caCert]);
    expect(tls12.out).toContain("Protocol  : TLSv1.2");
    expect(tls12.out).toContain("Verify return code: 0 (ok)");
    const tls11 = await sClient(port, ["-tls1_1", "-CAfile", certs.caCert]);
    expect(tls11.code).not.toBe(0);
    expect(tls11.out).toMatch(
      /alert protocol version|no protocols available|unsupported protocol/i,
    );
    await until(
      () => failures(server, "protocol_version") === 1,
      5000,
      "the protocol_version count",
    );
    expect(server.events).toContainEqual(
      expect.objectContaining({
        type: "tls_handshake_failed",
        reason: "protocol_version",
        count: 1,
      }),
    );
    expect(server.opens).toBe(1); // the TLS 1.2 client only
  });

  test("a client that checks the certificate against another CA fails on its side", async () => {
    const server = echoServer(tlsOptions());
    const client = await connect({ port: server.listener.port, ca: certs.read(certs.otherCaCert) });
    expect(client.handshake?.ok).toBe(false);
    expect((client.handshake?.error as { code?: string } | null)?.code).toBe(
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    );
    await client.closed;
  });

  test("a plaintext client, garbage, and a handshake that never finishes: each closed and counted; a TLS client meanwhile is served", async () => {
    const server = echoServer({ ...tlsOptions(), handshakeTimeout: 0.3 });
    const port = server.listener.port;
    const good = await connect({ port, ca: certs.read(certs.caCert) });

    const plain = await connect({ port, plain: true });
    await plain.write("hello, this is not TLS\n");
    await plain.closed;
    // Bun answers a plaintext client with a TLS alert record, then closes.
    expect(plain.bytes()[0]).toBe(0x15);

    const garbage = await connect({ port, plain: true });
    await garbage.write(new Uint8Array(300).map((_, i) => (i * 97 + 13) & 255));
    await garbage.closed;

    const silent = await connect({ port, plain: true }); // connects, never says anything
    const partial = await connect({ port, plain: true }); // half a ClientHello record header
    await partial.write(new Uint8Array([0x16, 0x03, 0x01, 0x02]));
    const started = performance.now();
    await Promise.all([silent.closed, partial.closed]);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(200);
    expect(waited).toBeLessThan(3000);

    expect(await echoes(good, "still here\n")).toBe(true);
    expect(failures(server, "not_tls")).toBe(2);
    expect(failures(server, "timeout")).toBe(2);
    expect(server.opens).toBe(1);
    expect(server.closes).toBe(0); // the mode never saw the failed ones
    expect(server.listener.pendingHandshakes).toBe(0);
    const reasons = server.events
      .filter((e) => e.type === "tls_handshake_failed")
      .map((e) => (e as { reason: string }).reason);
    expect(reasons).toEqual(["not_tls", "timeout"]); // one line per reason per second
  });

  test("a client that connects and leaves before the handshake is counted as aborted, not logged", async () => {
    const server = echoServer(tlsOptions());
    const client = await connect({ port: server.listener.port, plain: true });
    client.end();
    await until(() => failures(server, "aborted") === 1, 5000, "the aborted count");
    expect(server.events.filter((e) => e.type === "tls_handshake_failed")).toEqual([]);
    expect(server.listener.pendingHandshakes).toBe(0);
  });
});

describe("mutual TLS (--tls-client-ca)", () => {
  test("a client certificate signed by the CA is accepted", async () => {
    const server = echoServer(mutualOptions());
    const client = await connect({
      port: server.listener.port,
      ca: certs.read(certs.caCert),
      cert: certs.read(certs.clientCert),
      key: certs.read(certs.clientKey),
    });
    expect(client.handshake?.ok).toBe(true);
    expect(await echoes(client, "mutual\n")).toBe(true);
    expect(server.opens).toBe(1);
  });

  test.each([
    ["no certificate", undefined, undefined, "no_cert"],
    ["a certificate from another CA", "otherClientCert", "otherClientKey", "unknown_ca"],
    ["an expired certificate", "expiredClientCert", "expiredClientKey", "expired"],
  ] as const)(
    "%s: refused during the handshake, counted as %s, the mode never sees it",
    async (_name, cert, key, reason) => {
      const server = echoServer(mutualOptions());
      const client = await connect({
        port: server.listener.port,
        ca: certs.read(certs.caCert),
        ...(cert
          ? { cert: certs.read(certs[cert]), key: certs.read(certs[key as typeof cert]) }
          : {}),
      });
      // TLS 1.3 finishes the client's side of the handshake before the server has checked its
      // certificate; the server then closes without ever delivering a byte.
      await client.write("let me in\n");
      await client.closed;
      expect(client.received).toBe(0);
      await until(() => failures(server, reason) === 1, 5000, `the ${reason} count`);
      expect(server.opens).toBe(0);
      expect(server.closes).toBe(0);
      const event = server.events.find((e) => e.type === "tls_handshake_failed");
      expect(event).toMatchObject({
        listener: "echo",
        reason,
        peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      });
    },
  );

  test("openssl s_client without a certificate gets the certificate_required alert", async () => {
    const server = echoServer(mutualOptions());
    // -ign_eof: read on after stdin ends, until the server's alert and close.
    const result = await sClient(server.listener.port, ["-CAfile", certs.caCert, "-ign_eof"]);
    expect(result.out).toMatch(/certificate required|handshake failure/i);
    await until(() => failures(server, "no_cert") === 1, 5000, "the no_cert count");
  });
});

describe("--allow-from", () => {
  test("a peer outside the ranges is closed at accept (plaintext), counted and logged; one inside is served", async () => {
    const server = echoServer({ allowFrom: ["127.0.0.1/32"] });
    const port = server.listener.port;
    const inside = await connect({ port, plain: true });
    const outside = await connect({ port, plain: true, localAddress: "127.0.0.2" });
    await outside.write("hello?\n");
    await outside.closed;
    expect(outside.received).toBe(0);
    expect(await echoes(inside, "hi\n")).toBe(true);
    expect(refusals(server, "allow_from")).toBe(1);
    expect(server.opens).toBe(1);
    expect(server.closes).toBe(0);
    expect(server.events).toContainEqual({
      type: "access_refused",
      listener: "echo",
      reason: "allow_from",
      peer: expect.stringMatching(/^127\.0\.0\.2:\d+$/),
      count: 1,
      detail: "not in --allow-from 127.0.0.1/32",
    });
  });

  test("on a TLS port the refusal comes before any TLS work", async () => {
    const server = echoServer({ ...tlsOptions(), allowFrom: ["10.0.0.0/8", "127.0.0.1"] });
    const port = server.listener.port;
    const outside = await connect({
      port,
      localAddress: "127.0.0.2",
      ca: certs.read(certs.caCert),
    });
    expect(outside.handshake?.ok).toBe(false);
    await outside.closed;
    const inside = await connect({ port, ca: certs.read(certs.caCert) });
    expect(await echoes(inside, "tls inside\n")).toBe(true);
    expect(refusals(server, "allow_from")).toBe(1);
    expect(failures(server, "aborted")).toBe(0);
    expect(server.access.counters.handshakeFailures.size).toBe(0);
  });

  test("a dual-stack listener (::) sees IPv4 peers as ::ffff:a.b.c.d; IPv4 ranges still match them", async () => {
    const server = echoServer({ allowFrom: ["127.0.0.1/32"] }, { host: "::" });
    const port = server.listener.port;
    const inside = await connect({ port, plain: true });
    expect(await echoes(inside, "mapped\n")).toBe(true);
    const outside = await connect({ port, plain: true, localAddress: "127.0.0.2" });
    await outside.closed;
    expect(refusals(server, "allow_from")).toBe(1);
    expect(server.events.find((e) => e.type === "access_refused")).toMatchObject({
      peer: expect.stringMatching(/^\[::ffff:127\.0\.0\.2\]:\d+$/),
    });
  });

  test("a flood of refusals is one line, then at most one per second with a count", async () => {
    const server = echoServer({ allowFrom: ["127.0.0.1/32"] });
    const port = server.listener.port;
    for (let i = 0; i < 20; i++) {
      const client = await connect({ port, plain: true, localAddress: "127.0.0.2" });
      await client.closed;
    }
    expect(refusals(server, "allow_from")).toBe(20);
    expect(server.events.filter((e) => e.type === "access_refused")).toHaveLength(1);
    await until(
      () => server.events.filter((e) => e.type === "access_refused").length === 2,
      3000,
      "the summary line",
    );
    expect(
      server.events
        .filter((e) => e.type === "access_refused")
        .map((e) => (e as { count: number }).count),
    ).toEqual([1, 19]);
  });
});

describe("plaintext ports", () => {
  test("expects: a TLS ClientHello is not read as data; the mode is told why", async () => {
    const server = echoServer({}, { expects: { framing: "line", maxFrame: 1 << 20 } });
    const port = server.listener.port;
    const tlsClient = await connect({ port, ca: certs.read(certs.caCert) });
    expect(tlsClient.handshake?.ok).toBe(false);
    await tlsClient.closed;
    expect(tlsClient.received).toBe(0); // nothing of its ClientHello echoed
    expect(server.refusedBySniff).toEqual(["tls_client"]);
    expect(refusals(server, "tls_client")).toBe(1);
    const plain = await connect({ port, plain: true });
    expect(await echoes(plain, "\x16 not a record\n")).toBe(true);
    expect(await echoes(plain, "\x16\x03\x01\x00\x05\x01 later bytes are data\n")).toBe(true);
  });

  test("without expects a TLS stream is just data (forward)", async () => {
    const server = echoServer({});
    const plain = await connect({ port: server.listener.port, plain: true });
    const record = "\x16\x03\x01\x00\x05\x01hello";
    expect(await echoes(plain, record)).toBe(true);
    expect(server.refusedBySniff).toEqual([]);
  });
});

describe("reload", () => {
  function reloadableFiles() {
    const cert = join(certs.dir, "live.crt");
    const key = join(certs.dir, "live.key");
    const allow = join(certs.dir, "allow.txt");
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    writeFileSync(allow, "127.0.0.1/32\n");
    return { cert, key, allow };
  }

  test("a new certificate and allow-list: established connections stay, new ones get them", async () => {
    const files = reloadableFiles();
    const server = echoServer({
      tlsCert: files.cert,
      tlsKey: files.key,
      allowFromFile: files.allow,
    });
    const port = server.listener.port;
    const ca = certs.read(certs.caCert);
    const before = await connect({ port, ca });
    expect(await echoes(before, "before\n")).toBe(true);
    const refused = await connect({ port, ca, localAddress: "127.0.0.2" });
    await refused.closed;

    copyFileSync(certs.server2Cert, files.cert);
    copyFileSync(certs.server2Key, files.key);
    writeFileSync(files.allow, "# both now\n127.0.0.1\n127.0.0.2\n");
    expect(server.access.reload()).toBe(true);
    expect(server.listener.port).toBe(port);
    expect(server.events.at(-1)).toMatchObject({
      type: "reload",
      ok: true,
      detail: expect.stringContaining("certificate CN=reloaded"),
    });

    expect(await echoes(before, "after the reload\n")).toBe(true);
    const after = await connect({ port, ca, localAddress: "127.0.0.2" });
    expect(after.handshake?.ok).toBe(true);
    expect(await echoes(after, "new cert\n")).toBe(true);
    expect(server.access.tls?.subject).toBe("CN=reloaded");
    // A handshake proves which certificate is served: check the subject through openssl.
    const shown = await sClient(port, ["-CAfile", certs.caCert]);
    expect(shown.out).toMatch(/subject=\/?CN ?= ?reloaded/);
    expect(await echoes(before, "and still\n")).toBe(true);
    expect(server.access.counters.reloadsOk).toBe(1);
  });

  test("a bad new file keeps the old configuration and says why", async () => {
    const files = reloadableFiles();
    const server = echoServer({
      tlsCert: files.cert,
      tlsKey: files.key,
      allowFromFile: files.allow,
    });
    const port = server.listener.port;
    const ca = certs.read(certs.caCert);
    const live = await connect({ port, ca });

    writeFileSync(files.cert, "not a certificate\n");
    expect(server.access.reload()).toBe(false);
    expect(server.events.at(-1)).toEqual({
      type: "reload",
      ok: false,
      detail: `--tls-cert ${files.cert}: no PEM certificate in the file`,
    });
    copyFileSync(certs.serverCert, files.cert);
    copyFileSync(certs.clientKey, files.key); // a key of another certificate
    expect(server.access.reload()).toBe(false);
    expect(server.events.at(-1)).toMatchObject({
      ok: false,
      detail: expect.stringContaining("does not match the certificate"),
    });
    copyFileSync(certs.serverKey, files.key);
    writeFileSync(files.allow, "127.0.0.1/33\n");
    expect(server.access.reload()).toBe(false);
    expect(server.events.at(-1)).toMatchObject({
      ok: false,
      detail: `--allow-from-file ${files.allow}: line 1: '127.0.0.1/33': the prefix length must be 0 to 32`,
    });
    expect(server.access.counters.reloadsFailed).toBe(3);

    expect(await echoes(live, "unchanged\n")).toBe(true);
    const fresh = await connect({ port, ca });
    expect(fresh.handshake?.ok).toBe(true);
    expect(server.access.tls?.subject).toBe("CN=localhost");
    const outside = await connect({ port, ca, localAddress: "127.0.0.2" });
    await outside.closed;
    expect(refusals(server, "allow_from")).toBe(1);
  });

  test("stop(true) closes connections of listening sockets a reload replaced", async () => {
    const files = reloadableFiles();
    const server = echoServer({ tlsCert: files.cert, tlsKey: files.key });
    const client = await connect({ port: server.listener.port, ca: certs.read(certs.caCert) });
    copyFileSync(certs.server2Cert, files.cert);
    copyFileSync(certs.server2Key, files.key);
    expect(server.access.reload()).toBe(true);
    server.listener.stop(true);
    await client.closed;
  });
});

describe("listen errors", () => {
  test("a TLS listener refuses a port another one holds, though both set SO_REUSEPORT", () => {
    const first = echoServer(tlsOptions());
    let thrown: RelayError | undefined;
    try {
      echoServer(tlsOptions(), { port: first.listener.port });
    } catch (error) {
      thrown = error as RelayError;
    }
    expect(thrown?.code).toBe(ErrorCode.AddressInUse);
    expect(thrown?.reason).toBe(`echo port 127.0.0.1:${first.listener.port} is already in use`);
  });

  test("reusePort asked for: two TLS listeners share the port on purpose", () => {
    const first = echoServer(tlsOptions(), { reusePort: true });
    const second = echoServer(tlsOptions(), { reusePort: true, port: first.listener.port });
    expect(second.listener.port).toBe(first.listener.port);
  });
});
