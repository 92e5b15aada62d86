/**
 * The access flags (TLS, mutual TLS, --allow-from, handshake timeout) as rows for a mode's
 * option table (src/cli/option-table.ts): every mode with listeners adds the same rows with
 * its own environment prefix, so the flags, their parsing and their help are the same
 * everywhere.
 */
import { nonNegative, type OptionSpec } from "../cli/option-table.ts";
import { parseSeconds } from "../cli/units.ts";
import type { NetOptions } from "./access.ts";
import { parseCidr } from "./cidr.ts";

/**
 * The rows, for a config type that includes NetOptions. `envPrefix` is the mode's
 * (`RELAY_`, `FORWARD_`); `listeners` names what they apply to in the help
 * ("both ports", "the --listen port").
 */
export function netOptionRows<C extends NetOptions>(
  envPrefix: string,
  listeners: string,
): OptionSpec<C>[] {
  const rows: OptionSpec<NetOptions>[] = [
    {
      key: "tlsCert",
      flag: "tls-cert",
      env: `${envPrefix}TLS_CERT`,
      kind: "string",
      valueName: "FILE",
      help: `PEM certificate (then its intermediates): TLS 1.2 or later on ${listeners}; needs --tls-key. Reloaded on SIGHUP`,
      showDefault: () => "none: plaintext",
    },
    {
      key: "tlsKey",
      flag: "tls-key",
      env: `${envPrefix}TLS_KEY`,
      kind: "string",
      valueName: "FILE",
      help: "PEM private key of --tls-cert (not encrypted). Reloaded on SIGHUP",
      showDefault: () => "none",
    },
    {
      key: "tlsClientCa",
      flag: "tls-client-ca",
      env: `${envPrefix}TLS_CLIENT_CA`,
      kind: "string",
      valueName: "FILE",
      help: "mutual TLS: clients must present a certificate signed by a CA in FILE (PEM); others fail the handshake. Reloaded on SIGHUP",
      showDefault: () => "none",
    },
    {
      key: "allowFrom",
      flag: "allow-from",
      env: `${envPrefix}ALLOW_FROM`,
      kind: "string",
      multiple: true,
      valueName: "CIDR",
      help: "only peers in this range may connect (IPv4 or IPv6, e.g. 10.0.0.0/8, ::1; repeatable; env: comma-separated); others are closed at accept",
      parse: (text) => parseCidr(text).text,
      showDefault: () => "everyone",
    },
    {
      key: "allowFromFile",
      flag: "allow-from-file",
      env: `${envPrefix}ALLOW_FROM_FILE`,
      kind: "string",
      valueName: "FILE",
      help: "more --allow-from ranges, one per line (# comments); read again on SIGHUP",
      showDefault: () => "none",
    },
    {
      key: "handshakeTimeout",
      flag: "handshake-timeout",
      env: `${envPrefix}HANDSHAKE_TIMEOUT`,
      kind: "string",
      valueName: "SECS",
      help: "close a TLS client that has not finished its handshake after this long (0: never)",
      parse: nonNegative(parseSeconds),
      showDefault: (c) => String(c.handshakeTimeout),
    },
  ];
  return rows as unknown as OptionSpec<C>[];
}

/** The dialing side's TLS settings behind dialTlsOptionRows, for one flag prefix. */
export interface DialTlsRowsOf {
  /** `to` (forward: --to-tls, --to-ca, …) or `server` (tunnel client: --server-tls, …). */
  prefix: "to" | "server";
  /** Who is dialed, for the help: "the targets", "the tunnel server". */
  peers: string;
  /** Whose certificate is checked: "the targets' certificates", "the tunnel server's certificate". */
  certificates: string;
  /** One peer's certificate, for --P-servername: "the target's certificate". */
  certificate: string;
  /** What SNI defaults to: "the target's host", "the --server host". */
  defaultName: string;
  /** With a client certificate (--P-cert, --P-key): for whom, in the help. */
  clientCertFor?: string;
}

/**
 * TLS origination flags for a mode that dials out (issue 14): `--P-tls`, `--P-ca FILE`,
 * `--P-servername NAME`, and with `clientCertFor` also `--P-cert FILE` and `--P-key FILE`,
 * as rows of its option table without environment variables (the mode adds its own). The
 * keys are `${prefix}Tls`, `${prefix}Ca`, `${prefix}Servername`, `${prefix}Cert`,
 * `${prefix}Key`, which the mode's config type must have.
 */
export function dialTlsOptionRows<C>(of: DialTlsRowsOf): Omit<OptionSpec<C>, "env">[] {
  const p = of.prefix;
  const rows: Omit<OptionSpec<Record<string, unknown>>, "env">[] = [
    {
      key: `${p}Tls`,
      flag: `${p}-tls`,
      kind: "boolean",
      help: `connect to ${of.peers} with TLS, verified against the system store or --${p}-ca`,
      showDefault: (c) => String(c[`${p}Tls`]),
    },
    {
      key: `${p}Ca`,
      flag: `${p}-ca`,
      kind: "string",
      valueName: "FILE",
      help: `--${p}-tls: PEM CA certificate(s) ${of.certificates} must chain to`,
      showDefault: () => "the system store",
    },
    {
      key: `${p}Servername`,
      flag: `${p}-servername`,
      kind: "string",
      valueName: "NAME",
      help: `--${p}-tls: SNI and the name ${of.certificate} must carry`,
      showDefault: () => of.defaultName,
    },
  ];
  if (of.clientCertFor !== undefined) {
    rows.push(
      {
        key: `${p}Cert`,
        flag: `${p}-cert`,
        kind: "string",
        valueName: "FILE",
        help: `--${p}-tls: PEM client certificate for ${of.clientCertFor} with --tls-client-ca; needs --${p}-key`,
        showDefault: () => "none",
      },
      {
        key: `${p}Key`,
        flag: `${p}-key`,
        kind: "string",
        valueName: "FILE",
        help: `--${p}-tls: PEM private key of --${p}-cert (not encrypted)`,
        showDefault: () => "none",
      },
    );
  }
  return rows as unknown as Omit<OptionSpec<C>, "env">[];
}
