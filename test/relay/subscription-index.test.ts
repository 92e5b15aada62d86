/**
 * SubscriptionIndex (src/relay/subscription-index.ts): nats-server 2.9.10's sublist_test.go
 * cases (named after each Go test), the cache kept right across inserts and removes, and a
 * randomized comparison against the brute-force `matches`.
 */
import { describe, expect, test } from "bun:test";
import { RelayError } from "../../src/errors.ts";
import { matches } from "../../src/relay/subjects.ts";
import {
  MATCH_CACHE_MAX,
  MATCH_CACHE_SWEEP_TO,
  type MatchResult,
  SubscriptionIndex,
} from "../../src/relay/subscription-index.ts";
import { seededRandom } from "../support/harness.ts";

/** A subscription as the tests see it: a name, its subject and its queue group. */
interface Sub {
  readonly name: string;
  readonly subject: string;
  readonly queue?: string;
}

function sub(subject: string, queue?: string, name = queue ? `${subject} ${queue}` : subject): Sub {
  return queue === undefined ? { name, subject } : { name, subject, queue };
}

function add(index: SubscriptionIndex<Sub>, ...subs: Sub[]): void {
  for (const s of subs) expect(index.insert(s, s.subject, s.queue)).toBe(true);
}

function drop(index: SubscriptionIndex<Sub>, s: Sub): boolean {
  return index.remove(s, s.subject, s.queue);
}

/** A result by names, easy to compare: plain names, then `queue: names` per group. */
function names(result: MatchResult<Sub>) {
  return {
    plain: result.plain.map((s) => s.name),
    queues: result.queues.map((group, i) => [result.queueNames[i], group.map((s) => s.name)]),
  };
}

