/**
 * The relay's NATS port as a NatsTarget: a Relay in this process on 127.0.0.1, its line and
 * frame ports on free ports, each option mapped onto the flag of the same meaning
 * (`--token`, `--user`/`--pass`, `--max-payload`, `--max-control-line`, `--ping-interval`,
 * `--max-pings-out`, `--auth-timeout`, `--max-subscriptions`).
 */
import { DEFAULT_CONFIG, type RelayConfig } from "../../src/cli/config.ts";
import { NetAccess } from "../../src/net/access.ts";
import { Relay } from "../../src/relay/server.ts";
import type { NatsServerOptions, NatsTarget, RunningNats } from "./target.ts";

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
