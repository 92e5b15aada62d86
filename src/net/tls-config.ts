/**
 * Loads `--tls-cert`, `--tls-key` and `--tls-client-ca` into the options Bun's TLS takes
 * (Bun.listen / Bun.serve `tls`), checking each file first so that a mistake is one clear
 * line naming the file, not an OpenSSL code from deep inside a listen call:
 *
 * - a file that cannot be read (`cannot read FILE (ENOENT)`),
 * - a file with no PEM certificate / no PEM private key in it,
 * - a key that does not belong to the certificate,
 * - an encrypted key (there is no passphrase option).
 *
 * node:crypto (`X509Certificate`, `createPrivateKey`) does the checking; Bun's TLS does the
 * TLS. Contents are passed as strings, read once here, so a reload (SIGHUP) sees the files as
 * they are then, and a file replaced half-way is caught by these checks.
 *
 * TLS 1.2 is the minimum: Bun's TLS refuses TLS 1.1 and older by default (a TLS 1.1
 * ClientHello gets a protocol_version alert; test/net/tls-listener.test.ts checks it).
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** The files a listener's TLS comes from, as given on the command line. */
export interface TlsFiles {
  /** PEM certificate, optionally followed by its intermediates (the chain clients need). */
  cert: string;
  /** PEM private key of the certificate (not encrypted). */
  key: string;
  /** PEM CA certificate(s): when set, clients must present a certificate signed by one. */
  clientCa?: string | undefined;
}

/** Bun's `tls` options for a listener. */
export interface ListenerTlsOptions {
  cert: string;
  key: string;
  ca?: string;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

/** Loaded, checked TLS material plus what the logs and metrics say about it. */
export interface LoadedTls {
  readonly files: TlsFiles;
  readonly options: ListenerTlsOptions;
  /** Mutual TLS: clients must present a certificate signed by `--tls-client-ca`. */
  readonly mutual: boolean;
  /** The server certificate's subject (`CN=relay.example`), for logs. */
  readonly subject: string;
  /** When the server certificate expires. */
  readonly notAfter: Date;
  /** SHA-256 fingerprint of the server certificate (colon-separated hex). */
  readonly fingerprint: string;
  /** Warnings worth a log line (an expired certificate): loading still succeeds. */
  readonly warnings: readonly string[];
}

/** A configuration file that cannot be used; its message is one line naming the file. */
export class TlsConfigError extends Error {
  override readonly name = "TlsConfigError";
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readText(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw new TlsConfigError(`${flag} ${path}: cannot read the file (${why})`);
  }
}

/** Every PEM certificate in `text`, each checked; throws when there is none or one is bad. */
function certificatesIn(flag: string, path: string, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    const hint = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? " (it holds a private key)" : "";
    throw new TlsConfigError(`${flag} ${path}: no PEM certificate in the file${hint}`);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsConfigError(
        `${flag} ${path}: certificate ${index + 1} is not a valid PEM certificate (${(error as Error).message})`,
      );
    }
  });
}

/**
 * Reads and checks the files; returns Bun's options for them.
 * @throws TlsConfigError with a one-line message naming the file and the problem.
 */
export function loadTls(files: TlsFiles, now: Date = new Date()): LoadedTls {
  const certText = readText("--tls-cert", files.cert);
  const keyText = readText("--tls-key", files.key);
  const [leaf] = certificatesIn("--tls-cert", files.cert, certText);
  const certificate = leaf as X509Certificate;

  checkKeyMatches(
    { flag: "--tls-cert", path: files.cert, certificate },
    { flag: "--tls-key", path: files.key, text: keyText },
  );

  const options: ListenerTlsOptions = { cert: certText, key: keyText };
  if (files.clientCa !== undefined) {
    const caText = readText("--tls-client-ca", files.clientCa);
    certificatesIn("--tls-client-ca", files.clientCa, caText);
    options.ca = caText;
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }

  const warnings: string[] = [];
  const notAfter = certificate.validToDate;
  if (notAfter.getTime() < now.getTime()) {
    warnings.push(
      `--tls-cert ${files.cert}: the certificate expired on ${notAfter.toISOString()}; clients will refuse it`,
    );
  } else if (certificate.validFromDate.getTime() > now.getTime()) {
    warnings.push(
      `--tls-cert ${files.cert}: the certificate is not valid before ${certificate.validFromDate.toISOString()}`,
    );
  }
  return {
    files,
    options,
    mutual: files.clientCa !== undefined,
    subject: certificate.subject.replaceAll("\n", ", "),
    notAfter,
    fingerprint: certificate.fingerprint256,
    warnings,
  };
}

/**
 * A one-line reason for a TLS error thrown by Bun.listen / Bun.serve (OpenSSL codes such as
 * ERR_OSSL_X509_KEY_VALUES_MISMATCH), should one get past loadTls's checks.
 */
export function describeTlsListenError(error: unknown): string | undefined {
  const code = (error as { code?: string }).code ?? "";
  const message = (error as Error).message ?? String(error);
  if (code === "ERR_OSSL_X509_KEY_VALUES_MISMATCH") return "the key does not match the certificate";
  if (code.startsWith("ERR_OSSL_PEM")) return `a TLS file is not valid PEM (${message})`;
  if (code.startsWith("ERR_OSSL") || code === "ERR_BORINGSSL") return `TLS: ${message}`;
  return undefined;
}

/**
 * Checks that the PEM private key `key.text` is usable (not encrypted, parseable) and belongs
 * to `cert.certificate`, the leaf of the file `cert.path`: a listener's --tls-cert/--tls-key,
 * or the tunnel client's --server-cert/--server-key. Checked at start and by --check, so a
 * mismatch is one line naming both files instead of a failing handshake later.
 * @throws TlsConfigError naming the flag, the file and the problem.
 */
export function checkKeyMatches(
  cert: { flag: string; path: string; certificate: X509Certificate },
  keyFile: { flag: string; path: string; text: string },
): void {
  const keyText = keyFile.text;
  const files = { key: keyFile.path, cert: cert.path };
  const certificate = cert.certificate;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
    throw new TlsConfigError(
      `${keyFile.flag} ${files.key}: the private key is encrypted (decrypt it: openssl pkey -in FILE -out FILE.plain)`,
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyText)) {
    const hint = keyText.includes("-----BEGIN CERTIFICATE-----")
      ? ` (it holds a certificate: swapped with ${cert.flag}?)`
      : "";
    throw new TlsConfigError(`${keyFile.flag} ${files.key}: no PEM private key in the file${hint}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyText);
  } catch (error) {
    throw new TlsConfigError(
      `${keyFile.flag} ${files.key}: not a usable PEM private key (${(error as Error).message})`,
    );
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new TlsConfigError(
      `${keyFile.flag} ${files.key} does not match the certificate in ${cert.flag} ${files.cert} (${certificate.subject.replaceAll("\n", ", ")})`,
    );
  }
}

/** The leaf (first) certificate of the PEM file `path`, read and checked; see certificatesIn. */
export function leafCertificate(flag: string, path: string, text: string): X509Certificate {
  return certificatesIn(flag, path, text)[0] as X509Certificate;
}
