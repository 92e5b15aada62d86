/**
 * Subject rules (src/relay/subjects.ts), with nats-server 2.9.10's own cases from
 * server/sublist_test.go (named after each Go test) and test/pedantic_test.go.
 */
import { describe, expect, test } from "bun:test";
import {
  hasValidStructure,
  isLiteral,
  isSubsetMatch,
  isValidLiteralSubject,
  isValidPublishSubject,
  isValidSubject,
  matches,
} from "../../src/relay/subjects.ts";
import { seededRandom } from "../support/harness.ts";

/** Runs `check` on every [input, expected] pair and reports all that differ at once. */
function expectAll(check: (subject: string) => boolean, cases: [string, boolean][]) {
  const got = cases.map(([subject]) => [subject, check(subject)]);
  expect(got).toEqual(cases);
}

/**
 * Valid and literal: the wildcard characters are not whole tokens. The shared tail of
 * TestSublistValidLiteralSubjects and TestSublistValidSubjects.
 */
const PLAIN_WILDCARD_CHARACTERS: [string, boolean][] = [
  "foo*",
  "foo**",
  "foo.**",
  "foo*bar",
  "foo.*bar",
  "foo*.bar",
  "*bar",
  "foo>",
  "foo>>",
  "foo.>>",
  "foo>bar",
  "foo.>bar",
  "foo>.bar",
  ">bar",
].map((subject) => [subject, true]);

describe("isValidLiteralSubject (pedantic PUB)", () => {
  test("TestSublistValidLiteralSubjects", () => {
    expectAll(isValidLiteralSubject, [
      ["foo", true],
      [".foo", false],
      ["foo.", false],
      ["foo..bar", false],
      ["foo.bar.*", false],
      ["foo.bar.>", false],
      ["*", false],
      [">", false],
      // Wildcard characters that are not a whole token are plain characters.
      ...PLAIN_WILDCARD_CHARACTERS,
    ]);
  });

  test("TestPedanticPub: each subject a pedantic server answers with 'Invalid Publish Subject'", () => {
    expectAll(isValidLiteralSubject, [
      ["foo.*", false],
      ["foo.>", false],
      ["foo.", false],
      [".foo", false],
      ["foo..*", false],
    ]);
  });

  test("the empty subject is not literal-valid, and whitespace is not checked (as upstream)", () => {
    expectAll(isValidLiteralSubject, [
      ["", false],
      ["foo bar", true],
    ]);
  });
});

describe("isValidSubject (subscriptions)", () => {
  test("TestSublistValidSubjects", () => {
    expectAll(isValidSubject, [
      [".", false],
      [".foo", false],
      ["foo.", false],
      ["foo..bar", false],
      [">.bar", false],
      ["foo.>.bar", false],
      ["foo", true],
      ["foo.bar.*", true],
      ["foo.bar.>", true],
      ["*", true],
      [">", true],
      ...PLAIN_WILDCARD_CHARACTERS,
    ]);
  });

  test("rejects the empty subject and whitespace in any token", () => {
    expectAll(isValidSubject, [
      ["", false],
      ["foo bar", false],
      ["foo.\tbar", false],
      ["foo.ba\nr", false],
      ["\r", false],
      ["a.\f", false],
      ["a. ", false],
      ["a.b\u000b", true], // vertical tab is not in nats-server's list
    ]);
  });

  test("checkRunes also rejects NUL and U+FFFD (invalid UTF-8), as nats-server 2.10 does", () => {
    for (const subject of ["foo.\u0000", "foo.b\uFFFDr"]) {
      expect([isValidSubject(subject), isValidSubject(subject, true)]).toEqual([true, false]);
    }
    expect(isValidSubject("foo.bär.*", true)).toBe(true);
  });

  test("TestSublistInvalidSubjectsInsert / TestPedanticSub: what the index refuses", () => {
    expectAll(hasValidStructure, [
      [".foo", false],
      ["foo.", false],
      ["foo..bar", false],
      ["foo.bar..baz", false],
      ["foo.>.bar", false],
      ["", false],
      ["foo bar.*", true], // structure only: a SUB never checks whitespace
      ["a.b.*.d.e.>", true],
    ]);
  });
});

