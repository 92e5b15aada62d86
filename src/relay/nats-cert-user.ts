/**
 * `--tls-map-user`: the user a client certificate names, as nats-server 2.9 maps one under
 * `tls { verify_and_map: true }` (server/auth.go processClientOrLeafAuthentication and
 * checkClientTLSCertSubject). The candidates are tried in nats-server's order, and the first
 * that is a user of --users-file wins:
 *
 * 1. each email address of the subjectAltName (`email:alice@example.com`),
 * 2. each DNS name of the subjectAltName (`DNS:alice.example`),
 * 3. each URI of the subjectAltName,
 * 4. the whole subject as an RFC 2253 string, most specific first (`CN=alice,O=Acme`: what Go's
 *    pkix RDNSequence.String() gives; values are not re-escaped, so a subject with `,` or `+`
 *    inside a value will not match),
 * 5. the subject's CN alone (`alice`): not in nats-server, which would need the user to be
 *    named `CN=alice`; it lets one users file serve password and certificate clients.
 *
 * The certificate is the one the TLS handshake verified against --tls-client-ca (the listener
 * refuses any other), read with Bun's `socket.getPeerCertificate()`.
 */
import { X509Certificate } from "node:crypto";

/** What the mapping reads of Bun's `getPeerCertificate()` (Node's PeerCertificate shape). */
export interface PeerCertificateFields {
  /** `DNS:a.example, email:b@example.com, URI:spiffe://x` (absent without the extension). */
  readonly subjectaltname?: string | undefined;
  /** The DER bytes of the certificate. */
  readonly raw?: Uint8Array | undefined;
}

const SAN_KINDS = ["email", "DNS", "URI"] as const;

/** The user names `certificate` may stand for, in the order they are tried (see the module). */
export function certificateNames(certificate: PeerCertificateFields | undefined): string[] {
  if (certificate === undefined || certificate.raw === undefined) return [];
  const entries = (certificate.subjectaltname ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const names: string[] = [];
  for (const kind of SAN_KINDS) {
    for (const entry of entries) {
      if (entry.startsWith(`${kind}:`)) names.push(entry.slice(kind.length + 1));
    }
  }
  // X509Certificate.subject lists the attributes in certificate order, one per line.
  const subject = new X509Certificate(certificate.raw).subject
    .split("\n")
    .filter((line) => line.length > 0);
  if (subject.length > 0) names.push(subject.toReversed().join(","));
  const commonName = subject.findLast((line) => line.startsWith("CN="));
  if (commonName !== undefined) names.push(commonName.slice(3));
  return names;
}
