/**
 * UserPermissions (src/relay/nats-permissions.ts) against the rules of nats-server 2.9.10's
 * client.go (pubAllowedFullCheck, canSubscribe, queueMatches, checkDenySub) and
 * test/user_authorization_test.go. The same rules over real sockets, against nats-server and
 * the relay, are test/nats/raw-permission-cases.ts.
 */
import { describe, expect, test } from "bun:test";
import { UserPermissions } from "../../src/relay/nats-permissions.ts";
import type { PermissionLists } from "../../src/relay/nats-users.ts";

function lists(allow?: string[], deny?: string[]): PermissionLists {
  const rules = (texts: string[] | undefined) =>
    texts?.map((text) => {
      const [subject, queue] = text.split(" ") as [string, string | undefined];
      return { text, subject, queue };
    });
  return { allow: rules(allow), deny: rules(deny) };
}

describe("UserPermissions", () => {
  test("publish: allow alone denies the rest; deny wins; a published wildcard is a plain token", () => {
    const p = new UserPermissions({
      publish: lists(["foo.>", "bar.*"], ["foo.*.secret"]),
      subscribe: undefined,
    });
    expect(
      ["foo.a", "foo.a.b", "bar.x", "foo.a.secret", "bar", "baz", "foo.*.secret"].map((s) =>
        p.canPublish(s),
      ),
    ).toEqual([true, true, true, false, false, false, false]);
    expect(p.canPublish("foo.a.secret")).toBe(false); // cached answer, same
  });

  test("publish: an empty allow list is no list (as nats-server reads `allow: []`)", () => {
    const p = new UserPermissions({ publish: lists([]), subscribe: undefined });
    expect(p.canPublish("any")).toBe(true);
  });

  test("subscribe: an empty allow list is no list", () => {
    const p = new UserPermissions({ publish: undefined, subscribe: lists([]) });
    expect(p.canSubscribe("any", undefined)).toBe(true);
  });

  test("subscribe: a wildcard SUB is matched as a subject, so it can be wider than a deny rule", () => {
    const p = new UserPermissions({
      publish: undefined,
      subscribe: lists(["foo.>"], ["foo.bar", "foo.*.x"]),
    });
    expect(p.canSubscribe("foo.bar", undefined)).toBe(false);
    expect(p.canSubscribe("foo.*", undefined)).toBe(true);
    expect(p.canSubscribe("foo.*.x", undefined)).toBe(false);
    expect(p.canSubscribe("bar", undefined)).toBe(false);
    expect(p.needsDenyFilter("foo.*")).toBe(true);
    expect(p.needsDenyFilter("foo.>")).toBe(true);
    expect(p.needsDenyFilter("foo.bar.y")).toBe(false); // not a wildcard
    expect(p.deliveryDenied("foo.bar")).toBe(true);
    expect(p.deliveryDenied("foo.baz")).toBe(false);
  });

  test("the deny filter needs a deny rule inside the wildcard (foo.* is not inside *.bar)", () => {
    const p = new UserPermissions({ publish: undefined, subscribe: lists(undefined, ["foo.*"]) });
    expect(p.needsDenyFilter("*.bar")).toBe(false);
    expect(p.needsDenyFilter("foo.>")).toBe(true);
  });

  test("queue rules: allow ['foo', 'foo v1'] admits plain foo and queue v1 only; wildcard queue names", () => {
    const p = new UserPermissions({
      publish: undefined,
      subscribe: lists(["foo", "foo v1", "bar v.*"]),
    });
    expect(p.canSubscribe("foo", undefined)).toBe(true);
    expect(p.canSubscribe("foo", "v1")).toBe(true);
    expect(p.canSubscribe("foo", "v2")).toBe(false);
    expect(p.canSubscribe("bar", undefined)).toBe(false);
    expect(p.canSubscribe("bar", "v.a")).toBe(true);
    expect(p.canSubscribe("bar", "w")).toBe(false);
  });

  test("queue rules: deny ['foo v1'] refuses that queue only", () => {
    const p = new UserPermissions({ publish: undefined, subscribe: lists(undefined, ["foo v1"]) });
    expect(p.canSubscribe("foo", "v1")).toBe(false);
    expect(p.canSubscribe("foo", "v2")).toBe(true);
    expect(p.canSubscribe("foo", undefined)).toBe(true);
  });
});
