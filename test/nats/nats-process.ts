/**
 * The relay as a NATS server alone, run as users run it (`bun run src/main.ts` in a child
 * process): shared by cli.test.ts and users-file.test.ts.
 */
import { ChildLines, type relayProcesses } from "../support/child.ts";

type Spawn = ReturnType<typeof relayProcesses>;

/** Every port off but the NATS port, on an ephemeral port of 127.0.0.1. */
export const NATS_ONLY = [
  "--host",
  "127.0.0.1",
  "--pub-port",
  "off",
  "--sub-port",
  "off",
  "--nats-port",
  "0",
];

/** Starts a NATS-only relay with `args`; resolves once its port is known. */
export async function natsOnly(
  spawn: Spawn,
  args: string[],
): Promise<{
  port: number;
  lines: ChildLines;
  signal(name: "SIGHUP"): void;
  stop(): Promise<number>;
}> {
  const child = spawn([...NATS_ONLY, ...args]);
  const lines = new ChildLines(child.stdout);
  const port = Number((await lines.match(/LISTEN nats-clients on 127\.0\.0\.1:(\d+)/))[1]);
  return {
    port,
    lines,
    signal(name) {
      child.kill(name);
    },
    async stop() {
      child.kill("SIGTERM");
      return child.exited;
    },
  };
}

/** Runs the relay with `args` until it exits (a refused start); its status and stderr. */
export async function runToExit(
  spawn: Spawn,
  args: string[],
  env?: Record<string, string>,
): Promise<{ status: number; stderr: string }> {
  const child = spawn(args, env);
  const [status, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  return { status, stderr };
}
