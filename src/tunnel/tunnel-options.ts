/**
 * The option table of `tunnel client` and `tunnel server` (docs/tunnel.md): one row per flag,
 * with the roles it belongs to. tunnel-config.ts turns it into each role's parser, environment
 * variables and --help through the one mechanism every mode uses (src/cli/option-table.ts).
 */
import {
  connectionTimeoutRows,
  nonNegativeSeconds,
  positiveSeconds,
  reportingRows,
  showSeconds,
} from "../cli/common-options.ts";
import { type OptionSpec, oneOf } from "../cli/option-table.ts";
import { formatSize, parseCount, parseSize } from "../cli/units.ts";
import { parseListen } from "../forward/forward-config.ts";
import { parseHostPort } from "../forward/targets.ts";
import { dialTlsOptionRows, netOptionRows } from "../net/net-options.ts";
import type { HostPort, TunnelConfig, TunnelRole } from "./tunnel-config.ts";

/** A row of the table: an option without its environment variable, and the roles it is in. */
type TunnelOption = Omit<OptionSpec<TunnelConfig>, "env"> & { roles: readonly TunnelRole[] };

const BOTH: readonly TunnelRole[] = ["client", "server"];
const hostPort = (value: HostPort | undefined) =>
  value === undefined ? "none" : `${value.host}:${value.port}`;

function parseVersion(text: string): 1 | 2 {
  return Number(oneOf(["1", "2"])(text)) as 1 | 2;
}

function parseConns(text: string): number {
  const count = parseCount(text);
  if (count < 1 || count > 1024) throw new Error(`'${text}' must be between 1 and 1024`);
  return count;
}

export const TUNNEL_OPTIONS: readonly TunnelOption[] = [
  {
    key: "listen",
    flag: "listen",
    roles: BOTH,
    kind: "string",
    valueName: "HOST:PORT",
    help: "client: where TCP clients connect; server: where tunnel sessions connect",
    parse: parseListen,
    showDefault: (c) => hostPort(c.listen),
  },
  {
    key: "server",
    flag: "server",
    roles: ["client"],
    kind: "string",
    valueName: "HOST:PORT",
    help: "the tunnel server to carry connections to (required)",
    parse: parseHostPort,
    showDefault: () => "none",
  },
  {
    key: "to",
    flag: "to",
    roles: ["server"],
    kind: "string",
    valueName: "HOST:PORT",
    help: "where every stream is connected to (required)",
    parse: parseHostPort,
    showDefault: () => "none",
  },
  {
    key: "conns",
    flag: "conns",
    roles: ["client"],
    kind: "string",
    valueName: "N",
    help: "smux sessions (TCP connections) in the pool; streams go to the least loaded",
    parse: parseConns,
    showDefault: (c) => String(c.conns),
  },
  {
    key: "smuxVersion",
    flag: "smux-version",
    roles: BOTH,
    kind: "string",
    valueName: "1|2",
    help: "smux protocol version; both sides must agree (2 adds per-stream flow control)",
    parse: parseVersion,
    showDefault: (c) => String(c.smuxVersion),
  },
  {
    key: "keepalive",
    flag: "keepalive",
    roles: BOTH,
    kind: "string",
    valueName: "SECS",
    help: "send a NOP frame this often (0: no keepalive and no keepalive timeout)",
    parse: nonNegativeSeconds,
    showDefault: (c) => showSeconds(c.keepalive),
  },
  {
    key: "keepaliveTimeout",
    flag: "keepalive-timeout",
    roles: BOTH,
    kind: "string",
    valueName: "SECS",
    help: "close a session that sent no frame for this long",
    parse: positiveSeconds,
    showDefault: (c) => showSeconds(c.keepaliveTimeout),
  },
  {
    key: "maxFrame",
    flag: "max-frame",
    roles: BOTH,
    kind: "string",
    valueName: "SIZE",
    help: "largest data frame body sent (at most 65535)",
    parse: parseSize,
    showDefault: (c) => String(c.maxFrame),
  },
  {
    key: "maxReceiveBuffer",
    flag: "max-receive-buffer",
    roles: BOTH,
    kind: "string",
    valueName: "SIZE",
    help: "unread bytes a session holds before it stops reading its connection",
    parse: parseSize,
    showDefault: (c) => formatSize(c.maxReceiveBuffer),
  },
  {
    key: "maxStreamBuffer",
    flag: "max-stream-buffer",
    roles: BOTH,
    kind: "string",
    valueName: "SIZE",
    help: "v2: the per-stream window announced to the peer",
    parse: parseSize,
    showDefault: (c) => formatSize(c.maxStreamBuffer),
  },
  {
    key: "connectTimeout",
    flag: "connect-timeout",
    roles: BOTH,
    kind: "string",
    valueName: "SECS",
    help: "client: a dial to the server, and a client waiting for a session; server: a dial to --to",
    parse: positiveSeconds,
    showDefault: (c) => showSeconds(c.connectTimeout),
  },
  ...connectionTimeoutRows<TunnelConfig>().map((spec): TunnelOption => ({ ...spec, roles: BOTH })),
  {
    key: "maxConns",
    flag: "max-conns",
    roles: BOTH,
    kind: "string",
    valueName: "N",
    help: "client: refuse TCP clients, server: refuse streams, beyond this many open (0: no limit)",
    parse: parseCount,
    showDefault: (c) => String(c.maxConns),
  },
  ...netOptionRows<TunnelConfig>("", "the --listen port").map(
    ({ env: _env, ...spec }): TunnelOption => ({ ...spec, roles: BOTH }),
  ),
  ...dialTlsOptionRows<TunnelConfig>({
    prefix: "server",
    peers: "the tunnel server",
    certificates: "the tunnel server's certificate",
    certificate: "the tunnel server's certificate",
    defaultName: "the --server host",
    clientCertFor: "a tunnel server",
  }).map((spec): TunnelOption => ({ ...spec, roles: ["client"] })),
  ...reportingRows<TunnelConfig>().map((spec): TunnelOption => ({ ...spec, roles: BOTH })),
];

/** `TUNNEL_SMUX_VERSION`: one prefix for both roles, then the flag. */
export function tunnelEnvName(spec: { flag: string }): string {
  return `TUNNEL_${spec.flag.toUpperCase().replaceAll("-", "_")}`;
}
