/**
 * parseUsersText (src/relay/nats-users.ts): the shape of issue 21's users file, nats-server's
 * one-subject-or-a-list form, "subject queue" subscribe entries, and the error line for each
 * rule (file, line, key). The command line's use of it is test/nats/users-file.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { parseUsersText } from "../../src/relay/nats-users.ts";

const rule = (text: string, subject = text, queue?: string) => ({ text, subject, queue });

describe("parseUsersText", () => {
  test("the issue's example: users, passwords, publish and subscribe allow/deny", () => {
    const users = parseUsersText(
      [
        "[[users]]",
        'user = "alice"',
        'password = "$2a$11$abc"',
        "[users.permissions.publish]",
        'allow = ["orders.>"]',
        'deny  = ["orders.*.internal"]',
        "[users.permissions.subscribe]",
        'allow = ["orders.>", "_INBOX.>", "work  v1"]',
        'deny  = "orders.*.internal"',
        "",
        "[[users]]",
        'user = "bob"',
        'password = "plain"',
      ].join("\n"),
      "u.toml",
    );
    expect(users).toEqual([
      {
        user: "alice",
        password: "$2a$11$abc",
        permissions: {
          publish: { allow: [rule("orders.>")], deny: [rule("orders.*.internal")] },
          subscribe: {
            allow: [rule("orders.>"), rule("_INBOX.>"), rule("work  v1", "work", "v1")],
            deny: [rule("orders.*.internal")],
          },
        },
      },
      { user: "bob", password: "plain", permissions: undefined },
    ]);
  });

  test("an empty file has no users (every CONNECT is refused)", () => {
    expect(parseUsersText("", "u.toml")).toEqual([]);
  });

  test.each([
    ["users = 1\n", "--users-file u.toml:1: users: must be [[users]] tables"],
    ["port = 4222\n", "--users-file u.toml:1: port: unknown key (only [[users]] tables are read)"],
    [
      '[[users]]\nuser = ""\npassword = "x"\n',
      "--users-file u.toml:2: users[0].user: a non-empty string is required",
    ],
    [
      '[[users]]\nuser = "a"\npassword = 5\n',
      "--users-file u.toml:3: users[0].password: a non-empty string is required",
    ],
    [
      '[[users]]\nuser = "a"\npassword = "x"\npermissions = 1\n',
      "--users-file u.toml:4: users[0].permissions: must be a table",
    ],
    [
      '[[users]]\nuser = "a"\npassword = "x"\n[users.permissions.pub]\nallow = ["x"]\n',
      "--users-file u.toml:4: users[0].permissions.pub: unknown key (publish, subscribe)",
    ],
    [
      '[[users]]\nuser = "a"\npassword = "x"\n[users.permissions.subscribe]\nallow = [1]\n',
      "--users-file u.toml:5: users[0].permissions.subscribe.allow: must be a subject or a list of subjects",
    ],
    [
      '[[users]]\nuser = "a"\npassword = "x"\n[users.permissions.subscribe]\ndeny = ["a b c"]\n',
      "--users-file u.toml:5: users[0].permissions.subscribe.deny: 'a b c' is not a valid subject (or 'subject queue')",
    ],
    [
      '[[users]]\nuser = "a"\npassword = "x"\n[users.permissions.subscribe]\ndeny = ["a.>.b"]\n',
      "--users-file u.toml:5: users[0].permissions.subscribe.deny: 'a.>.b' is not a valid subject (or 'subject queue')",
    ],
  ])("%j: %s", (text, message) => {
    expect(() => parseUsersText(text, "u.toml")).toThrow(message);
  });

  test("a password never appears in an error", () => {
    const text =
      '[[users]]\nuser = "a"\npassword = "hunter2"\n[[users]]\nuser = "a"\npassword = "hunter2"\n';
    expect(() => parseUsersText(text, "u.toml")).toThrow(/^(?!.*hunter2).*'a' is given twice$/);
  });
});