describe("SubscriptionIndex: sublist_test.go", () => {
  test("TestSublistInsertCount", () => {
    const index = new SubscriptionIndex<Sub>();
    expect(index.count).toBe(0); // TestSublistInit
    add(index, sub("foo"), sub("bar"), sub("foo.bar"));
    expect(index.count).toBe(3);
  });

  test("TestSublistSimple and TestSublistSimpleMultiTokens", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("foo"), sub("foo.bar.baz"));
    expect(names(index.match("foo")).plain).toEqual(["foo"]);
    expect(names(index.match("foo.bar.baz")).plain).toEqual(["foo.bar.baz"]);
  });

  test("TestSublistPartialWildcard, ...AtEnd and TestSublistFullWildcard", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("a.b.c"), sub("a.*.c"), sub("a.b.*"), sub("a.>"));
    expect(names(index.match("a.b.c")).plain).toEqual(["a.b.c", "a.*.c", "a.b.*", "a.>"]);
    expect(names(index.match("a.>")).plain).toEqual(["a.>"]);
    expect(names(index.match("a.x.c")).plain).toEqual(["a.*.c", "a.>"]);
    expect(names(index.match("a")).plain).toEqual([]);
  });

  test("TestSublistRemove", () => {
    const index = new SubscriptionIndex<Sub>();
    const s = sub("a.b.c.d");
    add(index, s);
    expect(index.match("a.b.c.d").plain).toEqual([s]);
    expect(drop(index, sub("a.b.c"))).toBe(false);
    expect(index.count).toBe(1);
    expect(drop(index, s)).toBe(true);
    expect(index.count).toBe(0);
    expect(index.match("a.b.c.d").plain).toEqual([]);
  });

  test("TestSublistRemoveWildcard and TestSublistCache (add and remove logistics)", () => {
    const index = new SubscriptionIndex<Sub>();
    const [literal, partial, full] = [sub("a.b.c.d"), sub("a.b.*.d"), sub("a.b.>")];
    add(index, literal);
    expect(names(index.match("a.b.c.d")).plain).toEqual(["a.b.c.d"]);
    add(index, partial, full);
    expect(names(index.match("a.b.c.d")).plain).toEqual(["a.b.c.d", "a.b.*.d", "a.b.>"]);
    drop(index, literal);
    expect(names(index.match("a.b.c.d")).plain).toEqual(["a.b.*.d", "a.b.>"]);
    drop(index, full);
    expect(index.count).toBe(1);
    drop(index, partial);
    expect(index.count).toBe(0);
    expect(index.cacheSize).toBe(0); // every remove dropped the cached result it matched
    expect(index.match("a.b.c.d").plain).toEqual([]);
  });

  test("TestSublistCache: adding a wildcard subscription updates cached results", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("foo.*"), sub("foo.bar"));
    expect(names(index.match("foo.baz")).plain).toEqual(["foo.*"]);
    expect(names(index.match("foo.bar")).plain).toEqual(["foo.*", "foo.bar"]);
    add(index, sub("foo.>"));
    expect(names(index.match("foo.bar")).plain).toEqual(["foo.*", "foo.bar", "foo.>"]);
    expect(names(index.match("foo.baz")).plain).toEqual(["foo.*", "foo.>"]);
  });

  test("TestSublistRemoveCleanup(Wildcards): a removed subscription leaves no trie node", () => {
    const trieOf = (index: SubscriptionIndex<Sub>) =>
      JSON.stringify((index as unknown as { root: unknown }).root, (_key, value) =>
        value instanceof Map ? [...value] : value,
      );
    const index = new SubscriptionIndex<Sub>();
    const empty = trieOf(index);
    for (const subject of ["a.b.c.d.e.f", "a.b.*.d.e.>"]) {
      const s = sub(subject);
      add(index, s);
      expect(trieOf(index)).not.toBe(empty);
      drop(index, s);
      expect(trieOf(index)).toBe(empty);
    }
  });

  test("TestSublistRemoveWithLargeSubs: 512 on one subject, remove middle, first and last", () => {
    const index = new SubscriptionIndex<Sub>();
    const subs = Array.from({ length: 512 }, (_, i) => sub("foo", undefined, `s${i}`));
    add(index, ...subs);
    expect(index.match("foo").plain).toEqual(subs);
    for (const at of [256, 0, 511]) drop(index, subs[at] as Sub);
    const left = subs.filter((_, i) => i !== 256 && i !== 0 && i !== 511);
    expect(index.match("foo").plain).toEqual(left);
  });

  test("TestSublistInvalidSubjectsInsert and TestSublistBadSubjectOnRemove", () => {
    const index = new SubscriptionIndex<Sub>();
    for (const subject of [".foo", "foo.", "foo..bar", "foo.bar..baz", "foo.>.bar", ""]) {
      expect(() => index.insert(sub(subject), subject)).toThrow(RelayError);
      expect(() => index.insert(sub(subject), subject)).toThrow("RELAY_ERR_INVALID_SUBJECT");
      expect(index.remove(sub(subject), subject)).toBe(false);
    }
    expect(() => index.insert(sub("foo"), "foo", "")).toThrow("RELAY_ERR_INVALID_SUBJECT");
    expect(index.count).toBe(0);
  });

  test("TestSublistBasicQueueResults", () => {
    const index = new SubscriptionIndex<Sub>();
    const plain = sub("foo");
    const [bar1, baz2, bar3, baz4] = [
      sub("foo", "bar", "1"),
      sub("foo", "baz", "2"),
      sub("foo", "bar", "3"),
      sub("foo", "baz", "4"),
    ] as const;
    add(index, bar1);
    expect(names(index.match("foo"))).toEqual({ plain: [], queues: [["bar", ["1"]]] });
    add(index, baz2);
    expect(names(index.match("foo")).queues).toEqual([
      ["bar", ["1"]],
      ["baz", ["2"]],
    ]);
    add(index, plain, bar3, baz4);
    expect(names(index.match("foo"))).toEqual({
      plain: ["foo"],
      queues: [
        ["bar", ["1", "3"]],
        ["baz", ["2", "4"]],
      ],
    });
    drop(index, plain);
    drop(index, bar1);
    expect(names(index.match("foo"))).toEqual({
      plain: [],
      queues: [
        ["bar", ["3"]],
        ["baz", ["2", "4"]],
      ],
    });
    drop(index, bar3);
    expect(names(index.match("foo")).queues).toEqual([["baz", ["2", "4"]]]);
    drop(index, baz2);
    drop(index, baz4);
    expect(names(index.match("foo"))).toEqual({ plain: [], queues: [] });
  });

  test("queue groups of one name join across wildcard and literal subscriptions", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("a.b", "w", "lit"), sub("a.*", "w", "star"), sub("a.>", "v", "full"));
    expect(names(index.match("a.b")).queues).toEqual([
      ["v", ["full"]],
      ["w", ["lit", "star"]],
    ]);
  });

  test("TestSublistRemoveWithWildcardsAsLiterals", () => {
    const index = new SubscriptionIndex<Sub>();
    for (const subject of ["foo.*-", "foo.>-"]) {
      const s = sub(subject);
      add(index, s);
      expect(index.match("foo.bar").plain).toEqual([]);
      expect(index.match(subject).plain).toEqual([s]);
      expect(drop(index, sub("foo.bar"))).toBe(false);
      expect(index.count).toBe(1);
      expect(drop(index, s)).toBe(true);
      expect(index.count).toBe(0);
    }
  });

  test("TestSublistSharedEmptyResult and TestSublistMatchWithEmptyTokens", () => {
    const index = new SubscriptionIndex<Sub>();
    const none = index.match("foo");
    expect(index.match("bar")).toBe(none);
    add(index, sub(">"), sub(">", "queue"));
    for (const subject of [".foo", "..foo", "foo..", "foo.", "foo..bar", "foo...bar", ""]) {
      expect(index.match(subject)).toBe(none);
      expect(index.hasInterest(subject)).toBe(false);
    }
    expect(index.cacheSize).toBe(2); // foo and bar, now holding `>`: empty-token subjects are not cached
  });

  test("a published wildcard token is a plain token (non-pedantic PUB foo.*)", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("foo.bar"), sub("foo.*"), sub("foo.>"), sub("*.*"), sub(">"));
    expect(names(index.match("foo.*")).plain).toEqual(["foo.*", "foo.>", "*.*", ">"]);
    expect(names(index.match("foo.>")).plain).toEqual(["foo.*", "foo.>", "*.*", ">"]);
  });

  test("the same subscription twice on one subject and queue is refused; on two, matched twice", () => {
    const index = new SubscriptionIndex<Sub>();
    const s = sub("a.b");
    expect(index.insert(s, "a.b")).toBe(true);
    expect(index.insert(s, "a.b")).toBe(false);
    expect(index.insert(s, "a.b", "q")).toBe(true);
    expect(index.insert(s, "a.*")).toBe(true);
    expect(index.count).toBe(3);
    expect(index.match("a.b")).toEqual({ plain: [s, s], queues: [[s]], queueNames: ["q"] });
    expect(index.remove(s, "a.*", "q")).toBe(false);
  });
});

