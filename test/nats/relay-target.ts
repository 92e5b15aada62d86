/**
 * The relay's NATS port as a NatsTarget: a Relay in this process on 127.0.0.1, its line and
 * frame ports on free ports, each option mapped onto the flag of the same meaning
 * (`--token`, `--user`/`--pass`, `--max-payload`, `--max-control-line`, `--ping-interval`,
 * `--max-pings-out`, `--auth-timeout`, `--max-subscriptions`, `--users-file`).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG, type RelayConfig } from "../../src/cli/config.ts";
import { NetAccess } from "../../src/net/access.ts";
import { loadUsersFile } from "../../src/relay/nats-users.ts";
import { Relay } from "../../src/relay/server.ts";
import type { NatsServerOptions, NatsTarget, RunningNats, TestUser } from "./target.ts";

/**
 * The --users-file text for `users` (JSON strings and arrays are TOML values too); shared
 * by the CLI tests.
 */
export function usersToml(users: readonly TestUser[]): string {
  const lines: string[] = [];
  for (const { user, pass, permissions } of users) {
    lines.push("[[users]]", `user = ${JSON.stringify(user)}`, `password = ${JSON.stringify(pass)}`);
    for (const direction of ["publish", "subscribe"] as const) {
      const lists = permissions?.[direction];
      if (lists === undefined) continue;
      lines.push(`[users.permissions.${direction}]`);
      if (lists.allow) lines.push(`allow = ${JSON.stringify(lists.allow)}`);
      if (lists.deny) lines.push(`deny = ${JSON.stringify(lists.deny)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Writes `users` as a --users-file in a fresh temporary directory; returns its path. */
async function writeUsersFile(users: readonly TestUser[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "relay-users-"));
  const path = join(dir, "users.toml");
  await Bun.write(path, usersToml(users));
  return path;
}

export const relayTarget: NatsTarget = {
  name: "bun-relay",
  async start(options: NatsServerOptions): Promise<RunningNats> {
    const config: RelayConfig = {
      ...DEFAULT_CONFIG,
      host: "127.0.0.1",
      pubPort: 0,
      subPort: 0,
      natsPort: options.port ?? 0,
      statsInterval: 0,
      shutdownTimeout: 0,
      token: options.token,
      user: options.user,
      pass: options.pass,
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      ...(options.maxControlLine !== undefined ? { maxControlLine: options.maxControlLine } : {}),
      ...(options.pingInterval !== undefined ? { pingInterval: options.pingInterval } : {}),
      ...(options.maxPingsOut !== undefined ? { maxPingsOut: options.maxPingsOut } : {}),
      ...(options.authTimeout !== undefined ? { authTimeout: options.authTimeout } : {}),
      ...(options.maxSubscriptions !== undefined
        ? { maxSubscriptions: options.maxSubscriptions }
        : {}),
    };
    if (options.users !== undefined) {
      config.usersFile = await writeUsersFile(options.users);
      config.users = loadUsersFile(config.usersFile);
    }
    const relay = new Relay(
      config,
      () => {},
      NetAccess.load(config, () => {}),
    );
    const port = relay.natsPort as number;
    return {
      port,
      url: `nats://127.0.0.1:${port}`,
      async stop() {
        await relay.shutdown(0);
      },
    };
  },
};
