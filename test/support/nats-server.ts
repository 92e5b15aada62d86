/**
 * Test support for the cluster tests (NATS as the backplane) and the NATS-port tests (NATS as
 * the reference server): a real nats-server (the Debian package) on 127.0.0.1, on a port of
 * its choosing (`-p -1`, read back from its log) or a given one, which it can be killed and
 * restarted on. Tests skip, saying why, when nats-server is not installed (.ci/run installs it).
 */
import { afterAll } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { RelayEvent } from "../../src/relay/events.ts";
import { ChildLines } from "./child.ts";

export const NATS_SERVER_BIN = Bun.which("nats-server") ?? Bun.which("/usr/sbin/nats-server");

/** Why the tests that need nats-server skip, or undefined when they can run. */
export const natsMissing =
  NATS_SERVER_BIN === null
    ? "nats-server is not installed (Debian package nats-server; .ci/run installs it)"
    : undefined;

const LISTENING = /Listening for client connections on [^\s]+:(\d+)/;

/** One nats-server process. */
export class NatsServer {
  private constructor(
    private child: Subprocess<"ignore", "ignore", "pipe">,
    readonly port: number,
    private configFile: string | undefined,
  ) {}

  /**
   * Starts nats-server on `port` (default: any free one) with an optional config file body
   * (nats-server's own format, e.g. `max_pending: 262144`). Resolves once it accepts clients.
   */
  static async start(options: { port?: number; config?: string } = {}): Promise<NatsServer> {
    const configFile = writeConfig(options.config);
    const { child, port } = await NatsServer.spawn(options.port ?? -1, configFile);
    const server = new NatsServer(child, port, configFile);
    servers.add(server);
    return server;
  }

  private static async spawn(
    port: number,
    configFile: string | undefined,
  ): Promise<{ child: Subprocess<"ignore", "ignore", "pipe">; port: number }> {
    const args = ["-a", "127.0.0.1", "-p", String(port)];
    if (configFile) args.push("-c", configFile);
    const child = Bun.spawn([NATS_SERVER_BIN as string, ...args], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    const lines = new ChildLines(child.stderr);
    const match = await lines.match(LISTENING);
    await lines.waitFor(/Server is ready/);
    // Keep reading its log, so a full pipe never blocks it.
    void lines.rest().catch(() => {});
    return { child, port: Number(match[1]) };
  }

  /** `nats://127.0.0.1:PORT`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** SIGKILL: no goodbye to its clients; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.child.exited;
  }

  /**
   * Starts a new nats-server on the same port (after `kill`), with the same config file, or
   * with `config` as a new one (another max_payload, say).
   */
  async restart(options: { config?: string } = {}): Promise<void> {
    if (options.config !== undefined) this.configFile = writeConfig(options.config);
    const { child } = await NatsServer.spawn(this.port, this.configFile);
    this.child = child;
  }

  /** Stops it for good. */
  async stop(): Promise<void> {
    servers.delete(this);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      await this.child.exited;
    }
    if (this.configFile) rmSync(this.configFile, { force: true });
  }
}

const servers = new Set<NatsServer>();

/** Writes a nats-server config file body to a fresh temporary file; undefined for none. */
function writeConfig(config: string | undefined): string | undefined {
  if (config === undefined) return undefined;
  const file = join(
    tmpdir(),
    `bun-relay-nats-${process.pid}-${Math.random().toString(36).slice(2)}.conf`,
  );
  writeFileSync(file, config);
  return file;
}

/**
 * Registers, in the calling test file, an afterAll that stops every nats-server still running
 * (a hook registered here, at module level, would bind to the first file that imports it).
 */
export function stopNatsServersAfterAll(): void {
  afterAll(async () => {
    for (const server of [...servers]) await server.stop();
  });
}

/** A port nothing listens on right now (bound, then released). */
export function freePort(): number {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data() {} },
  });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** A subject no other test uses. */
export function uniqueSubject(tag: string): string {
  return `test.${tag}.${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
}

/** Matches the backplane's (re)connection. */
export const clusterConnected =
  (reconnect: boolean) =>
  (event: RelayEvent): boolean =>
    event.type === "cluster_connected" && event.reconnect === reconnect;
