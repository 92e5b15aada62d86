/**
 * The relay's option rows for its limits and the slow-consumer policy: the longest line, the
 * bytes one subscriber may have queued and what happens past them (--slow-consumer and its
 * --stall-timeout), the write timeout and the connection limit. Part of the relay's one
 * option table (config.ts), which drives parsing, environment variables and --help; the
 * policies themselves are described in src/relay/offer-policy.ts and docs.
 */
import { SLOW_CONSUMER_POLICIES } from "../relay/options.ts";
import type { RelayConfig } from "./config.ts";
import { nonNegative, type OptionSpec, oneOf, positive } from "./option-table.ts";
import { formatSize, parseCount, parseSeconds, parseSize } from "./units.ts";

export const LIMIT_OPTION_ROWS: readonly OptionSpec<RelayConfig>[] = [
  {
    key: "maxLine",
    flag: "max-line",
    env: "RELAY_MAX_LINE",
    kind: "string",
    valueName: "SIZE",
    help: "longest message a publisher may send; past it the publisher is disconnected",
    parse: positive(parseSize),
    showDefault: (c) => formatSize(c.maxLine),
  },
  {
    key: "maxPending",
    flag: "max-pending",
    env: "RELAY_MAX_PENDING",
    kind: "string",
    valueName: "SIZE",
    help: "bytes queued for one subscriber before it is a slow consumer",
    parse: positive(parseSize),
    showDefault: (c) => formatSize(c.maxPending),
  },
  {
    key: "slowConsumer",
    flag: "slow-consumer",
    env: "RELAY_SLOW_CONSUMER",
    kind: "string",
    valueName: "POLICY",
    help:
      "what to do when a subscriber falls behind: stall (hold all publishers while a " +
      "backlog is over 3/4 of --max-pending, at most 1 MiB, until it is under a third of " +
      "that, but for at most --stall-timeout per episode; a subscriber still behind then " +
      "is cut at --max-pending) | disconnect (cut it as soon as its backlog would pass " +
      "--max-pending) | drop (drop whole messages for it while over --max-pending) | " +
      "block (like stall with no time limit: lossless, one stuck subscriber holds everyone)",
    parse: oneOf(SLOW_CONSUMER_POLICIES),
    showDefault: (c) => c.slowConsumer,
  },
  {
    key: "stallTimeout",
    flag: "stall-timeout",
    env: "RELAY_STALL_TIMEOUT",
    kind: "string",
    valueName: "SECS",
    help:
      "policy stall: how long one subscriber may hold publishers in one episode before " +
      "they resume without it",
    parse: positive(parseSeconds),
    showDefault: (c) => String(c.stallTimeout),
  },
  {
    key: "writeTimeout",
    flag: "write-timeout",
    env: "RELAY_WRITE_TIMEOUT",
    kind: "string",
    valueName: "SECS",
    help: "disconnect a subscriber that takes no bytes for this long while data waits (0: never)",
    parse: nonNegative(parseSeconds),
    showDefault: (c) => String(c.writeTimeout),
  },
  {
    key: "maxConns",
    flag: "max-conns",
    env: "RELAY_MAX_CONNS",
    kind: "string",
    valueName: "N",
    help: "most connections at once (publishers + subscribers + NATS clients); more are closed at once (0: no limit)",
    parse: nonNegative(parseCount),
    showDefault: (c) => String(c.maxConns),
  },
];
