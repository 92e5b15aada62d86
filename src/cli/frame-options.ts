/**
 * The relay's option rows for seed 003's framed protocol (issue 12): the wire format of each
 * port, the ack codes, the frame size limit and the token. Part of the relay's one option
 * table (config.ts), which drives parsing, environment variables and --help; and, checked
 * after parsing, what ties them together (resolveFrameOptions).
 */
import { readFileSync } from "node:fs";
import { isBcryptHash } from "../relay/nats-auth.ts";
import { FRAME_CODE_SETS, FRAMINGS } from "../relay/options.ts";
import type { RelayConfig } from "./config.ts";
import { badArgument, type OptionSpec, oneOf } from "./option-table.ts";
import { formatSize, parseSize } from "./units.ts";

export const FRAME_OPTION_ROWS: readonly OptionSpec<RelayConfig>[] = [
  {
    key: "framing",
    flag: "framing",
    env: "RELAY_FRAMING",
    kind: "string",
    valueName: "FORMAT",
    help:
      "wire format of both ports: line (newline-terminated messages) | frame (seed 003 " +
      "length-prefixed frames; publishers get a SubmitAck per message)",
    parse: oneOf(FRAMINGS),
    showDefault: (c) => c.framing,
  },
  {
    key: "pubFraming",
    flag: "pub-framing",
    env: "RELAY_PUB_FRAMING",
    kind: "string",
    valueName: "FORMAT",
    help: "wire format of the publisher port, overriding --framing",
    parse: oneOf(FRAMINGS),
    showDefault: () => "--framing",
  },
  {
    key: "subFraming",
    flag: "sub-framing",
    env: "RELAY_SUB_FRAMING",
    kind: "string",
    valueName: "FORMAT",
    help: "wire format of the subscriber port, overriding --framing",
    parse: oneOf(FRAMINGS),
    showDefault: () => "--framing",
  },
  {
    key: "frameCodes",
    flag: "frame-codes",
    env: "RELAY_FRAME_CODES",
    kind: "string",
    valueName: "SET",
    help:
      "ack command codes on frame ports: spec (seed 003's table: ConnAck 0x81, SubmitAck " +
      "0x82) | article (its Go code: 0x80, 0x81, for the article's own client)",
    parse: oneOf(FRAME_CODE_SETS),
    showDefault: (c) => c.frameCodes,
  },
  {
    key: "maxFrame",
    flag: "max-frame",
    env: "RELAY_MAX_FRAME",
    kind: "string",
    valueName: "SIZE",
    help: "largest frame a frame client may send, length field included; past it the connection is closed",
    parse: frameSize,
    showDefault: (c) => formatSize(c.maxFrame),
  },
  {
    key: "token",
    flag: "token",
    secret: true,
    env: "RELAY_TOKEN",
    kind: "string",
    valueName: "TOKEN",
    help:
      "frame clients must first send Conn(ID, TOKEN), NATS clients auth_token in CONNECT " +
      "(constant-time check, or bcrypt for a $2a$/$2b$/$2x$/$2y$ hash; a wrong one is closed); every open " +
      "publisher/subscriber port must be frame. Prefer --token-file: a flag shows in ps",
    showDefault: () => "none",
  },
  {
    key: "tokenFile",
    flag: "token-file",
    env: "RELAY_TOKEN_FILE",
    kind: "string",
    valueName: "FILE",
    help: "read --token from FILE (its first line)",
    showDefault: () => "none",
  },
];

/** --max-frame: a size from 14 B (an ack) to 4 GiB - 1 (what a u32 length can say). */
function frameSize(text: string): number {
  const value = parseSize(text);
  if (!(value >= 14 && value <= 0xffff_ffff)) {
    throw new Error(`'${text}' must be from 14 B to 4 GiB - 1 B`);
  }
  return value;
}

/**
 * The options that depend on others: each port's framing defaults to --framing; the token
 * may come from a file; a token needs every open line/frame port to be frame (NATS clients
 * send it in CONNECT), since a line client cannot present one (a line port beside it would be
 * open to anyone). Throws a RelayError (RELAY_ERR_BAD_ARGUMENT) naming the flags.
 */
export function resolveFrameOptions(
  config: RelayConfig,
  given: ReadonlySet<keyof RelayConfig>,
): void {
  if (!given.has("pubFraming")) config.pubFraming = config.framing;
  if (!given.has("subFraming")) config.subFraming = config.framing;
  if (config.tokenFile !== undefined) {
    if (config.token !== undefined) throw badArgument("--token and --token-file are both given");
    let text: string;
    try {
      text = readFileSync(config.tokenFile, "utf8");
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error as Error).message;
      throw badArgument(`--token-file: cannot read ${config.tokenFile} (${why})`);
    }
    config.token = text.split("\n", 1)[0]?.replace(/\r$/, "") ?? "";
  }
  if (config.token === undefined) return;
  if (config.token.length === 0) throw badArgument("--token: the token is empty");
  const linePorts = [
    config.pubPort !== undefined && config.pubFraming === "line" ? "--pub-port" : undefined,
    config.subPort !== undefined && config.subFraming === "line" ? "--sub-port" : undefined,
  ].filter((flag) => flag !== undefined);
  if (linePorts.length > 0) {
    throw badArgument(
      `--token needs ${linePorts.join(" and ")} to be frame or off (a line client cannot present a token)`,
    );
  }
  // A frame client's Conn carries the token itself, compared as given: only NATS clients can
  // be checked against a bcrypt hash.
  if (
    isBcryptHash(config.token) &&
    (config.pubPort !== undefined || config.subPort !== undefined)
  ) {
    throw badArgument(
      "--token is a bcrypt hash, which only NATS clients can be checked against: set --pub-port and --sub-port off, or give frame clients the token itself",
    );
  }
}