describe("isValidPublishSubject and isLiteral", () => {
  test("TestSubjectIsLiteral", () => {
    expectAll(isLiteral, [
      ["foo", true],
      ["foo.bar", true],
      ["foo*.bar", true],
      ["*", false],
      [">", false],
      ["foo.*", false],
      ["foo.>", false],
      ["foo.*.>", false],
      ["foo.*.bar", false],
      ["foo.bar.>", false],
    ]);
  });

  test("a publish subject is valid and literal", () => {
    expectAll(isValidPublishSubject, [
      ["foo.bar", true],
      ["foo*.>bar", true],
      ["foo.*", false],
      ["foo.>", false],
      ["foo..bar", false],
      ["foo bar", false],
      ["", false],
    ]);
  });
});

describe("matches(pattern, subject)", () => {
  test("TestSublistMatchLiterals (matchLiteral(literal, subject) is matches(subject, literal))", () => {
    const cases: [string, string, boolean][] = [
      ["foo", "foo", true],
      ["foo", "bar", false],
      ["foo", "*", true],
      ["foo", ">", true],
      ["foo.bar", ">", true],
      ["foo.bar", "foo.>", true],
      ["foo.bar", "bar.>", false],
      ["stats.test.22", "stats.>", true],
      ["stats.test.22", "stats.*.*", true],
      ["foo.bar", "foo", false],
      ["stats.test.foos", "stats.test.foos", true],
      ["stats.test.foos", "stats.test.foo", false],
      ["stats.test", "stats.test.*", false],
      ["stats.test.foos", "stats.*", false],
      ["stats.test.foos", "stats.*.*.foos", false],
      // Wildcard characters that do not form a token are plain characters.
      ["*bar", "*bar", true],
      ["foo*", "foo*", true],
      ["foo*bar", "foo*bar", true],
      ["foo.***.bar", "foo.***.bar", true],
      [">bar", ">bar", true],
      ["foo>", "foo>", true],
      ["foo>bar", "foo>bar", true],
      ["foo.>>>.bar", "foo.>>>.bar", true],
    ];
    const got = cases.map(([literal, pattern]) => [literal, pattern, matches(pattern, literal)]);
    expect(got).toEqual(cases);
  });

  test("TestSublistTwoTokenPubMatchSingleTokenSub and TestSublistInsertWithWildcardsAsLiterals", () => {
    expect([matches("foo", "foo"), matches("foo", "foo.bar")]).toEqual([true, false]);
    expect([matches("foo.*-", "foo.bar"), matches("foo.*-", "foo.*-")]).toEqual([false, true]);
    expect([matches("foo.>-", "foo.bar"), matches("foo.>-", "foo.>-")]).toEqual([false, true]);
  });

  test("a wildcard token in the published subject is a plain token", () => {
    expect(matches("foo.*", "foo.*")).toBe(true);
    expect(matches("foo.>", "foo.>")).toBe(true);
    expect(matches("*.*", "foo.>")).toBe(true);
    expect(matches("foo.bar", "foo.*")).toBe(false);
    expect(matches("foo.bar.baz", "foo.>")).toBe(false);
  });

  test("TestSublistMatchWithEmptyTokens: a subject with an empty token matches nothing", () => {
    for (const subject of [".foo", "..foo", "foo..", "foo.", "foo..bar", "foo...bar", ""]) {
      expect([subject, matches(">", subject), matches("*.*", subject)]).toEqual([
        subject,
        false,
        false,
      ]);
    }
  });

  test("an invalid pattern matches nothing", () => {
    for (const pattern of ["foo.>.bar", "foo..bar", ".foo", "foo.", "", ">.>"]) {
      for (const subject of ["foo.x.bar", "foo.bar", "foo", "foo.x", "x", "a.b"]) {
        expect([pattern, subject, matches(pattern, subject)]).toEqual([pattern, subject, false]);
      }
    }
  });

  test("agrees with a regular expression built from the pattern, over random subjects", () => {
    const random = seededRandom(7);
    const pick = (tokens: string[]) => tokens[Math.floor(random() * tokens.length)] as string;
    const randomSubject = (tokens: string[]) =>
      Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(tokens)).join(".");
    const asRegExp = (pattern: string) => {
      const parts = pattern.split(".").map((token) => {
        if (token === "*") return "[^.]+";
        if (token === ">") return "[^.]+(?:\\.[^.]+)*";
        return token.replace(/[*>]/g, "\\$&");
      });
      return new RegExp(`^${parts.join("\\.")}$`);
    };
    for (let i = 0; i < 5000; i++) {
      let pattern = randomSubject(["a", "b", "*", "a*"]);
      if (random() < 0.3) pattern += ".>";
      const subject = randomSubject(["a", "b", "c", "a*"]);
      expect([pattern, subject, matches(pattern, subject)]).toEqual([
        pattern,
        subject,
        asRegExp(pattern).test(subject),
      ]);
    }
  });
});