describe("SubscriptionIndex: results and cache", () => {
  test("a result is the same object while cached, and never changes once handed out", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("a"), sub("a", "q"));
    const first = index.match("a");
    expect(index.match("a")).toBe(first);
    add(index, sub("*"));
    const second = index.match("a");
    expect(second).not.toBe(first);
    expect(first.plain.length).toBe(1); // a result handed out never changes
    expect(second.plain.length).toBe(2);
  });

  test("plain subscriptions come in insertion order across literal and wildcard nodes", () => {
    const index = new SubscriptionIndex<Sub>();
    const subs = ["a.>", "a.b.c", "*.b.*", "a.*.c", ">", "a.b.*", "*.*.c"].map((s) => sub(s));
    add(index, ...subs);
    expect(index.match("a.b.c").plain).toEqual(subs);
    drop(index, subs[1] as Sub);
    add(index, subs[1] as Sub); // reinserted: now the newest
    expect(names(index.match("a.b.c")).plain).toEqual([
      "a.>",
      "*.b.*",
      "a.*.c",
      ">",
      "a.b.*",
      "*.*.c",
      "a.b.c",
    ]);
  });

  test("hasInterest answers with and without a cached result, and caches nothing itself", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("a.*.c", "q"));
    expect([index.hasInterest("a.b.c"), index.hasInterest("a.b"), index.cacheSize]).toEqual([
      true,
      false,
      0,
    ]);
    index.match("a.b.c");
    index.match("a.b");
    expect([index.hasInterest("a.b.c"), index.hasInterest("a.b"), index.cacheSize]).toEqual([
      true,
      false,
      2,
    ]);
  });

  test("the cache holds at most MATCH_CACHE_MAX subjects, swept to MATCH_CACHE_SWEEP_TO, oldest first", () => {
    const index = new SubscriptionIndex<Sub>();
    add(index, sub("foo.*"));
    for (let i = 0; i < MATCH_CACHE_MAX; i++) index.match(`foo.${i}`);
    expect(index.cacheSize).toBe(MATCH_CACHE_MAX);
    const kept = index.match(`foo.${MATCH_CACHE_MAX - 1}`);
    index.match("foo.one-more");
    expect(index.cacheSize).toBe(MATCH_CACHE_SWEEP_TO);
    expect(index.match(`foo.${MATCH_CACHE_MAX - 1}`)).toBe(kept); // the newest stayed
    const rebuilt = index.match("foo.0"); // the oldest went: a fresh object, same subscriptions
    expect(index.cacheSize).toBe(MATCH_CACHE_SWEEP_TO + 1);
    expect(names(rebuilt).plain).toEqual(["foo.*"]);
    for (let i = 0; i < 3 * MATCH_CACHE_MAX; i++) {
      index.match(`bar.${i}`);
      expect(index.cacheSize).toBeLessThanOrEqual(MATCH_CACHE_MAX);
    }
    add(index, sub("bar.>"));
    expect(names(index.match(`bar.${3 * MATCH_CACHE_MAX - 1}`)).plain).toEqual(["bar.>"]);
  });

  test("without a cache, results are right and nothing is stored (TestSublistNoCacheStats)", () => {
    const index = new SubscriptionIndex<Sub>({ cache: false });
    add(index, sub("foo"), sub("bar"), sub("baz"), sub("foo.bar.baz"), sub("foo.*.baz"));
    expect(names(index.match("foo.bar.baz")).plain).toEqual(["foo.bar.baz", "foo.*.baz"]);
    expect(index.match("a.b.c").plain).toEqual([]);
    expect(names(index.match("bar")).plain).toEqual(["bar"]);
    expect(index.cacheSize).toBe(0);
  });
});

