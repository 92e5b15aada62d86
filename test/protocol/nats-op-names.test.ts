import { expect, test } from "bun:test";
import {
  CONNECT,
  ERR,
  HPUB,
  INFO,
  OK,
  OP_NAMES,
  opAfterP,
  opStartedBy,
  P_OPERATIONS,
  PING,
  PONG,
  PUB,
  SUB,
  UNSUB,
} from "../../src/protocol/nats-op-names.ts";

test("exactly the first bytes of client operations start a name, in either case", () => {
  const started: Record<string, string> = {};
  for (let b = 0; b < 256; b++) {
    const op = opStartedBy(b);
    if (op !== -1)
      started[String.fromCharCode(b)] = op === P_OPERATIONS ? "P*" : (OP_NAMES[op] as string);
  }
  expect(started).toEqual({
    "+": "+OK",
    "-": "-ERR",
    C: "CONNECT",
    H: "HPUB",
    I: "INFO",
    P: "P*",
    S: "SUB",
    U: "UNSUB",
    c: "CONNECT",
    h: "HPUB",
    i: "INFO",
    p: "P*",
    s: "SUB",
    u: "UNSUB",
  });
});

test("after P, exactly U, I and O (either case) pick PUB, PING and PONG", () => {
  const picked: Record<string, number> = {};
  for (let b = 0; b < 256; b++) {
    const op = opAfterP(b);
    if (op !== -1) picked[String.fromCharCode(b)] = op;
  }
  expect(picked).toEqual({ I: PING, O: PONG, U: PUB, i: PING, o: PONG, u: PUB });
});

test("the operation indices name the operations", () => {
  const ops = [PUB, HPUB, SUB, UNSUB, CONNECT, INFO, PING, PONG, OK, ERR];
  expect(ops.map((op) => OP_NAMES[op])).toEqual([
    "PUB",
    "HPUB",
    "SUB",
    "UNSUB",
    "CONNECT",
    "INFO",
    "PING",
    "PONG",
    "+OK",
    "-ERR",
  ]);
});
