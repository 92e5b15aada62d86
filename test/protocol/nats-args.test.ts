import { describe, expect, test } from "bun:test";
import {
  Fields,
  fieldText,
  isJsonObject,
  parseSize,
  readPubArgs,
  readSubArgs,
  splitFields,
} from "../../src/protocol/nats-args.ts";
import { bytes } from "../support/harness.ts";

/** What readPubArgs read: subject, reply ("" for none), header size, size. */
function pubArgs(arg: string, headers: boolean): [string, string, number, number] | string {
  const line = bytes(arg);
  const fields = new Fields();
  const problem = readPubArgs(line, 0, line.length, headers, fields);
  if (problem !== undefined) return problem;
  const reply = fields.reply > 0 ? fieldText(line, fields, fields.reply) : "";
  return [fieldText(line, fields, 0), reply, fields.headerSize, fields.size];
}

describe("readPubArgs: nats-server parser_test.go TestParsePubArg, as cases", () => {
  const cases: [string, string, string, number][] = [
    ["a 2", "a", "", 2],
    ["a 222", "a", "", 222],
    ["foo 22", "foo", "", 22],
    [" foo 22", "foo", "", 22],
    ["foo 22 ", "foo", "", 22],
    ["foo   22", "foo", "", 22],
    [" foo   22 ", "foo", "", 22],
    ["foo bar 22", "foo", "bar", 22],
    ["  foo   bar  22  ", "foo", "bar", 22],
    ["  foo   bar  2222  ", "foo", "bar", 2222],
    ["  foo     2222  ", "foo", "", 2222],
    ["a\t2", "a", "", 2],
    ["\tfoo\t22\t", "foo", "", 22],
    ["foo\t\t\t22", "foo", "", 22],
    ["foo\tbar\t22", "foo", "bar", 22],
    ["\t \tfoo\t \t \tbar\t \t22\t \t", "foo", "bar", 22],
    ["\t\tfoo\t\t\tbar\t\t2222\t\t", "foo", "bar", 2222],
    ["\t \tfoo\t \t \t\t\t2222\t \t", "foo", "", 2222],
  ];
  for (const [arg, subject, reply, size] of cases) {
    test(JSON.stringify(arg), () => {
      expect(pubArgs(arg, false)).toEqual([subject, reply, -1, size]);
    });
  }
});

describe("readPubArgs: TestParseHeaderPubArg, as cases", () => {
  const cases: [string, string, string, number, number][] = [
    ["a 2 4", "a", "", 2, 4],
    ["foo 0   22 ", "foo", "", 0, 22],
    [" foo   3 22 ", "foo", "", 3, 22],
    ["foo bar 11 22 ", "foo", "bar", 11, 22],
    ["  foo   bar  22   2222  ", "foo", "bar", 22, 2222],
    ["foo\t2 22", "foo", "", 2, 22],
    ["\tfoo\t11\t \t 22\t", "foo", "", 11, 22],
    ["foo\tbar\t11\t\t22\t ", "foo", "bar", 11, 22],
    ["\t \tfoo\t \t \t\t\t11\t\t 2222\t \t", "foo", "", 11, 2222],
  ];
  for (const [arg, subject, reply, headerSize, size] of cases) {
    test(JSON.stringify(arg), () => {
      expect(pubArgs(arg, true)).toEqual([subject, reply, headerSize, size]);
    });
  }
});

test("readPubArgs refuses what processPub and processHeaderPub refuse, saying why", () => {
  expect(pubArgs("foo", false)).toBe('PUB arguments "foo" need 2 or 3 fields');
  expect(pubArgs("foo 2222222222222222", false)).toBe(
    'PUB arguments "foo 2222222222222222": a size is not 1 to 9 digits',
  );
  expect(pubArgs("a b c d e", false)).toBe('PUB arguments "a b c d e" need 2 or 3 fields');
  expect(pubArgs("foo 3 2", true)).toBe('HPUB arguments "foo 3 2": hdr_len above total_len');
  expect(pubArgs("foo x 2", true)).toBe('HPUB arguments "foo x 2": a size is not 1 to 9 digits');
  // CR and LF are field bytes for PUB (processPub splits on space and tab only).
  expect(pubArgs("fo\ro 1", false)).toEqual(["fo\ro", "", -1, 1]);
});

test("readSubArgs: SUB and UNSUB split on CR and LF too (splitArg)", () => {
  const line = bytes("foo\rq\n7");
  const fields = new Fields();
  expect(readSubArgs(line, 0, line.length, false, fields)).toBeUndefined();
  expect([0, 1, 2].map((i) => fieldText(line, fields, i))).toEqual(["foo", "q", "7"]);
  const unsub = bytes("7 3");
  expect(readSubArgs(unsub, 0, unsub.length, true, fields)).toBeUndefined();
  expect(fields.size).toBe(3);
  const noMax = bytes("7 x");
  expect(readSubArgs(noMax, 0, noMax.length, true, fields)).toBeUndefined();
  expect(fields.size).toBe(-1);
  const tooMany = bytes("1 2 3");
  expect(readSubArgs(tooMany, 0, tooMany.length, true, fields)).toBe(
    'UNSUB arguments "1 2 3" need 1 or 2 fields',
  );
});

test("parseSize takes 1 to 9 digits and nothing else (util.go parseSize)", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["7", 7],
    ["999999999", 999_999_999],
    ["1000000000", -1],
    ["", -1],
    ["-1", -1],
    ["1a", -1],
    [" 1", -1],
  ];
  for (const [text, value] of cases) {
    const field = bytes(text);
    expect([text, parseSize(field, 0, field.length)]).toEqual([text, value]);
  }
});

test("splitFields counts past four as five and keeps the first four", () => {
  const line = bytes("a b c d e f");
  const fields = new Fields();
  expect(splitFields(line, 0, line.length, false, fields)).toBe(5);
  expect(fields.count).toBe(5);
  expect(fieldText(line, fields, 3)).toBe("d");
});

test("isJsonObject accepts what Go's json.Unmarshal into a struct accepts, near enough", () => {
  const cases: [string, boolean][] = [
    ['{"a":1}', true],
    [" {} ", true],
    ["null", true],
    ["[]", false],
    ['"x"', false],
    ["\r", false],
    ["{", false],
  ];
  for (const [text, ok] of cases) {
    const arg = bytes(text);
    expect([text, isJsonObject(arg, 0, arg.length)]).toEqual([text, ok]);
  }
});
