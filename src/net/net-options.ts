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
