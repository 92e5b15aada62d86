/**
 * A throwaway certificate for the TLS benches (bench:forward --tls, bench/tls-saturation.ts):
 * a CA and a server certificate for localhost / 127.0.0.1, EC P-256 keys, made with openssl in
 * a fresh temporary directory for each run and removed after it. Never committed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchCert {
  dir: string;
  /** Paths: the server certificate, its key, both in one file (haproxy's `crt`), the CA. */
  cert: string;
  key: string;
  pem: string;
  ca: string;
  /** The CA certificate's text, for a client's `tls.ca`. */
  caText: string;
  remove(): void;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes the CA and the server certificate (a fraction of a second with EC keys). */
export async function makeBenchCert(): Promise<BenchCert> {
  const dir = mkdtempSync(join(tmpdir(), "tls-bench-"));
  const run = (args: string[]) => {
    const result = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${result.stderr.toString()}`);
  };
  run(
    ["req", "-x509", ...EC, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2"].concat([
      "-subj",
      "/CN=bench CA",
    ]),
  );
  run(["req", ...EC, "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=localhost"]);
  await Bun.write(join(dir, "ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run(
    ["x509", "-req", "-in", "s.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"].concat(
      ["-out", "s.crt", "-days", "2", "-extfile", "ext"],
    ),
  );
  const cert = join(dir, "s.crt");
  const key = join(dir, "s.key");
  const pem = join(dir, "s.pem");
  await Bun.write(pem, (await Bun.file(cert).text()) + (await Bun.file(key).text()));
  const ca = join(dir, "ca.crt");
  return {
    dir,
    cert,
    key,
    pem,
    ca,
    caText: await Bun.file(ca).text(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
