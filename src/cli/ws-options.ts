/**
 * The relay's option rows for NATS over WebSocket (issue 22): the port and its browser-facing
 * rules, with nats-server's `websocket {}` names (port, allowed_origins, same_origin,
 * compression). TLS, --allow-from and --handshake-timeout are the common listener flags.
 * Part of the relay's one option table (config.ts).
 */
import { parseAllowedOrigin } from "../relay/ws-origin.ts";
import type { RelayConfig } from "./config.ts";
import { type OptionSpec, parseBoolean } from "./option-table.ts";
import { parsePortOrOff } from "./units.ts";

export const WS_OPTION_ROWS: readonly OptionSpec<RelayConfig>[] = [
  {
    key: "wsPort",
    flag: "ws-port",
    env: "RELAY_WS_PORT",
    kind: "string",
    valueName: "PORT",
    help: "serve the NATS client protocol over WebSocket on this port, any path (docs/nats.md) | off",
    parse: parsePortOrOff,
    showDefault: (c) => (c.wsPort === undefined ? "off" : String(c.wsPort)),
  },
  {
    key: "wsAllowedOrigins",
    flag: "ws-allowed-origins",
    env: "RELAY_WS_ALLOWED_ORIGINS",
    kind: "string",
    valueName: "LIST",
    help: "WebSocket: comma-separated origins (scheme://host[:port]) a browser page may connect from; others get 403",
    parse: (text) => {
      const entries = text.split(",").filter((entry) => entry.trim() !== "");
      if (entries.length === 0) {
        // An empty list would read as "any origin": say so rather than open the port.
        throw new Error(
          "the list is empty: name origins (scheme://host[:port], comma-separated), or leave the flag out to allow any",
        );
      }
      return entries.map((entry) => parseAllowedOrigin(entry));
    },
    showDefault: () => "any",
  },
  {
    key: "wsSameOrigin",
    flag: "ws-same-origin",
    env: "RELAY_WS_SAME_ORIGIN",
    kind: "boolean",
    help: "WebSocket: a browser page's origin must be the relay's own host and port; others get 403",
    parse: parseBoolean,
    showDefault: (c) => String(c.wsSameOrigin),
  },
  {
    key: "wsCompression",
    flag: "ws-compression",
    env: "RELAY_WS_COMPRESSION",
    kind: "boolean",
    help: "WebSocket: permessage-deflate with clients that offer it (costs much CPU per message)",
    parse: parseBoolean,
    showDefault: (c) => String(c.wsCompression),
  },
];
