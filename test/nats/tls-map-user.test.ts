/**
 * --tls-map-user over real mutual TLS (issue 21): nats.js presents a client certificate made
 * by openssl (test/net/certs.ts) and sends no user or password; the relay admits it as the
 * user of --users-file that the certificate names (email SAN, DNS SAN, subject, CN, in that
 * order) with that user's permissions, and refuses a certificate that names no user with
 * 'Authorization Violation' (nats.js: AuthorizationError).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, errors, type NatsConnection } from "@nats-io/transport-node";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";
import { relayPerTest } from "../support/harness.ts";
import { Inbox } from "./nats-js-suite.ts";
import { usersToml } from "./relay-target.ts";
import type { TestUser } from "./target.ts";

setDefaultTimeout(15_000);
const start = relayPerTest();
let certs: TestCerts;
let dir: string;
beforeAll(() => {
  certs = makeTestCerts();
  dir = mkdtempSync(join(tmpdir(), "relay-tls-map-"));
});
afterAll(() => {
  certs.remove();
  rmSync(dir, { recursive: true, force: true });
});

const only = (subject: string) => ({
  publish: { allow: [subject] },
  subscribe: { allow: [subject] },
});

/** A relay with mutual TLS, --tls-map-user and these users; its NATS port. */
function mappingRelay(users: TestUser[]): number {
  const usersFile = join(dir, `users-${users.map((u) => u.user).join("-")}.toml`);
  writeFileSync(usersFile, usersToml(users));
  const r = start({
    natsPort: 0,
    pubPort: undefined,
    subPort: undefined,
    tlsCert: certs.serverCert,
    tlsKey: certs.serverKey,
    tlsClientCa: certs.caCert,
    usersFile,
    tlsMapUser: true,
  });
  return r.relay.natsPort as number;
}

/** nats.js over TLS with the certificate `cert`/`key`, and no user or password. */
function connectWith(port: number, cert: string, key: string): Promise<NatsConnection> {
  return connect({
    port,
    maxReconnectAttempts: 0,
    tls: {
      handshakeFirst: true,
      ca: certs.read(certs.caCert),
      cert: certs.read(cert),
      key: certs.read(key),
    },
  });
}

/** Publishes to `allowed` (must arrive) and to `denied` (must be a publish violation). */
async function actsWithin(nc: NatsConnection, allowed: string, denied: string): Promise<void> {
  const inbox = new Inbox(nc, allowed);
  await nc.flush();
  const violation = (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error") return status.error;
    }
  })();
  nc.publish(denied, "no");
  nc.publish(allowed, "yes");
  expect(await inbox.texts(1)).toEqual(["yes"]);
  const error = await violation;
  expect(error).toBeInstanceOf(errors.PermissionViolationError);
  expect((error as InstanceType<typeof errors.PermissionViolationError>).subject).toBe(denied);
}

describe("--tls-map-user", () => {
  /** With `users`, the certificate `which` acts as the user that may use `allowed`, not `denied`. */
  const mapsTo = async (
    users: TestUser[],
    which: "client" | "sanClient",
    allowed: string,
    denied: string,
  ) => {
    const port = mappingRelay(users);
    const nc = await connectWith(port, certs[`${which}Cert`], certs[`${which}Key`]);
    try {
      await actsWithin(nc, allowed, denied);
    } finally {
      await nc.close();
    }
  };
  const bySubject: TestUser = {
    user: "CN=san client,O=Acme",
    pass: "x",
    permissions: only("by.subject"),
  };
  const byDns: TestUser = { user: "carol.example", pass: "x", permissions: only("by.dns") };

  test("a certificate's CN names the user: admitted without a password, with that user's rights", async () => {
    const user = { user: "client", pass: "unused-password", permissions: only("client.only") };
    await mapsTo([user], "client", "client.only", "elsewhere");
  });

  test("an email SAN is tried before a DNS SAN, and a DNS SAN before the subject", async () => {
    const byEmail = { user: "dave@example.com", pass: "x", permissions: only("by.email") };
    await mapsTo([bySubject, byDns, byEmail], "sanClient", "by.email", "by.dns");
  });

  test("the DNS SAN maps when no email SAN names a user", async () => {
    await mapsTo([bySubject, byDns], "sanClient", "by.dns", "by.subject");
  });

  test("the subject as an RFC 2253 string maps when no SAN names a user, before the CN", async () => {
    const byCn = { user: "san client", pass: "x", permissions: only("by.cn") };
    await mapsTo([bySubject, byCn], "sanClient", "by.subject", "by.cn");
  });

  test("a verified certificate that names no user: AuthorizationError", async () => {
    const port = mappingRelay([{ user: "alice", pass: "alicepw" }]);
    const failure = await connectWith(port, certs.clientCert, certs.clientKey).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(errors.AuthorizationError);
  });
});
