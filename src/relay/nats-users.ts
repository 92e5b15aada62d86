/**
 * `--users-file FILE`: the NATS port's users and their publish/subscribe permissions, in TOML
 * with nats-server's vocabulary (server/opts.go parseUsers / parseUserPermissions):
 *
 * ```toml
 * [[users]]
 * user = "alice"
 * password = "$2a$11$…"          # bcrypt (nats-server's isBcrypt rule) or plain text
 * [users.permissions.publish]
 * allow = ["orders.>"]
 * deny  = ["orders.*.internal"]
 * [users.permissions.subscribe]
 * allow = ["orders.>", "_INBOX.>"]   # "subject queue" limits a queue group, as nats-server
 * deny  = ["orders.*.internal"]
 * ```
 *
 * `allow` and `deny` take one subject or a list. Every subject must be a valid subject
 * (wildcards allowed; opts.go checkSubjectArray); a subscribe entry may add a queue name after
 * whitespace (client.go splitSubjectQueue). Any other key is an error, so a typo never widens
 * a user's rights silently.
 *
 * Errors: one line `--users-file FILE:LINE: KEY: reason`. Bun's TOML parser reports no usable
 * position, so the line is found by searching the text for the key inside the user's
 * `[[users]]` section (omitted when the key cannot be found, and for TOML syntax errors).
 * A password never appears in an error.
 */
import { readFileSync } from "node:fs";
import { isValidSubject } from "./subjects.ts";

/** One subject of an allow or deny list; `queue` only in subscribe lists ("subject queue"). */
export interface SubjectRule {
  /** The entry as written (nats-server's deny filter uses the whole text). */
  readonly text: string;
  readonly subject: string;
  readonly queue: string | undefined;
}

/** `allow`/`deny` of one direction; undefined: the key was absent. */
export interface PermissionLists {
  readonly allow: readonly SubjectRule[] | undefined;
  readonly deny: readonly SubjectRule[] | undefined;
}

/** A user's `permissions` table; undefined parts allow everything in that direction. */
export interface NatsPermissions {
  readonly publish: PermissionLists | undefined;
  readonly subscribe: PermissionLists | undefined;
}

/** One `[[users]]` entry. `password` is plain text or a bcrypt hash: never log it. */
export interface NatsUser {
  readonly user: string;
  readonly password: string;
  /** Undefined: no `permissions` table, the user may do everything. */
  readonly permissions: NatsPermissions | undefined;
}

/** A users file that cannot be used; `message` is the one line to print. */
export class UsersFileError extends Error {
  override name = "UsersFileError";
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads and checks `path`.
 * @throws UsersFileError naming the file, the line (when found) and the key.
 */
export function loadUsersFile(path: string): NatsUser[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw new UsersFileError(`--users-file ${path}: cannot read the file (${why})`);
  }
  return parseUsersText(text, path);
}

/** Parses the text of a users file; `path` names it in errors. */
export function parseUsersText(text: string, path: string): NatsUser[] {
  let document: unknown;
  try {
    document = Bun.TOML.parse(text);
  } catch (error) {
    const why = (error as Error).message.replace(/^TOML Parse error: /, "");
    throw new UsersFileError(`--users-file ${path}: not valid TOML (${why})`);
  }
  const fail = (userIndex: number, key: string[], reason: string): never => {
    const line = findLine(text, userIndex, key);
    const where = line === undefined ? "" : `:${line}`;
    throw new UsersFileError(`--users-file ${path}${where}: ${keyName(userIndex, key)}: ${reason}`);
  };
  const root = document as Table;
  for (const key of Object.keys(root)) {
    if (key !== "users") fail(-1, [key], "unknown key (only [[users]] tables are read)");
  }
  const entries = root.users ?? [];
  if (!Array.isArray(entries)) fail(-1, ["users"], "must be [[users]] tables");
  const users: NatsUser[] = [];
  const names = new Set<string>();
  (entries as unknown[]).forEach((entry, i) => {
    if (!isTable(entry)) fail(-1, ["users"], "must be [[users]] tables");
    const table = entry as Table;
    for (const key of Object.keys(table)) {
      if (key !== "user" && key !== "password" && key !== "permissions") {
        fail(i, [key], "unknown key (user, password, permissions)");
      }
    }
    const user = table.user;
    if (typeof user !== "string" || user.length === 0)
      fail(i, ["user"], "a non-empty string is required");
    if (names.has(user as string)) fail(i, ["user"], `'${user}' is given twice`);
    names.add(user as string);
    // The value itself is never quoted: it is a secret.
    const password = table.password;
    if (typeof password !== "string" || password.length === 0) {
      fail(i, ["password"], "a non-empty string is required");
    }
    users.push({
      user: user as string,
      password: password as string,
      permissions:
        table.permissions === undefined
          ? undefined
          : readPermissions(table.permissions, (key, reason) =>
              fail(i, ["permissions", ...key], reason),
            ),
    });
  });
  return users;
}

