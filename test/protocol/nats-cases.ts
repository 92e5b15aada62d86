/**
 * The NATS client streams the parser tests feed, shared with the conformance test that sends
 * the same bytes to a real nats-server 2.9: streams it must accept (with the calls they make)
 * and streams it must refuse (with the -ERR nats-server sends, or none, and the byte where it
 * decides).
 */
import { NATS_ERR, NatsErrorCode } from "../../src/protocol/nats-errors.ts";
import { errorEvent, pubEvent } from "./nats-recorder.ts";

/** Streams a client may send, and the calls each must produce, however it is cut. */
export const STREAMS: { name: string; input: string; events: string[] }[] = [
  {
    name: "a session: CONNECT, SUB, PUB, PING, UNSUB",
    input:
      'CONNECT {"verbose":false,"headers":true}\r\nSUB foo 1\r\nPUB foo 5\r\nhello\r\n' +
      "PING\r\nPONG\r\nUNSUB 1\r\n",
    events: [
      'CONNECT "{\\"verbose\\":false,\\"headers\\":true}"',
      "SUB foo - 1",
      pubEvent("foo", undefined, -1, "hello"),
      "PING",
      "PONG",
      "UNSUB 1 -",
    ],
  },
  {
    name: "PUB with a reply, queue SUB, UNSUB with max",
    input: "SUB foo.* workers 22\r\nPUB foo.bar INBOX.22 11\r\nhello world\r\nUNSUB 22 5\r\n",
    events: [
      "SUB foo.* workers 22",
      pubEvent("foo.bar", "INBOX.22", -1, "hello world"),
      "UNSUB 22 5",
    ],
  },
  {
    name: "HPUB with and without reply, and 0 header bytes",
    input:
      "HPUB foo 12 17\r\nname:derek\r\nHELLO\r\nHPUB foo INBOX.22 12 17\r\nname:derek\r\nHELLO\r\n" +
      "HPUB foo INBOX.22 0 5\r\nHELLO\r\n",
    events: [
      pubEvent("foo", undefined, 12, "name:derek\r\nHELLO"),
      pubEvent("foo", "INBOX.22", 12, "name:derek\r\nHELLO"),
      pubEvent("foo", "INBOX.22", 0, "HELLO"),
    ],
  },
  {
    name: "zero-length payloads, and payloads holding CRLF and op names",
    input: "PUB a 0\r\n\r\nPUB b 9\r\nPUB x 1\r\n\r\nPUB c 0\r\n\r\n",
    events: [
      pubEvent("a", undefined, -1, ""),
      pubEvent("b", undefined, -1, "PUB x 1\r\n"),
      pubEvent("c", undefined, -1, ""),
    ],
  },
  {
    name: "operation names in any case",
    input: "pub foo 2\r\nok\r\nPuB bar 1\r\nx\r\nsub foo 1\r\nunsub 1\r\nping\r\nPiNg\r\npong\r\n",
    events: [
      pubEvent("foo", undefined, -1, "ok"),
      pubEvent("bar", undefined, -1, "x"),
      "SUB foo - 1",
      "UNSUB 1 -",
      "PING",
      "PING",
      "PONG",
    ],
  },
  {
    name: "tabs and runs of blanks between fields, LF-only line ends",
    input: "PUB\tfoo\t\t3\r\nabc\r\nSUB \t foo \t q \t 9 \t\r\nUNSUB\t9\t3\nPUB  a  b  1 \nz\r\n",
    events: [
      pubEvent("foo", undefined, -1, "abc"),
      "SUB foo q 9",
      "UNSUB 9 3",
      pubEvent("a", "b", -1, "z"),
    ],
  },
  {
    name: "PING, PONG and +OK ignore what follows their name (parser.go OP_PING)",
    input: "PING  \r  \nPONG extra\r\n+OK\r\nPINGPONG\r\n",
    events: ["PING", "PONG", "PING"],
  },
  {
    name: "CONNECT and INFO need no blank; INFO with a JSON object is ignored",
    input: 'CONNECT{}\r\nINFO {"server_id":"x"}\r\nINFO null\r\nCONNECT\t \t{"a":1}\r\n',
    events: ['CONNECT "{}"', 'CONNECT "{\\"a\\":1}"'],
  },
  {
    name: "UNSUB max that is 0 or not a size removes at once",
    input: "UNSUB 1 0\r\nUNSUB 2 abc\r\nUNSUB 3 1234567890\r\nUNSUB 4 999999999\r\n",
    events: ["UNSUB 1 -", "UNSUB 2 -", "UNSUB 3 -", "UNSUB 4 999999999"],
  },
  {
    name: "binary payload bytes, UTF-8 subject",
    input: "PUB caf\u00e9 3\r\n\u0000\u00ff\r\n",
    events: [pubEvent("caf\u00e9", undefined, -1, "\u0000\u00c3\u00bf")],
  },
];

export const UNKNOWN = errorEvent({
  code: NatsErrorCode.UnknownOperation,
  err: NATS_ERR.unknownOperation,
});
export const CONTROL_LINE = errorEvent({
  code: NatsErrorCode.MaxControlLine,
  err: NATS_ERR.maxControlLine,
});
export const MAX_PAYLOAD = errorEvent({ code: NatsErrorCode.MaxPayload, err: NATS_ERR.maxPayload });
export const AUTH = errorEvent({
  code: NatsErrorCode.AuthorizationViolation,
  err: NATS_ERR.authorizationViolation,
});
export const silent = (code: NatsErrorCode) => errorEvent({ code, err: undefined });

