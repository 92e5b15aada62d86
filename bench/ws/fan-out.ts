/**
 * Issue 22's bench: fan-out of one subject to 100 WebSocket subscribers, this relay's
 * `--ws-port` against nats-server 2.9's websocket listener, the same client
 * (fan-out-client.ts) in the same run, rounds alternating between the two. Prints each round
 * and the medians: deliveries/s, server CPU (percent of one core) and RSS, client CPU.
 *
 * Usage: bun run bench/ws/fan-out.ts [--rounds 3] [--seconds 5] [--subscribers 100]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cpuPercent, readProcSample } from "../lib/proc-stats.ts";
import { isListening, REPO_ROOT } from "../lib/relay-launcher.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    subscribers: { type: "string", default: "100" },
  },
});
const rounds = Number(values.rounds);

interface Round {
  deliveriesPerSec: number;
  serverCpuPct: number;
  serverRssMb: number;
  clientCpuPct: number;
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 200 && !(await isListening("127.0.0.1", port)); i++) await Bun.sleep(25);
}

function startServer(kind: "ours" | "nats", natsPort: number, wsPort: number) {
  if (kind === "ours") {
    return Bun.spawn(
      [
        process.execPath,
        "run",
        "src/main.ts",
        "--nats-port",
        String(natsPort),
        "--ws-port",
        String(wsPort),
        "--pub-port",
        "off",
        "--sub-port",
        "off",
        "--quiet",
        "--stats-interval",
        "0",
      ],
      { cwd: REPO_ROOT, stdout: "ignore", stderr: "inherit" },
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), "ws-bench-"));
  const conf = path.join(dir, "nats.conf");
  writeFileSync(
    conf,
    `host: 127.0.0.1\nport: ${natsPort}\nwebsocket {\n  host: 127.0.0.1\n  port: ${wsPort}\n  no_tls: true\n}\n`,
  );
  return Bun.spawn(["nats-server", "-c", conf], { stdout: "ignore", stderr: "ignore" });
}

async function runRound(kind: "ours" | "nats"): Promise<Round> {
  const natsPort = freePort();
  const wsPort = freePort();
  const server = startServer(kind, natsPort, wsPort);
  try {
    await waitListening(wsPort);
    await waitListening(natsPort);
    const client = Bun.spawn(
      [
        process.execPath,
        "run",
        path.join(import.meta.dir, "fan-out-client.ts"),
        String(natsPort),
        String(wsPort),
        String(values.seconds),
        String(values.subscribers),
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    // The server's CPU over the client's measured window (after its 1 s warm-up).
    await Bun.sleep(1000 + 1000 * 0.1);
    const from = readProcSample(server.pid, Date.now());
    const output = await new Response(client.stdout).text();
    const to = readProcSample(server.pid, Date.now());
    const result = JSON.parse(output.trim().split("\n").pop() as string);
    return {
      deliveriesPerSec: result.deliveriesPerSec,
      clientCpuPct: result.clientCpuPct,
      serverCpuPct: from && to ? cpuPercent(from, to) : Number.NaN,
      serverRssMb: to ? to.rssBytes / 1024 / 1024 : Number.NaN,
    };
  } finally {
    server.kill();
    await server.exited;
  }
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const results: Record<"ours" | "nats", Round[]> = { ours: [], nats: [] };
console.log(
  `ws fan-out: ${values.subscribers} WebSocket subscribers, 80 B, ${values.seconds} s x ${rounds} rounds, ${new Date().toISOString()}`,
);
for (let round = 1; round <= rounds; round++) {
  for (const kind of ["ours", "nats"] as const) {
    const r = await runRound(kind);
    results[kind].push(r);
    console.log(
      `round ${round} ${kind.padEnd(4)} ${(r.deliveriesPerSec / 1e6).toFixed(3)} M deliveries/s, server CPU ${r.serverCpuPct.toFixed(0)}%, RSS ${r.serverRssMb.toFixed(0)} MB, client CPU ${r.clientCpuPct.toFixed(0)}%`,
    );
  }
}
const summary = (kind: "ours" | "nats") => ({
  deliveriesPerSec: median(results[kind].map((r) => r.deliveriesPerSec)),
  serverCpuPct: median(results[kind].map((r) => r.serverCpuPct)),
  serverRssMb: median(results[kind].map((r) => r.serverRssMb)),
  clientCpuPct: median(results[kind].map((r) => r.clientCpuPct)),
});
const ours = summary("ours");
const nats = summary("nats");
console.log(`median ours ${JSON.stringify(ours)}`);
console.log(`median nats ${JSON.stringify(nats)}`);
console.log(`ratio ours/nats ${(ours.deliveriesPerSec / nats.deliveriesPerSec).toFixed(2)}x`);
