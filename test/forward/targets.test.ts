import { describe, expect, test } from "bun:test";
import { parseHostPort, Target, TargetSet } from "../../src/forward/targets.ts";

const three = () => [new Target("a", 1), new Target("b", 2), new Target("c", 3)];

describe("TargetSet", () => {
  test("round-robin visits every target in turn", () => {
    const set = new TargetSet(three(), "round-robin");
    const picks = Array.from({ length: 6 }, () => set.pick(new Set(), 0)?.host);
    expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  test("least-conn picks the fewest active, rotating among ties", () => {
    const targets = three();
    const set = new TargetSet(targets, "least-conn");
    (targets[0] as Target).active = 2;
    expect(set.pick(new Set(), 0)?.host).toBe("b");
    expect(set.pick(new Set(), 0)?.host).toBe("c");
    expect(set.pick(new Set(), 0)?.host).toBe("b");
  });

  test("skips tried targets and returns undefined when all were tried", () => {
    const targets = three();
    const set = new TargetSet(targets, "round-robin");
    const tried = new Set<Target>(targets.slice(0, 2));
    expect(set.pick(tried, 0)?.host).toBe("c");
    tried.add(targets[2] as Target);
    expect(set.pick(tried, 0)).toBeUndefined();
  });

  test("a failing target is skipped with a doubling backoff capped at 30 s, and comes back", () => {
    const targets = three();
    const set = new TargetSet(targets, "round-robin");
    const a = targets[0] as Target;
    expect([1, 2, 3, 4, 5, 6, 7].map(() => set.markDown(a, 0, 0).retryInMs)).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(a.isDown(29_999)).toBe(true);
    expect(set.upCount(29_999)).toBe(2);
    expect(a.isDown(30_000)).toBe(false);
    expect(set.markUp(a)).toBe(true);
    expect(a.failures).toBe(0);
    expect(set.markUp(a)).toBe(false);
  });

  test("failures of dials that overlap count once; one up -> down transition", () => {
    const only = new Target("a", 1);
    const set = new TargetSet([only], "round-robin");
    // Eight dials started at 0; the first to fail counts and takes the target down.
    expect(set.markDown(only, 0, 5)).toEqual({ counted: true, wentDown: true, retryInMs: 1000 });
    // The other seven started before that failure was recorded: nothing changes.
    for (let i = 0; i < 7; i++) {
      expect(set.markDown(only, 0, 6)).toEqual({ counted: false, wentDown: false, retryInMs: 999 });
    }
    expect(only.failures).toBe(1);
    // A dial started after it is new evidence: counted, the backoff doubles, no new transition.
    expect(set.markDown(only, 5, 1010)).toEqual({
      counted: true,
      wentDown: false,
      retryInMs: 2000,
    });
    // Past the backoff, an overlapping failure reports no time left.
    expect(set.markDown(only, 1000, 4000).retryInMs).toBe(0);
    expect(set.markUp(only)).toBe(true);
    expect(set.markDown(only, 2000, 4100)).toMatchObject({ counted: true, wentDown: true });
  });

  test("a lone target marked down is still picked, and only a try by this client excludes it", () => {
    const only = new Target("a", 1);
    const set = new TargetSet([only], "round-robin");
    set.markDown(only, 0, 0);
    set.markDown(only, 0, 0); // 2 s backoff
    expect(only.isDown(500)).toBe(true);
    expect(set.pick(new Set(), 500)).toBe(only);
    expect(set.pick(new Set([only]), 500)).toBeUndefined();
  });

  test("a down target is skipped while another target is up", () => {
    const targets = three();
    const [a, b, c] = targets as [Target, Target, Target];
    const set = new TargetSet(targets, "round-robin");
    set.markDown(a, 0, 0); // until 1000
    set.markDown(c, 0, 0);
    set.markDown(c, 0, 0); // until 2000
    expect([1, 2, 3].map(() => set.pick(new Set(), 10))).toEqual([b, b, b]);
    // Once b was tried, only down targets are left: the client still gets one.
    expect(set.pick(new Set([b]), 10)).toBe(a);
  });

  test.each(["round-robin", "least-conn"] as const)(
    "%s: with every target down, picks the one whose backoff ends first, then the next",
    (balance) => {
      const targets = three();
      const [a, b, c] = targets as [Target, Target, Target];
      const set = new TargetSet(targets, balance);
      set.markDown(a, 0, 0); // until 1000
      set.markDown(a, 0, 0); // until 2000
      set.markDown(b, 500, 500); // until 1500
      set.markDown(c, 300, 300); // until 1300
      const tried = new Set<Target>();
      const order: Target[] = [];
      for (let pick = set.pick(tried, 600); pick !== undefined; pick = set.pick(tried, 600)) {
        order.push(pick);
        tried.add(pick);
      }
      expect(order).toEqual([c, b, a]);
    },
  );

  test("with every target down, equal backoffs rotate like round-robin", () => {
    const targets = three();
    const set = new TargetSet(targets, "round-robin");
    for (const target of targets) set.markDown(target, 0, 0);
    const picks = Array.from({ length: 4 }, () => set.pick(new Set(), 10)?.host);
    expect(picks).toEqual(["a", "b", "c", "a"]);
  });

  test("an up target that was tried does not make a down one wait", () => {
    const targets = [new Target("a", 1), new Target("b", 2)];
    const [a, b] = targets as [Target, Target];
    const set = new TargetSet(targets, "least-conn");
    set.markDown(b, 0, 0);
    expect(set.pick(new Set(), 10)).toBe(a);
    expect(set.pick(new Set([a]), 10)).toBe(b);
  });

  test("needs at least one target", () => {
    expect(() => new TargetSet([], "round-robin")).toThrow("RELAY_ERR_NO_TARGET");
  });
});

describe("parseHostPort", () => {
  test.each([
    ["10.0.0.5:80", "10.0.0.5", 80],
    ["example.com:443", "example.com", 443],
    ["[::1]:8080", "::1", 8080],
  ])("parses %s", (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ host, port });
  });

  test.each(["10.0.0.5", ":80", "host:0", "host:70000", "::1:80", "a b:1"])(
    "rejects %s",
    (text) => {
      expect(() => parseHostPort(text)).toThrow("is not host:port");
    },
  );
});
