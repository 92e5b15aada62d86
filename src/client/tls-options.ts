/**
 * The client's `tls` option (docs/client.md, "TLS"): its own type rather than Bun's
 * `TLSOptions`, so that the published declarations need neither `bun` nor `@types/node`, and
 * the same fields work on Bun and on Node (issue 23).
 */

/** PEM text: a string, its bytes, or a file-like object read with `text()` (`Bun.file(path)`, a Blob). */
export type PemSource = string | Uint8Array | { text(): Promise<string> };

/** TLS to a relay started with `--tls-cert`; every field is optional. */
export interface ClientTlsOptions {
  /** The CA(s) that signed the relay's certificate; they replace the runtime's default CAs. */
  ca?: PemSource | PemSource[];
  /** The client's certificate, for a relay with `--tls-client-ca` (mutual TLS). */
  cert?: PemSource;
  /** The client's private key, with `cert`. */
  key?: PemSource;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /** The name the relay's certificate must carry, and the SNI. Default: `host`. */
  serverName?: string;
  /** `false` accepts any certificate (encryption without authentication): experiments only. Default true. */
  rejectUnauthorized?: boolean;
}

/** ClientTlsOptions with every PEM read to text, as both runtimes' TLS take it. */
export interface ResolvedTls {
  ca?: string[];
  cert?: string;
  key?: string;
  passphrase?: string;
  serverName?: string;
  rejectUnauthorized?: boolean;
}

/**
 * Reads the PEM sources of `tls` (files are read on every dial, so a renewed certificate is
 * picked up by the next reconnect). Rejects with the file's read error.
 */
export async function readTls(tls: ClientTlsOptions): Promise<ResolvedTls> {
  const resolved: ResolvedTls = {};
  if (tls.ca !== undefined) {
    resolved.ca = await Promise.all((Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map(pemText));
  }
  if (tls.cert !== undefined) resolved.cert = await pemText(tls.cert);
  if (tls.key !== undefined) resolved.key = await pemText(tls.key);
  if (tls.passphrase !== undefined) resolved.passphrase = tls.passphrase;
  if (tls.serverName !== undefined) resolved.serverName = tls.serverName;
  if (tls.rejectUnauthorized !== undefined) resolved.rejectUnauthorized = tls.rejectUnauthorized;
  return resolved;
}

async function pemText(source: PemSource): Promise<string> {
  if (typeof source === "string") return source;
  if (source instanceof Uint8Array) return new TextDecoder().decode(source);
  return await source.text();
}
