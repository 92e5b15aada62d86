/**
 * The relay's option rows for joining other relays through NATS (issue 15, docs/cluster.md):
 * the servers, the subject the nodes share, this node's id. Part of the relay's one option
 * table (config.ts), which drives parsing, environment variables and --help.
 */
import { parseNatsUrl } from "../cluster/servers.ts";
import { parseNodeId } from "../cluster/wire.ts";
import type { RelayConfig } from "./config.ts";
import type { OptionSpec } from "./option-table.ts";

export const CLUSTER_OPTION_ROWS: readonly OptionSpec<RelayConfig>[] = [
  {
    key: "cluster",
    flag: "cluster",
    secret: true,
    env: "RELAY_CLUSTER",
    kind: "string",
    multiple: true,
    valueName: "URL",
    help:
      "join other relays through this NATS server: nats://host:port, nats://user:pass@host:port, " +
      "nats://token@host:port, tls://host:port (TLS, system CAs); repeat for a NATS cluster's " +
      "seeds (env: comma-separated). Messages published to any node reach every node's " +
      "subscribers, at most once (docs/cluster.md)",
    parse: clusterUrl,
    showDefault: () => "off",
  },
  {
    key: "clusterSubject",
    flag: "cluster-subject",
    env: "RELAY_CLUSTER_SUBJECT",
    kind: "string",
    valueName: "NAME",
    help: "the NATS subject the nodes of one relay share; relays on one NATS with other subjects do not mix",
    parse: natsSubject,
    showDefault: () => "bun-relay.PUB_PORT.SUB_PORT",
  },
  {
    key: "nodeId",
    flag: "node-id",
    env: "RELAY_NODE_ID",
    kind: "string",
    valueName: "HEX16",
    help: "this node's id on the backplane (16 hex digits), logged at start",
    parse: (text) => {
      parseNodeId(text);
      return text.toLowerCase();
    },
    showDefault: () => "random",
  },
];

/** --cluster: a NATS URL (checked here; parsed again by the backplane). */
function clusterUrl(text: string): string {
  parseNatsUrl(text);
  return text;
}

/** --cluster-subject: a NATS subject one can publish to (no wildcard, space or empty token). */
function natsSubject(text: string): string {
  if (!/^[^\s*>.]+(\.[^\s*>.]+)*$/.test(text)) {
    throw new Error(
      `'${text}' is not a NATS subject to publish to (tokens separated by dots; no spaces, * or >)`,
    );
  }
  return text;
}
