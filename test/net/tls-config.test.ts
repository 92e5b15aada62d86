import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadTls } from "../../src/net/tls-config.ts";
import { makeTestCerts, type TestCerts } from "./certs.ts";

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

function file(name: string, text: string): string {
  const path = join(certs.dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadTls", () => {
  test("a certificate and its key: Bun's options, subject, expiry, fingerprint", () => {
    const tls = loadTls({ cert: certs.serverCert, key: certs.serverKey });
    expect(tls.options.cert).toBe(certs.read(certs.serverCert));
    expect(tls.options.key).toBe(certs.read(certs.serverKey));
    expect(tls.options.requestCert).toBeUndefined();
    expect(tls.mutual).toBe(false);
    expect(tls.subject).toBe("CN=localhost");
    expect(tls.notAfter.getTime()).toBeGreaterThan(Date.now() + 29 * 86400_000);
    expect(tls.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(tls.warnings).toEqual([]);
  });

  test("--tls-client-ca: mutual TLS (requestCert, rejectUnauthorized, ca)", () => {
    const tls = loadTls({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.caCert });
    expect(tls.mutual).toBe(true);
    expect(tls.options).toMatchObject({
      ca: certs.read(certs.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    });
  });

  test("a chain file (certificate then CA) is taken; the first certificate is the server's", () => {
    const chain = file("chain.crt", certs.read(certs.serverCert) + certs.read(certs.caCert));
    expect(loadTls({ cert: chain, key: certs.serverKey }).subject).toBe("CN=localhost");
  });

  test("an expired certificate loads, with a warning", () => {
    const tls = loadTls({ cert: certs.expiredClientCert, key: certs.expiredClientKey });
    expect(tls.warnings).toEqual([
      `--tls-cert ${certs.expiredClientCert}: the certificate expired on 2020-01-02T00:00:00.000Z; clients will refuse it`,
    ]);
  });

  test.each([
    [
      "a missing certificate file",
      () => ({ cert: "/nonexistent/cert.pem", key: certs.serverKey }),
      "--tls-cert /nonexistent/cert.pem: cannot read the file (ENOENT)",
    ],
    [
      "a missing key file",
      () => ({ cert: certs.serverCert, key: "/nonexistent/key.pem" }),
      "--tls-key /nonexistent/key.pem: cannot read the file (ENOENT)",
    ],
    [
      "a certificate file that is not PEM",
      () => ({ cert: file("junk.crt", "hello\n"), key: certs.serverKey }),
      "junk.crt: no PEM certificate in the file",
    ],
    [
      "a key where the certificate should be",
      () => ({ cert: certs.serverKey, key: certs.serverKey }),
      "no PEM certificate in the file (it holds a private key)",
    ],
    [
      "a certificate where the key should be",
      () => ({ cert: certs.serverCert, key: certs.serverCert }),
      "no PEM private key in the file (it holds a certificate: swapped with --tls-cert?)",
    ],
    [
      "a damaged certificate",
      () => ({
        cert: file("damaged.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        key: certs.serverKey,
      }),
      "certificate 1 is not a valid PEM certificate",
    ],
    [
      "a key that belongs to another certificate",
      () => ({ cert: certs.serverCert, key: certs.clientKey }),
      `does not match the certificate in --tls-cert`,
    ],
    [
      "an encrypted key",
      () => ({
        cert: certs.serverCert,
        key: file(
          "encrypted.key",
          "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ),
      }),
      "the private key is encrypted",
    ],
    [
      "a client CA file with no certificate",
      () => ({
        cert: certs.serverCert,
        key: certs.serverKey,
        clientCa: file("empty-ca.pem", ""),
      }),
      "--tls-client-ca",
    ],
  ])("refuses %s with one line", (_name, files, message) => {
    let thrown: Error | undefined;
    try {
      loadTls(files());
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown?.name).toBe("TlsConfigError");
    expect(thrown?.message).toContain(message);
    expect(thrown?.message).not.toContain("\n");
  });

  test("the mismatch message names both files", () => {
    expect(() => loadTls({ cert: certs.serverCert, key: certs.clientKey })).toThrow(
      `--tls-key ${certs.clientKey} does not match the certificate in --tls-cert ${certs.serverCert} (CN=localhost)`,
    );
  });
});
