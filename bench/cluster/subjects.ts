/**
 * Cross-node fan-out with NATS subjects against today's single-stream backplane (issue 21),
 * same machine, same run, same native client (bench/native/sat_client.c):
 *
 * - stream: a line publisher on node A's 7001-style port, 3 line subscribers on node B; the
 *   messages cross as the stream channel's batches (src/cluster/outbound.ts).
 * - subjects: a NATS publisher on A's NATS port (`PUB b 80`), 3 NATS subscribers of `b` on
 *   B's; the messages cross as the subject channel's batches (src/cluster/subject-link.ts).
 *
 * One nats-server 2.9 and two relays are started here (ephemeral ports); the two scenarios
 * alternate for --rounds rounds. Prints each round and the medians of delivered msg/s.
 *
 *   bun run bench/cluster/subjects.ts [--rounds 3] [--duration 5] [--msg-size 80]
 */
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    "msg-size": { type: "string", default: "80" },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const msgSize = Number(values["msg-size"]);
const say = (line: string) => process.stderr.write(`${line}\n`);

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(25);
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

const natsBin = Bun.which("nats-server") ?? "/usr/sbin/nats-server";
const natsPort = freePort();
const children: Subprocess[] = [];
children.push(
  Bun.spawn([natsBin, "-a", "127.0.0.1", "-p", String(natsPort)], { stderr: "ignore" }),
);
await waitForPort(natsPort);

interface Node {
  pub: number;
  sub: number;
  nats: number;
}
const nodes: Node[] = [0, 1].map(() => ({ pub: freePort(), sub: freePort(), nats: freePort() }));
for (const node of nodes) {
  const args = [
    "bun",
    "src/main.ts",
    String(node.pub),
    String(node.sub),
    "--host",
    "127.0.0.1",
    "--nats-port",
    String(node.nats),
    "--cluster",
    `nats://127.0.0.1:${natsPort}`,
    "--cluster-subject",
    "subjects-bench",
    "--quiet",
    "--stats-interval",
    "0",
  ];
  children.push(Bun.spawn(args, { stdout: "ignore", stderr: "inherit" }));
}
for (const node of nodes) await waitForPort(node.nats);
await Bun.sleep(500); // both nodes joined and heard each other

const [a, b] = nodes as [Node, Node];
async function run(protocol: "line" | "nats"): Promise<number> {
  const [pub, sub] = protocol === "line" ? [a.pub, b.sub] : [a.nats, b.nats];
  const args = [
    "bun",
    "bench/native/main.ts",
    "--protocol",
    protocol,
    "--rate",
    "0",
    "--pub",
    "1",
    "--sub",
    "3",
    "--msg-size",
    String(msgSize),
    "--duration",
    String(duration),
    "--pub-port",
    String(pub),
    "--sub-port",
    String(sub),
    "--no-spawn",
    "--allow-loss",
    "--json",
  ];
  const child = Bun.spawn(args, { stdout: "pipe", stderr: "ignore" });
  const text = await new Response(child.stdout).text();
  await child.exited;
  const result = JSON.parse(text) as { receivedRate: number; lost: number };
  return result.receivedRate;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const figures = { line: [] as number[], nats: [] as number[] };
try {
  for (let round = 1; round <= rounds; round++) {
    for (const protocol of ["line", "nats"] as const) {
      const rate = await run(protocol);
      figures[protocol].push(rate);
      say(
        `round ${round} ${protocol === "line" ? "stream  " : "subjects"} A -> B 1 -> 3: ${Math.round(rate).toLocaleString("en-US")} msg/s`,
      );
    }
  }
  const stream = median(figures.line);
  const subjects = median(figures.nats);
  console.log(
    JSON.stringify({
      stream: Math.round(stream),
      subjects: Math.round(subjects),
      ratio: +(subjects / stream).toFixed(2),
    }),
  );
} finally {
  for (const child of children) child.kill();
}
