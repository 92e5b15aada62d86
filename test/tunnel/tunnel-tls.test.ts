/**
 * The tunnel modes with src/net (issue 14), real TLS on loopback with certificates made by
 * openssl in a temporary directory (test/net/certs.ts): tunnel client -> tunnel server over
 * mutual TLS carrying a few MB with equal SHA-256; a client certificate from another CA, and
 * a client that does not trust the server's CA, each refused during the handshake with no
 * session; --allow-from on the tunnel client's --listen port; the command line's flags; the
 * two processes over mutual TLS, with a SIGHUP certificate reload keeping a live connection.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_NET_OPTIONS, NetAccess, type NetOptions } from "../../src/net/access.ts";
import type { NetEvent } from "../../src/net/net-events.ts";
import { loadServerTls } from "../../src/tunnel/tunnel-cli.ts";
import {
  parseTunnelCommandLine,
  type TunnelConfig,
  tunnelHelpText,
} from "../../src/tunnel/tunnel-config.ts";
import { cleanupAfterEach, onCleanup, until } from "../mux/support.ts";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";
import { TlsTestClient } from "../net/tls-client.ts";
import {
  EchoServer,
  echoThrough,
  PipeClient,
  patterned,
  sha256,
  spawnTunnel,
  startClient,
  startServer,
  type TunnelLog,
} from "./tunnel-harness.ts";

cleanupAfterEach();

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

function access(options: Partial<NetOptions>, events: NetEvent[] = []): NetAccess {
  return NetAccess.load({ ...DEFAULT_NET_OPTIONS, ...options }, (e) => events.push(e));
}

/** The client's dial TLS as the command line builds it. */
function serverTls(flags: string[]) {
  const command = parseTunnelCommandLine([
    "tunnel",
    "client",
    "--server",
    "127.0.0.1:9",
    "--server-tls",
    ...flags,
  ]);
  if (command.kind !== "run") throw new Error("expected a run command");
  return loadServerTls(command.config);
}

/**
 * Waits for the server's handshake failure and the client's side of it: with TLS 1.3 the
 * client may finish its handshake before the server has checked its certificate, so the
 * client sees either a failed dial or a session that goes down at once.
 */
async function refusedByServer(events: NetEvent[], log: TunnelLog): Promise<void> {
  await until(
    () => events.some((e) => e.type === "tls_handshake_failed" && e.listener === "tunnel server"),
    "the server's handshake failure",
  );
  await until(
    () => log.events.some((e) => e.type === "dial_failed" || e.type === "session_down"),
    "the client's failed dial or lost session",
  );
}

function echo(): EchoServer {
  const server = new EchoServer();
  onCleanup(() => server.stop());
  return server;
}

/** A tunnel server with mutual TLS on its session port, in front of an echo server. */
function mutualTlsServer(events: NetEvent[] = []) {
  return startServer(
    echo().port,
    {},
    {
      access: access(
        { tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsClientCa: certs.caCert },
        events,
      ),
    },
  );
}

