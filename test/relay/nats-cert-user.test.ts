/**
 * certificateNames (--tls-map-user): the names a certificate may stand for, in nats-server's
 * order (server/auth.go checkClientTLSCertSubject), read from real openssl certificates.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { certificateNames } from "../../src/relay/nats-cert-user.ts";
import { makeTestCerts, type TestCerts } from "../net/certs.ts";

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.remove());

/** The fields Bun's getPeerCertificate() gives, taken from the PEM file. */
function peer(path: string): { subjectaltname: string | undefined; raw: Uint8Array } {
  const cert = new X509Certificate(certs.read(path));
  return { subjectaltname: cert.subjectAltName, raw: new Uint8Array(cert.raw) };
}

describe("certificateNames", () => {
  test("email SANs, then DNS SANs, then the RFC 2253 subject, then the CN", () => {
    expect(certificateNames(peer(certs.sanClientCert))).toEqual([
      "dave@example.com",
      "carol.example",
      "CN=san client,O=Acme",
      "san client",
    ]);
  });

  test("without a subjectAltName: the subject and the CN", () => {
    expect(certificateNames(peer(certs.clientCert))).toEqual(["CN=client", "client"]);
  });

  test("no certificate (or none with its bytes) names nobody", () => {
    expect(certificateNames(undefined)).toEqual([]);
    expect(certificateNames({ subjectaltname: "DNS:x" })).toEqual([]);
  });
});
