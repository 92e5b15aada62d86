/**
 * The operation names a NATS client may send, as nats-server 2.9.10 reads them from a CLIENT
 * connection (server/parser.go, OP_START and the OP_* states after it): PUB, HPUB, SUB, UNSUB,
 * CONNECT, INFO, PING, PONG, +OK, -ERR, each letter in either case. Server-to-server names
 * (MSG, HMSG, RS+, RS-, LS+, LS-, A+, A-) are not among them: from a client, parser.go refuses
 * their first byte (`goto parseErr`); HMSG it refuses once its line is in (Unknown Protocol
 * Operation, checked against nats-server 2.9.10), this port at its M.
 */

// Operations: indices into OP_NAMES, OP_WORDS and AFTER_NAME.
export const PUB = 0;
export const HPUB = 1;
export const SUB = 2;
export const UNSUB = 3;
export const CONNECT = 4;
export const INFO = 5;
export const PING = 6;
export const PONG = 7;
export const OK = 8;
export const ERR = 9;

/** Each operation's name as nats-server's docs write it. */
export const OP_NAMES: readonly string[] = [
  ...["PUB", "HPUB", "SUB", "UNSUB", "CONNECT", "INFO", "PING", "PONG", "+OK", "-ERR"],
];

/**
 * Each name in lower case, to match with `(byte | 0x20) === letter`: setting bit 0x20 maps
 * exactly the two cases of a letter onto the lower one, so this matches letters in either
 * case and nothing else. (+ and - are only ever first bytes, compared as they are.)
 */
export const OP_WORDS: readonly Uint8Array[] = OP_NAMES.map((name) =>
  new TextEncoder().encode(name.toLowerCase()),
);

/** After the name: a space or tab must follow, then the arguments (parser.go OP_PUB etc.). */
export const BLANK_THEN_ARGS = 0;
/** After the name: the arguments, blanks before them optional (OP_CONNECT, OP_INFO). */
export const ARGS = 1;
/** After the name: anything up to the LF is ignored (OP_PING, OP_PONG, OP_PLUS_OK). */
export const TO_LF = 2;

/** What follows each operation's name. */
export const AFTER_NAME: readonly number[] = [
  ...[BLANK_THEN_ARGS, BLANK_THEN_ARGS, BLANK_THEN_ARGS, BLANK_THEN_ARGS, ARGS, ARGS],
  ...[TO_LF, TO_LF, TO_LF, BLANK_THEN_ARGS],
];

/** What opStartedBy returns for P, whose second byte decides: PUB, PING or PONG. */
export const P_OPERATIONS = -2;

/**
 * The operation whose name starts with byte `b`, P_OPERATIONS for P, or -1 when none does
 * (parser.go OP_START: Unknown Protocol Operation).
 */
export function opStartedBy(b: number): number {
  switch (b | 0x20) {
    case 0x70: // p
      return P_OPERATIONS;
    case 0x68: // h
      return HPUB;
    case 0x73: // s
      return SUB;
    case 0x75: // u
      return UNSUB;
    case 0x63: // c
      return CONNECT;
    case 0x69: // i
      return INFO;
  }
  return b === 0x2b ? OK : b === 0x2d ? ERR : -1;
}

/** The operation whose name starts with P then byte `b` (parser.go OP_P), or -1. */
export function opAfterP(b: number): number {
  switch (b | 0x20) {
    case 0x75: // u
      return PUB;
    case 0x69: // i
      return PING;
    case 0x6f: // o
      return PONG;
  }
  return -1;
}