describe("SubscriptionIndex: randomized against matches()", () => {
  test("inserts, removes and matches interleaved agree with a brute-force scan, cached or not", () => {
    const random = seededRandom(20);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
    const tokens = ["a", "b", "c", "*"];
    const randomSubject = (wildcards: boolean) => {
      const length = 1 + Math.floor(random() * 4);
      const parts = Array.from({ length }, () => pick(wildcards ? tokens : ["a", "b", "c"]));
      if (wildcards && random() < 0.2) parts.push(">");
      return parts.join(".");
    };
    // Published subjects: few enough that most matches hit the cache between changes.
    const published = Array.from({ length: 60 }, () => randomSubject(false));
    const index = new SubscriptionIndex<Sub>();
    const uncached = new SubscriptionIndex<Sub>({ cache: false });
    const live: Sub[] = []; // in insertion order
    let serial = 0;
    for (let step = 0; step < 6000; step++) {
      const roll = random();
      if (roll < 0.3 || live.length === 0) {
        const queue = random() < 0.3 ? pick(["q1", "q2", "q3"]) : undefined;
        const s = sub(randomSubject(true), queue, `s${serial++}`);
        add(index, s);
        add(uncached, s);
        live.push(s);
      } else if (roll < 0.5) {
        const at = Math.floor(random() * live.length);
        expect(drop(index, live[at] as Sub)).toBe(true);
        expect(drop(uncached, live[at] as Sub)).toBe(true);
        live.splice(at, 1);
      } else {
        const subject = random() < 0.9 ? pick(published) : randomSubject(false);
        const expected = bruteForce(live, subject);
        expect([subject, names(index.match(subject))]).toEqual([subject, expected]);
        expect(names(uncached.match(subject))).toEqual(expected);
        expect(index.hasInterest(subject)).toBe(expected.plain.length + expected.queues.length > 0);
      }
      expect(index.count).toBe(live.length);
    }
    for (const s of live) expect(drop(index, s)).toBe(true);
    expect(index.count).toBe(0);
    for (const subject of published)
      expect(names(index.match(subject))).toEqual(bruteForce([], subject));
  });
});

/** What match() must return for `subject`, by testing every live subscription with matches(). */
function bruteForce(live: readonly Sub[], subject: string) {
  const hits = live.filter((s) => matches(s.subject, subject));
  const groupNames = [...new Set(hits.flatMap((s) => (s.queue ? [s.queue] : [])))].sort();
  return {
    plain: hits.filter((s) => s.queue === undefined).map((s) => s.name),
    queues: groupNames.map((q) => [q, hits.filter((s) => s.queue === q).map((s) => s.name)]),
  };
}
