/**
 * The proxy's own options (`--allow`, `--allow-any`, `--auth`, `--max-head`,
 * `--head-timeout`): rows that the forwarding modes' table (src/forward/forward-config.ts)
 * gives to `proxy` only, beside the listener and reporting rows both modes share.
 */
import { positiveSeconds, showSeconds } from "../cli/common-options.ts";
import type { OptionSpec } from "../cli/option-table.ts";
import { formatSize, parseSize } from "../cli/units.ts";
import { type AllowPattern, parseAllowPattern, parseCredentials } from "./proxy-policy.ts";

/** The config fields the rows set. */
export interface ProxyOptions {
  /** CONNECT targets allowed; empty with allowAny (or on loopback): every target. */
  allow: AllowPattern[];
  allowAny: boolean;
  /** `USER:PASS` for Proxy-Authorization: Basic; undefined: none asked. */
  auth: string | undefined;
  /** Bytes of the largest request head accepted. */
  maxHead: number;
  /** Seconds allowed for the whole request head. */
  headTimeout: number;
}

export const DEFAULT_PROXY_OPTIONS: Readonly<ProxyOptions> = {
  allow: [],
  allowAny: false,
  auth: undefined,
  maxHead: 8 * 1024,
  headTimeout: 10,
};

/** The rows, without environment variables (the table names them `PROXY_…`). */
export const PROXY_OPTION_ROWS: readonly Omit<OptionSpec<ProxyOptions>, "env">[] = [
  {
    key: "allow",
    flag: "allow",
    kind: "string",
    multiple: true,
    valueName: "HOST:PORT",
    help: "CONNECT targets allowed (*, *.domain, port ranges); repeat for several",
    parse: parseAllowPattern,
    showDefault: () => "none",
  },
  {
    key: "allowAny",
    flag: "allow-any",
    kind: "boolean",
    help: "allow every target, even when listening beyond loopback",
    showDefault: (c) => String(c.allowAny),
  },
  {
    key: "auth",
    flag: "auth",
    secret: true,
    kind: "string",
    valueName: "USER:PASS",
    help: "require Proxy-Authorization: Basic with these credentials",
    parse: parseCredentials,
    showDefault: () => "none",
  },
  {
    key: "maxHead",
    flag: "max-head",
    kind: "string",
    valueName: "SIZE",
    help: "largest CONNECT request head accepted (400 beyond)",
    parse: parseSize,
    showDefault: (c) => formatSize(c.maxHead),
  },
  {
    key: "headTimeout",
    flag: "head-timeout",
    kind: "string",
    valueName: "SECS",
    help: "time allowed for the whole request head (408 beyond)",
    parse: positiveSeconds,
    showDefault: (c) => showSeconds(c.headTimeout),
  },
];
