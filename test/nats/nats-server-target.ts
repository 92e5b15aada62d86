/**
 * The reference target: nats-server 2.9 (Debian's `nats-server` package), started through
 * test/support/nats-server.ts with a config file written from {@link NatsServerOptions}.
 */
import { NatsServer, natsMissing } from "../support/nats-server.ts";
import type { NatsServerOptions, NatsTarget, RunningNats } from "./target.ts";

/**
 * nats-server's config file for `options` (its own format, see server/opts.go). Durations
 * are written as Go duration strings ("250ms"): a bare number means whole seconds there and
 * logs a deprecation warning. The authorization timeout is the exception: a float of seconds.
 */
export function natsServerConfig(options: NatsServerOptions): string {
  const lines: string[] = [];
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
  if (options.maxControlLine !== undefined) {
    lines.push(`max_control_line: ${options.maxControlLine}`);
  }
  if (options.maxSubscriptions !== undefined) {
    lines.push(`max_subscriptions: ${options.maxSubscriptions}`);
  }
  if (options.pingInterval !== undefined) {
    lines.push(`ping_interval: "${Math.round(options.pingInterval * 1000)}ms"`);
  }
  if (options.maxPingsOut !== undefined) lines.push(`ping_max: ${options.maxPingsOut}`);
  const auth: string[] = [];
  if (options.token !== undefined) auth.push(`token: ${quoted(options.token)}`);
  if (options.user !== undefined) auth.push(`user: ${quoted(options.user)}`);
  if (options.pass !== undefined) auth.push(`password: ${quoted(options.pass)}`);
  if (options.authTimeout !== undefined) auth.push(`timeout: ${options.authTimeout}`);
  if (options.users !== undefined) {
    // JSON values are nats-server config values too.
    const users = options.users.map(({ user, pass, permissions }) => ({
      user,
      password: pass,
      ...(permissions ? { permissions } : {}),
    }));
    auth.push(`users: ${JSON.stringify(users)}`);
  }
  if (auth.length > 0) lines.push(`authorization {\n  ${auth.join("\n  ")}\n}`);
  return `${lines.join("\n")}\n`;
}

/** A JSON string is a quoted string in nats-server's config format too (`$` stays literal). */
function quoted(value: string): string {
  return JSON.stringify(value);
}

/** Runs each server as its own nats-server process; stopped with SIGTERM. */
export const natsServerTarget: NatsTarget = {
  name: "nats-server",
  missing: natsMissing,
  async start(options: NatsServerOptions): Promise<RunningNats> {
    const server = await NatsServer.start({
      config: natsServerConfig(options),
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    return { port: server.port, url: server.url, stop: () => server.stop() };
  },
};
