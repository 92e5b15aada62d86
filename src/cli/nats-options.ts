/**
 * The relay's option rows for the NATS port and subjects (issue 20): the port, the subjects
 * line and frame clients publish to and receive, and the NATS limits and credentials with
 * nats-server's names and defaults (server/const.go). Part of the relay's one option table
 * (config.ts), which drives parsing, environment variables and --help.
 */
import type { RelayConfig } from "./config.ts";
import { nonNegative, type OptionSpec, positive } from "./option-table.ts";
import { formatSize, parseCount, parsePortOrOff, parseSeconds, parseSize } from "./units.ts";

export const NATS_OPTION_ROWS: readonly OptionSpec<RelayConfig>[] = [
  {
    key: "natsPort",
    flag: "nats-port",
    env: "RELAY_NATS_PORT",
    kind: "string",
    valueName: "PORT",
    help: "serve the NATS client protocol on this port (docs/nats.md; 4222 is NATS's own) | off",
    parse: parsePortOrOff,
    showDefault: (c) => (c.natsPort === undefined ? "off" : String(c.natsPort)),
  },
  {
    key: "subject",
    flag: "subject",
    env: "RELAY_SUBJECT",
    kind: "string",
    valueName: "SUBJECT",
    help: "the subject line and frame publishers publish to (a literal NATS subject)",
    showDefault: (c) => c.subject,
  },
  {
    key: "subSubject",
    flag: "sub-subject",
    env: "RELAY_SUB_SUBJECT",
    kind: "string",
    valueName: "PATTERN",
    help: "what line and frame subscribers receive (NATS wildcards * and > allowed)",
    showDefault: () => "--subject",
  },
  {
    key: "maxPayload",
    flag: "max-payload",
    env: "RELAY_MAX_PAYLOAD",
    kind: "string",
    valueName: "SIZE",
    help: "NATS: largest PUB (headers and payload), announced in INFO; larger closes the client",
    parse: positive(parseSize),
    showDefault: (c) => formatSize(c.maxPayload),
  },
  {
    key: "maxControlLine",
    flag: "max-control-line",
    env: "RELAY_MAX_CONTROL_LINE",
    kind: "string",
    valueName: "SIZE",
    help: "NATS: longest operation line (its arguments); longer closes the client",
    parse: positive(parseSize),
    showDefault: (c) => formatSize(c.maxControlLine),
  },
  {
    key: "pingInterval",
    flag: "ping-interval",
    env: "RELAY_PING_INTERVAL",
    kind: "string",
    valueName: "SECS",
    help: "NATS: how often the relay PINGs each client (0: never)",
    parse: nonNegative(parseSeconds),
    showDefault: (c) => String(c.pingInterval),
  },
  {
    key: "maxPingsOut",
    flag: "max-pings-out",
    env: "RELAY_MAX_PINGS_OUT",
    kind: "string",
    valueName: "N",
    help: "NATS: unanswered PINGs before 'Stale Connection' and a close",
    parse: positive(parseCount),
    showDefault: (c) => String(c.maxPingsOut),
  },
  {
    key: "authTimeout",
    flag: "auth-timeout",
    env: "RELAY_AUTH_TIMEOUT",
    kind: "string",
    valueName: "SECS",
    help: "NATS: time a client has to CONNECT with credentials when --token or --user is set",
    parse: positive(parseSeconds),
    showDefault: (c) => String(c.authTimeout),
  },
  {
    key: "maxSubscriptions",
    flag: "max-subscriptions",
    env: "RELAY_MAX_SUBSCRIPTIONS",
    kind: "string",
    valueName: "N",
    help: "NATS: most subscriptions per client (0: no limit)",
    parse: nonNegative(parseCount),
    showDefault: (c) => String(c.maxSubscriptions),
  },
  {
    key: "user",
    flag: "user",
    env: "RELAY_USER",
    kind: "string",
    valueName: "USER",
    help: "NATS: the user a client must CONNECT with (with --pass)",
    showDefault: () => "none",
  },
  {
    key: "pass",
    flag: "pass",
    env: "RELAY_PASS",
    kind: "string",
    valueName: "PASS",
    help: "NATS: its password, plain or a bcrypt hash ($2a$11$...)",
    showDefault: () => "none",
  },
];
