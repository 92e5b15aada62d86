/**
 * The forwarders the bench compares, each started as its own process in front of one upstream
 * port: ours (with and without --pool), haproxy (TCP mode, its defaults: one process, one
 * thread per CPU), socat (a fork per connection), and no forwarder at all as the ceiling.
 * With --tls, the ones that terminate TLS instead (tlsContenders): ours with --tls-cert, and
 * haproxy with `bind … ssl crt …` at its default thread count and at one thread.
 */
import { freePort, waitUntilListening } from "../lib/pipe-bench.ts";
import type { BenchCert } from "./bench-cert.ts";

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

function ours(name: string, flags: string[]): Contender {
  return {
    name,
    start: (upstreamPort) => {
      const port = freePort();
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
          ...flags,
        ],
        port,
      );
    },
  };
}

/**
 * haproxy in TCP mode in front of the upstream; `bind` is appended to its bind line and
 * `global` goes into its global section.
 */
function haproxyContender(name: string, bind = "", global: string[] = []): Contender {
  return {
    name,
    start: async (upstreamPort) => {
      const port = freePort();
      const config = [
        "global",
        "  maxconn 8000", // haproxy needs 2 fds per connection plus some, within the fd limit of 20000
        ...global.map((line) => `  ${line}`),
        "defaults",
        "  mode tcp",
        "  timeout connect 5s",
        "  timeout client 1h",
        "  timeout server 1h",
        "frontend bench",
        `  bind 127.0.0.1:${port}${bind}`,
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
}

const haproxy = haproxyContender("haproxy");

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
  const contenders: Contender[] = [
    direct,
    ours("bun-relay forward", []),
    ours(`bun-relay forward --pool ${pool}`, ["--pool", String(pool)]),
  ];
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

/**
 * The TLS settings of the haproxy.cfg Debian ships (/etc/haproxy/haproxy.cfg, Mozilla's
 * "intermediate" profile): what a Debian user's haproxy negotiates. TLS 1.3 prefers
 * TLS_AES_128_GCM_SHA256 there, as Bun's BoringSSL does, so both sides use the same cipher.
 */
const DEBIAN_SSL_DEFAULTS = [
  "ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
  "ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
  "ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
];

/** The name of the haproxy row that the --tls table's ratios refer to. */
export const TLS_REFERENCE = "haproxy ssl (default nbthread)";

/**
 * The TLS-terminating contenders, all with `cert`: ours, and haproxy with the default thread
 * count (one per CPU the process may run on, what Debian's haproxy does without `nbthread`)
 * and with `nbthread 1` (one event loop, as ours has), when haproxy is installed.
 */
export function tlsContenders(cert: BenchCert): { contenders: Contender[]; missing: string[] } {
  const contenders = [
    ours("bun-relay forward --tls-cert", ["--tls-cert", cert.cert, "--tls-key", cert.key]),
  ];
  if (!Bun.which("haproxy")) return { contenders, missing: ["haproxy"] };
  const bind = ` ssl crt ${cert.pem}`;
  contenders.push(
    haproxyContender(TLS_REFERENCE, bind, DEBIAN_SSL_DEFAULTS),
    haproxyContender("haproxy ssl (nbthread 1)", bind, [...DEBIAN_SSL_DEFAULTS, "nbthread 1"]),
  );
  return { contenders, missing: [] };
}