type Fail = (key: string[], reason: string) => never;

function readPermissions(value: unknown, fail: Fail): NatsPermissions {
  if (!isTable(value)) fail([], "must be a table");
  const table = value as Table;
  for (const key of Object.keys(table)) {
    if (key !== "publish" && key !== "subscribe") fail([key], "unknown key (publish, subscribe)");
  }
  const lists = (direction: "publish" | "subscribe"): PermissionLists | undefined => {
    const part = table[direction];
    if (part === undefined) return undefined;
    if (!isTable(part)) fail([direction], "must be a table with allow and/or deny");
    const lists = part as Table;
    for (const key of Object.keys(lists)) {
      if (key !== "allow" && key !== "deny") fail([direction, key], "unknown key (allow, deny)");
    }
    const rules = (which: "allow" | "deny") =>
      readRules(lists[which], direction === "subscribe", (reason) =>
        fail([direction, which], reason),
      );
    return { allow: rules("allow"), deny: rules("deny") };
  };
  return { publish: lists("publish"), subscribe: lists("subscribe") };
}

/** One subject or a list of them; a subscribe entry may carry a queue ("subject queue"). */
function readRules(
  value: unknown,
  withQueue: boolean,
  fail: (reason: string) => never,
): SubjectRule[] | undefined {
  if (value === undefined) return undefined;
  const items = typeof value === "string" ? [value] : value;
  if (!Array.isArray(items)) fail("must be a subject or a list of subjects");
  return (items as unknown[]).map((item) => {
    if (typeof item !== "string") return fail("must be a subject or a list of subjects");
    const fields = withQueue ? item.trim().split(/\s+/) : [item];
    const [subject, queue] = fields as [string, string | undefined];
    if (
      fields.length > 2 ||
      !isValidSubject(subject) ||
      (queue !== undefined && !isValidSubject(queue))
    ) {
      return fail(`'${item}' is not a valid subject${withQueue ? " (or 'subject queue')" : ""}`);
    }
    return { text: item, subject, queue };
  });
}

/** `users[2].permissions.publish.allow`, or the bare key outside a user. */
function keyName(userIndex: number, key: string[]): string {
  const path = key.join(".");
  if (userIndex < 0) return path;
  return path.length > 0 ? `users[${userIndex}].${path}` : `users[${userIndex}]`;
}

const USERS_HEADER = /^\s*\[\[\s*users\s*\]\]/;

/**
 * The 1-based line of `key` in the `userIndex`-th `[[users]]` section: for a permissions key,
 * its `[users.permissions.<direction>]` header then the key after it; else the key's first
 * `key =` line. Undefined when not found (inline tables, dotted keys).
 */
function findLine(text: string, userIndex: number, key: string[]): number | undefined {
  const lines = text.split("\n");
  const last = key[key.length - 1];
  if (last === undefined) return undefined;
  let start = 0;
  let end = lines.length;
  if (userIndex >= 0) {
    const headers = lines.flatMap((line, n) => (USERS_HEADER.test(line) ? [n] : []));
    const header = headers[userIndex];
    if (header === undefined) return undefined;
    start = header;
    end = headers[userIndex + 1] ?? lines.length;
  }
  // A table written as its own header: `[users.permissions.pub]`.
  const header = new RegExp(`^\\s*\\[\\s*users\\.${key.map(escapeKey).join("\\.")}\\s*\\]`);
  const headerAt = lines.slice(start, end).findIndex((line) => header.test(line));
  if (headerAt >= 0) return start + headerAt + 1;
  if (key[0] === "permissions" && key.length >= 3) {
    const section = new RegExp(`^\\s*\\[\\s*users\\.permissions\\.${key[1]}\\s*\\]`);
    const at = lines.slice(start, end).findIndex((line) => section.test(line));
    if (at < 0) return undefined;
    start += at;
  }
  const assignment = new RegExp(`^\\s*"?${escapeKey(last)}"?\\s*=`);
  const at = lines.slice(start, end).findIndex((line) => assignment.test(line));
  if (at >= 0) return start + at + 1;
  return userIndex >= 0 ? start + 1 : undefined;
}

/** `key` as a literal inside a RegExp. */
function escapeKey(key: string): string {
  return key.replace(/[^\w-]/g, "\\$&");
}