describe("tunnel over TLS", () => {
  test("mutual TLS: client -> server carries 4 MB both ways, SHA-256 equal", async () => {
    const events: NetEvent[] = [];
    const { server } = mutualTlsServer(events);
    const { client } = await startClient(
      server.port,
      {},
      {
        conns: 2,
        serverTls: serverTls([
          "--server-ca",
          certs.caCert,
          "--server-cert",
          certs.clientCert,
          "--server-key",
          certs.clientKey,
        ]),
      },
    );
    await until(() => server.sessions.live.size === 2, "both sessions accepted");
    const data = patterned(4 * 1024 * 1024, 7);
    const { sha } = await echoThrough(client.port, data);
    expect(sha).toBe(sha256(data));
    const counters = server.settings.access?.counters;
    expect(counters?.get(counters.handshakes, "tunnel server", "ok")).toBe(2);
    expect(events.filter((e) => e.type === "tls_handshake_failed")).toEqual([]);
  });

  test("--server-servername: the name checked can differ from the --server host", async () => {
    const { server } = mutualTlsServer();
    const { client } = await startClient(
      server.port,
      {},
      {
        conns: 1,
        serverTls: serverTls([
          "--server-ca",
          certs.caCert,
          "--server-servername",
          "localhost",
          "--server-cert",
          certs.clientCert,
          "--server-key",
          certs.clientKey,
        ]),
      },
    );
    const data = patterned(256 * 1024);
    expect((await echoThrough(client.port, data)).sha).toBe(sha256(data));
    // A name the certificate does not carry is a failed dial.
    const { client: wrong, log } = await startClient(
      server.port,
      {},
      {
        conns: 1,
        serverTls: serverTls(["--server-ca", certs.caCert, "--server-servername", "wrong.example"]),
      },
      false,
    );
    expect((await log.waitFor("dial_failed")).reason).toMatch(/connect failed/);
    expect(wrong.pool.upCount).toBe(0);
  });

  test("a client certificate from another CA is refused in the handshake: no session", async () => {
    const events: NetEvent[] = [];
    const { server } = mutualTlsServer(events);
    const { client, log } = await startClient(
      server.port,
      {},
      {
        conns: 1,
        serverTls: serverTls([
          "--server-ca",
          certs.caCert,
          "--server-cert",
          certs.otherClientCert,
          "--server-key",
          certs.otherClientKey,
        ]),
      },
      false,
    );
    await refusedByServer(events, log);
    expect(server.sessions.live.size).toBe(0);
    expect(server.table.totals.opened).toBe(0);
    expect(client.table.totals.opened).toBe(0);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "tls_handshake_failed", listener: "tunnel server" }),
    );
  });

  test("a client without a client certificate is refused by a mutual-TLS server", async () => {
    const events: NetEvent[] = [];
    const { server } = mutualTlsServer(events);
    const { client, log } = await startClient(
      server.port,
      {},
      { conns: 1, serverTls: serverTls(["--server-ca", certs.caCert]) },
      false,
    );
    await refusedByServer(events, log);
    expect(server.sessions.live.size).toBe(0);
    expect(client.table.totals.opened).toBe(0);
  });

  test("a client without the server's CA (system store) refuses the server", async () => {
    const { server } = startServer(
      echo().port,
      {},
      { access: access({ tlsCert: certs.serverCert, tlsKey: certs.serverKey }) },
    );
    const { client, log } = await startClient(
      server.port,
      {},
      { conns: 1, serverTls: serverTls([]) },
      false,
    );
    const failed = await log.waitFor("dial_failed");
    expect(failed.reason).toMatch(/connect failed/);
    expect(client.pool.upCount).toBe(0);
    expect(server.sessions.live.size).toBe(0);
  });

  test("a plaintext tunnel client on a TLS session port is refused in the handshake", async () => {
    const events: NetEvent[] = [];
    const { server } = mutualTlsServer(events);
    const { client, log } = await startClient(server.port, {}, { conns: 1 });
    // A smux client says nothing until a stream opens: its SYN frame is not a ClientHello.
    const tcp = await PipeClient.connect(client.port, { keep: false });
    await tcp.write("hello");
    await refusedByServer(events, log);
    expect(server.sessions.live.size).toBe(0);
    expect(server.table.totals.opened).toBe(0);
  });
});

describe("--allow-from on the tunnel client's --listen port", () => {
  test("an outside peer is closed at accept and never opens a stream", async () => {
    const target = echo();
    const { server } = startServer(target.port);
    const events: NetEvent[] = [];
    const { client } = await startClient(
      server.port,
      {},
      { conns: 1, access: access({ allowFrom: ["127.0.0.1/32"] }, events) },
    );
    const outsider = await TlsTestClient.connect({
      port: client.port,
      plain: true,
      localAddress: "127.0.0.2",
    });
    await outsider.write("let me through\n");
    await outsider.closed;
    expect(events).toContainEqual(
      expect.objectContaining({ type: "access_refused", listener: "tunnel client" }),
    );
    expect(client.table.totals.opened).toBe(0);
    expect(server.table.totals.opened).toBe(0);
    const insider = await TlsTestClient.connect({ port: client.port, plain: true });
    onCleanup(() => insider.terminate());
    await insider.write("hi\n");
    await insider.waitForBytes(3);
    expect(insider.text).toBe("hi\n");
  });
});