/**
 * nats-server server/parser_test.go TestShouldFail, ported as cases: each stream must fail,
 * with the -ERR nats-server sends (or none) and at the byte where it decides. "MSG" and the
 * other route operations are in the Go table for a ROUTER; from a client they fail at once.
 */
export const SHOULD_FAIL: [input: string, event: string, at: number | "LF"][] = [
  ["xxx", UNKNOWN, 0],
  ["Px", UNKNOWN, 1],
  ["PIx", UNKNOWN, 2],
  ["PINx", UNKNOWN, 3],
  [" PING", UNKNOWN, 0],
  ["POx", UNKNOWN, 2],
  ["PONx", UNKNOWN, 3],
  ["+x", UNKNOWN, 1],
  ["+Ox", UNKNOWN, 2],
  ["-x", UNKNOWN, 1],
  ["-Ex", UNKNOWN, 2],
  ["-ERx", UNKNOWN, 3],
  ["-ERRx", UNKNOWN, 4],
  ["Cx", UNKNOWN, 1],
  ["COx", UNKNOWN, 2],
  ["CONx", UNKNOWN, 3],
  ["CONNx", UNKNOWN, 4],
  ["CONNEx", UNKNOWN, 5],
  ["CONNECx", UNKNOWN, 6],
  ["PUx", UNKNOWN, 2],
  ["PUB foo\r\n", silent(NatsErrorCode.BadPubArgs), "LF"],
  ["PUB  \r\n", silent(NatsErrorCode.BadPubArgs), "LF"],
  ["PUB foo bar       \r\n", silent(NatsErrorCode.BadPubArgs), "LF"],
  ["PUB foo 2\r\nok \r\n", UNKNOWN, 13],
  ["PUB foo 2\r\nok\r \n", UNKNOWN, 14],
  ["Sx", UNKNOWN, 1],
  ["SUx", UNKNOWN, 2],
  ["SUB\r\n", UNKNOWN, 3],
  ["SUB  \r\n", silent(NatsErrorCode.BadSubArgs), "LF"],
  ["SUB foo\r\n", silent(NatsErrorCode.BadSubArgs), "LF"],
  ["SUB foo bar baz 22\r\n", silent(NatsErrorCode.BadSubArgs), "LF"],
  ["Ux", UNKNOWN, 1],
  ["UNx", UNKNOWN, 2],
  ["UNSx", UNKNOWN, 3],
  ["UNSUx", UNKNOWN, 4],
  ["UNSUBx", UNKNOWN, 5],
  ["UNSUBUNSUB 1\r\n", UNKNOWN, 5],
  ["UNSUB_2\r\n", UNKNOWN, 5],
  ["UNSUB_UNSUB_UNSUB 2\r\n", UNKNOWN, 5],
  ["UNSUB_\t2\r\n", UNKNOWN, 5],
  ["UNSUB\r\n", UNKNOWN, 5],
  ["UNSUB \r\n", silent(NatsErrorCode.BadUnsubArgs), "LF"],
  ["UNSUB          \t       \r\n", silent(NatsErrorCode.BadUnsubArgs), "LF"],
  ["Ix", UNKNOWN, 1],
  ["INx", UNKNOWN, 2],
  ["INFx", UNKNOWN, 3],
  ["INFO  \r\n", silent(NatsErrorCode.BadInfo), "LF"],
  ["Mx", UNKNOWN, 0],
  ["MSG  \r\n", UNKNOWN, 0],
  ["HMSG foo 1 2 3\r\n", UNKNOWN, 1],
  ["RS+ foo 1\r\n", UNKNOWN, 0],
  ["LS+ foo 1\r\n", UNKNOWN, 0],
  ["A+ foo\r\n", UNKNOWN, 0],
  // test/proto_test.go TestProtoErr, TestPubToArgState, TestSubToArgState; an empty line.
  ["ZZZ", UNKNOWN, 0],
  ["PUBS foo 2\r\nok\r\n", UNKNOWN, 3],
  ["SUBZZZ foo 1\r\n", UNKNOWN, 3],
  ["\r\n", UNKNOWN, 0],
  // More argument rules of processPub/processHeaderPub (client.go), and a client's -ERR.
  ["PUB foo bar baz 2\r\n", silent(NatsErrorCode.BadPubArgs), "LF"],
  ["PUB foo 1234567890\r\n", silent(NatsErrorCode.BadPubArgs), "LF"],
  ["PUB foo -1\r\n", silent(NatsErrorCode.BadPubArgs), "LF"],
  ["HPUB foo 5\r\n", silent(NatsErrorCode.BadHpubArgs), "LF"],
  ["HPUB foo r 2 22 33\r\n", silent(NatsErrorCode.BadHpubArgs), "LF"],
  ["HPUB foo 6 5\r\n", silent(NatsErrorCode.BadHpubArgs), "LF"],
  ["HPUB foo x 5\r\n", silent(NatsErrorCode.BadHpubArgs), "LF"],
  ["-ERR 'Too Long'\r\n", silent(NatsErrorCode.ClientErr), "LF"],
];
