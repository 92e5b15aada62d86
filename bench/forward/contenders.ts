/**
 * The forwarders the bench compares, each started as its own process in front of one upstream
 * port: ours (with and without --pool), haproxy (TCP mode, its defaults: one process, one
 * thread per CPU), socat (a fork per connection), and no forwarder at all as the ceiling.
 */
import { freePort, waitUntilListening } from "../lib/pipe-bench.ts";

export interface Contender {
  name: string;
  /** Starts a forwarder to `upstreamPort`; resolves with its port and a stop function. */
  start(upstreamPort: number): Promise<{ port: number; stop: () => Promise<void> }>;
}

async function spawnForwarder(
  command: string[],
  port: number,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = Bun.spawn(command, { stdout: "ignore", stderr: "inherit" });
  await waitUntilListening(port, child, 5000);
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

const direct: Contender = {
  name: "direct (no forwarder)",
  start: async (upstreamPort) => ({ port: upstreamPort, stop: async () => {} }),
};

function ours(pool: number): Contender {
  return {
    name: pool > 0 ? `bun-relay forward --pool ${pool}` : "bun-relay forward",
    start: (upstreamPort) => {
      const port = freePort();
      const poolFlags = pool > 0 ? ["--pool", String(pool)] : [];
      return spawnForwarder(
        [
          "bun",
          "run",
          "src/main.ts",
          "forward",
          "--listen",
          `127.0.0.1:${port}`,
          "--to",
          `127.0.0.1:${upstreamPort}`,
          "--quiet",
          "--stats-interval",
          "0",
          ...poolFlags,
        ],
        port,
      );
    },
  };
}

const haproxy: Contender = {
  name: "haproxy",
  start: async (upstreamPort) => {
    const port = freePort();
    const config = [
      "global",
      "  maxconn 8000", // haproxy needs 2 fds per connection plus some, within the fd limit of 20000
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 1h",
      "  timeout server 1h",
      "frontend bench",
      `  bind 127.0.0.1:${port}`,
      "  default_backend upstream",
      "backend upstream",
      `  server one 127.0.0.1:${upstreamPort}`,
      "",
    ].join("\n");
    const path = `/tmp/bench-forward-haproxy-${process.pid}-${port}.cfg`;
    await Bun.write(path, config);
    return spawnForwarder(["haproxy", "-f", path, "-db"], port);
  },
};

const socat: Contender = {
  name: "socat",
  start: (upstreamPort) => {
    const port = freePort();
    return spawnForwarder(
      // -t 60: after one side's EOF, wait up to 60 s for the other (the default 0.5 s cuts off
      // the sink's reply when 32 streams share two cores).
      [
        "socat",
        "-t",
        "60",
        `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
        `TCP:127.0.0.1:${upstreamPort}`,
      ],
      port,
    );
  },
};

/** Every contender whose program is installed, with the names of the missing ones. */
export function availableContenders(pool: number): { contenders: Contender[]; missing: string[] } {
  const contenders: Contender[] = [direct, ours(0), ours(pool)];
  const missing: string[] = [];
  for (const [program, contender] of [
    ["haproxy", haproxy],
    ["socat", socat],
  ] as const) {
    if (Bun.which(program)) contenders.push(contender);
    else missing.push(program);
  }
  return { contenders, missing };
}
