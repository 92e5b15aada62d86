/**
 * Test certificates, made with openssl in a temporary directory at the start of a test file
 * (never committed): a CA, a server certificate for localhost / 127.0.0.1 / ::1, a second
 * server certificate (for reloads), client certificates from the CA (one with email and DNS
 * subjectAltNames), from another CA, and an
 * expired one (`openssl ca -startdate/-enddate`, in the past: no faketime needed). EC P-256
 * keys, so the whole set takes a fraction of a second.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCerts {
  dir: string;
  /** Paths. */
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** A second server certificate (CN=reloaded) from the same CA. */
  server2Cert: string;
  server2Key: string;
  /** CN=client, no subjectAltName. */
  clientCert: string;
  clientKey: string;
  /** From the CA: subject O=Acme, CN=san client; SAN DNS:carol.example, email:dave@example.com. */
  sanClientCert: string;
  sanClientKey: string;
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  expiredClientCert: string;
  expiredClientKey: string;
  /** Contents. */
  read(path: string): string;
  remove(): void;
}

function run(args: string[], cwd: string): void {
  const result = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr.toString()}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function keyAndCsr(cwd: string, name: string, subject: string): void {
  run(["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], cwd);
}

function sign(cwd: string, name: string, ca: string, ext?: string): void {
  const extArgs = ext ? ["-extfile", ext] : [];
  run(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.crt`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "30",
      ...extArgs,
    ],
    cwd,
  );
}

function selfSignedCa(cwd: string, name: string, subject: string): void {
  run(
    ["req", "-x509", ...EC, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "30"].concat([
      "-subj",
      subject,
    ]),
    cwd,
  );
}

/** Makes the whole set in a new temporary directory. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "bun-relay-tls-"));
  selfSignedCa(dir, "ca", "/CN=bun-relay test CA");
  selfSignedCa(dir, "other-ca", "/CN=another CA");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n");
  keyAndCsr(dir, "server", "/CN=localhost");
  sign(dir, "server", "ca", "server.ext");
  keyAndCsr(dir, "server2", "/CN=reloaded");
  sign(dir, "server2", "ca", "server.ext");
  keyAndCsr(dir, "client", "/CN=client");
  sign(dir, "client", "ca");
  writeFileSync(
    join(dir, "san-client.ext"),
    "subjectAltName=DNS:carol.example,email:dave@example.com\n",
  );
  keyAndCsr(dir, "san-client", "/O=Acme/CN=san client");
  sign(dir, "san-client", "ca", "san-client.ext");
  keyAndCsr(dir, "other-client", "/CN=other client");
  sign(dir, "other-client", "other-ca");

  // Expired: `openssl ca` takes explicit start and end dates (openssl x509 cannot go back).
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(
    join(dir, "ca.cnf"),
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      "database = index.txt",
      "serial = serial",
      "new_certs_dir = .",
      "default_md = sha256",
      "policy = any",
      "[any]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  keyAndCsr(dir, "expired", "/CN=expired client");
  run(
    ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-notext"]
      .concat(["-in", "expired.csr", "-out", "expired.crt"])
      .concat(["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"]),
    dir,
  );

  const path = (name: string) => join(dir, name);
  return {
    dir,
    caCert: path("ca.crt"),
    caKey: path("ca.key"),
    serverCert: path("server.crt"),
    serverKey: path("server.key"),
    server2Cert: path("server2.crt"),
    server2Key: path("server2.key"),
    clientCert: path("client.crt"),
    clientKey: path("client.key"),
    sanClientCert: path("san-client.crt"),
    sanClientKey: path("san-client.key"),
    otherCaCert: path("other-ca.crt"),
    otherClientCert: path("other-client.crt"),
    otherClientKey: path("other-client.key"),
    expiredClientCert: path("expired.crt"),
    expiredClientKey: path("expired.key"),
    read: (file: string) => readFileSync(file, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