describe("tunnel command line: access flags", () => {
  const run = (argv: string[]): TunnelConfig => {
    const command = parseTunnelCommandLine(argv);
    if (command.kind !== "run") throw new Error("expected a run command");
    return command.config;
  };

  test("both roles take the listener flags; the client takes the dial flags", () => {
    const server = run([
      "tunnel",
      "server",
      "--to",
      "127.0.0.1:80",
      "--tls-cert",
      "a.crt",
      "--tls-key",
      "a.key",
      "--tls-client-ca",
      "ca.crt",
      "--allow-from",
      "10.0.0.0/8",
      "--handshake-timeout",
      "3s",
    ]);
    expect(server).toMatchObject({
      tlsCert: "a.crt",
      tlsKey: "a.key",
      tlsClientCa: "ca.crt",
      allowFrom: ["10.0.0.0/8"],
      handshakeTimeout: 3,
    });
    const client = run([
      "tunnel",
      "client",
      "--server",
      "tunnel.example:9000",
      "--allow-from",
      "127.0.0.1",
      "--server-tls",
      "--server-ca",
      "ca.crt",
      "--server-servername",
      "tunnel.example",
    ]);
    expect(client).toMatchObject({
      allowFrom: ["127.0.0.1"],
      serverTls: true,
      serverCa: "ca.crt",
      serverServername: "tunnel.example",
    });
    expect(tunnelHelpText("client")).toContain("--server-tls");
    expect(tunnelHelpText("server")).toContain("--tls-client-ca");
    expect(tunnelHelpText("server")).not.toContain("--server-tls");
  });

  test("bad combinations are bad arguments", () => {
    const client = ["tunnel", "client", "--server", "127.0.0.1:9000"];
    expect(() => run([...client, "--server-ca", "ca.crt"])).toThrow(/need --server-tls/);
    expect(() => run([...client, "--server-tls", "--server-cert", "c.crt"])).toThrow(
      /--server-cert needs --server-key/,
    );
    expect(() => run([...client, "--tls-key", "k"])).toThrow(/--tls-key needs --tls-cert/);
    expect(() =>
      run(["tunnel", "server", "--to", "127.0.0.1:80", "--tls-client-ca", "ca.crt"]),
    ).toThrow(/mutual TLS is TLS first/);
    expect(() => run(["tunnel", "server", "--to", "127.0.0.1:80", "--server-tls"])).toThrow();
  });

  test("--server-cert and --server-key that do not match: one line naming both", () => {
    expect(() =>
      serverTls(["--server-cert", certs.clientCert, "--server-key", certs.serverKey]),
    ).toThrow(
      `--server-key ${certs.serverKey} does not match the certificate in --server-cert ${certs.clientCert} (CN=client)`,
    );
    expect(() =>
      serverTls(["--server-cert", certs.clientCert, "--server-key", certs.clientKey]),
    ).not.toThrow();
  });

  test("--server-ca that is not a PEM certificate is a one-line error", () => {
    expect(() => serverTls(["--server-ca", certs.serverKey])).toThrow(/no PEM/);
    expect(() => serverTls(["--server-ca", `${certs.dir}/missing.crt`])).toThrow(/ENOENT/);
  });
});

const portOf = (line: string) => Number(/ on [\d.]+:(\d+) /.exec(line)?.[1]);

test("`main.ts tunnel server/client` over mutual TLS; SIGHUP swaps the certificate, the live connection stays", async () => {
  const target = echo();
  // The server's certificate under a path of its own, replaced before the SIGHUP.
  const cert = join(certs.dir, "tunnel-server.crt");
  const key = join(certs.dir, "tunnel-server.key");
  copyFileSync(certs.serverCert, cert);
  copyFileSync(certs.serverKey, key);
  const server = spawnTunnel([
    "server",
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${target.port}`,
    "--tls-cert",
    cert,
    "--tls-key",
    key,
    "--tls-client-ca",
    certs.caCert,
  ]);
  const serverPort = portOf(await server.out.waitFor((l) => l.includes("LISTEN tunnel-server")));
  const client = spawnTunnel([
    "client",
    "--listen",
    "127.0.0.1:0",
    "--server",
    `127.0.0.1:${serverPort}`,
    "--conns",
    "1",
    "--server-tls",
    "--server-ca",
    certs.caCert,
    "--server-cert",
    certs.clientCert,
    "--server-key",
    certs.clientKey,
  ]);
  const clientPort = portOf(await client.out.waitFor((l) => l.includes("LISTEN tunnel-client")));
  await client.out.waitFor((l) => l.includes("SESSION_UP tunnel-client"));
  const data = patterned(2 * 1024 * 1024, 3);
  expect((await echoThrough(clientPort, data)).sha).toBe(sha256(data));

  const live = await PipeClient.connect(clientPort);
  await live.write("before ");
  await live.waitForBytes(7);
  copyFileSync(certs.server2Cert, cert);
  copyFileSync(certs.server2Key, key);
  server.child.kill("SIGHUP");
  const reload = await server.out.waitFor((l) => l.includes("RELOAD"));
  expect(reload).toContain("CN=reloaded");
  await live.write("after");
  await live.waitForBytes(12);
  expect(live.text()).toBe("before after");
  live.halfClose();
  await live.closed;

  client.child.kill("SIGTERM");
  expect(await client.child.exited).toBe(0);
  server.child.kill("SIGTERM");
  expect(await server.child.exited).toBe(0);
}, 30_000);
