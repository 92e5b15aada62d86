/**
 * The raw-protocol conformance suite (issue 20): a core-NATS server, driven byte by byte over
 * TCP, must answer with the bytes nats-server 2.9 answers with. The cases are ports of
 * nats-server's own tests (test/proto_test.go, pedantic_test.go, verbose_test.go,
 * maxpayload_test.go, ping_test.go, auth_test.go in Debian's golang-github-nats-io-nats-server-dev),
 * with expected bytes checked against nats-server 2.9.10, plus what those tests leave implicit:
 * which errors close the connection, and that they close it with a FIN after the -ERR.
 *
 * Exact where a client depends on the bytes (MSG/HMSG lines, -ERR texts, +OK, PONG); loose
 * where servers legitimately differ (INFO's fields and formatting, the order of deliveries
 * to different subscriptions of one client).
 */
import { afterEach, describe } from "bun:test";
import { RawNatsClient } from "./raw-client.ts";
import { rawErrorCases } from "./raw-error-cases.ts";
import { rawMessageCases } from "./raw-message-cases.ts";
import { rawPermissionCases } from "./raw-permission-cases.ts";
import { rawSessionCases } from "./raw-session-cases.ts";
import { sharedServers } from "./suite-support.ts";
import type { NatsServerOptions, NatsTarget } from "./target.ts";

/** The CONNECT options a raw case sends unless it says otherwise. */
export type ConnectOptions = Record<string, unknown>;

/** What the case files get from the suite: raw clients on the target's servers. */
export interface RawContext {
  /** A raw client on the server for `options`, its INFO taken (and returned), nothing sent. */
  open(
    options?: NatsServerOptions,
  ): Promise<{ client: RawNatsClient; info: Record<string, unknown> }>;
  /**
   * A raw client that has sent `CONNECT {"verbose":false,"pedantic":false, ...connect}`
   * (nats-server's defaults are verbose and pedantic; real clients turn both off).
   */
  connected(options?: NatsServerOptions, connect?: ConnectOptions): Promise<RawNatsClient>;
}

/** Registers the raw-protocol cases against `target`; skipped, saying why, if it is missing. */
export function runRawProtocolSuite(target: NatsTarget): void {
  describe.skipIf(target.missing !== undefined)(`raw NATS protocol against ${target.name}`, () => {
    const server = sharedServers(target);
    const clients: RawNatsClient[] = [];
    afterEach(() => {
      for (const client of clients.splice(0)) client.close();
    });

    const context: RawContext = {
      async open(options = {}) {
        const client = await RawNatsClient.connect((await server(options)).port);
        clients.push(client);
        return { client, info: await client.info() };
      },
      async connected(options = {}, connect = {}) {
        const { client } = await context.open(options);
        client.send(
          `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...connect })}\r\n`,
        );
        return client;
      },
    };

    rawMessageCases(context);
    rawErrorCases(context);
    rawSessionCases(context);
    rawPermissionCases(context);
  });
}