describe("isSubsetMatch(pattern, other)", () => {
  test("TestIsSubsetMatch (subjectIsSubsetMatch(subject, test) is isSubsetMatch(test, subject))", () => {
    const cases: [string, string, boolean][] = [
      ["foo.*", ">", true],
      ["foo.*", "*.*", true],
      ["foo.*", "foo.*", true],
      ["foo.*", "foo.bar", false],
      ["foo.>", ">", true],
      ["foo.>", "*.>", true],
      ["foo.>", "foo.>", true],
      ["foo.>", "foo.bar", false],
      ["foo..bar", "foo.*", false], // a bad subject is no subset
      ["foo.*", "foo..bar", false],
    ];
    const got = cases.map(([subject, covering]) => [
      subject,
      covering,
      isSubsetMatch(covering, subject),
    ]);
    expect(got).toEqual(cases);
  });

  test("more cases: literals, lengths, and `>` against `*`", () => {
    const cases: [string, string, boolean][] = [
      ["foo.*", "foo.bar", true],
      ["foo.>", "foo.bar.baz", true],
      ["foo.>", "foo", false],
      ["foo.*", "foo.>", false],
      ["foo.*.>", "foo.*.*", true],
      ["foo.*.*", "foo.*.>", false],
      ["*", "foo.bar", false],
      [">", "a.b.c", true],
      ["*bar", "xbar", false], // `*bar` is a plain token here (upstream would say true)
      ["a.b", "a.b", true],
      ["a.b", "a.c", false],
      ["foo.>.bar", "foo.x.bar", false],
    ];
    const got = cases.map(([pattern, other]) => [pattern, other, isSubsetMatch(pattern, other)]);
    expect(got).toEqual(cases);
  });

  test("agrees with matches(): a covered pattern's subjects are all matched by the cover", () => {
    const random = seededRandom(11);
    const tokens = ["a", "b", "*"];
    const randomPattern = () => {
      const length = 1 + Math.floor(random() * 3);
      const parts = Array.from({ length }, () => tokens[Math.floor(random() * 3)] as string);
      if (random() < 0.3) parts.push(">");
      return parts.join(".");
    };
    // Every literal subject of 1 to 5 tokens over {a, b, c}: enough to witness a difference.
    const subjects: string[] = [];
    const grow = (prefix: string, depth: number) => {
      if (depth === 0) return;
      for (const token of ["a", "b", "c"]) {
        const subject = prefix === "" ? token : `${prefix}.${token}`;
        subjects.push(subject);
        grow(subject, depth - 1);
      }
    };
    grow("", 5);
    for (let i = 0; i < 400; i++) {
      const pattern = randomPattern();
      const other = randomPattern();
      const covered = subjects.every((s) => !matches(other, s) || matches(pattern, s));
      expect([pattern, other, isSubsetMatch(pattern, other)]).toEqual([pattern, other, covered]);
    }
  });
});
