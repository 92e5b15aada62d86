/**
 * Issue 14: relay saturation over TLS against plaintext, same client, same run.
 *
 *   bun run bench/tls-saturation.ts [--rounds 3] [--duration 5] [--shapes 1x3,4x16] [--msg-size 80]
 *
 * Starts our relay as a child process (`--quiet --stats-interval 0`, default policy), once
 * plaintext and once with `--tls-cert/--tls-key` (an EC P-256 certificate made with openssl
 * in a temporary directory), alternating, and drives it from this process with Bun sockets:
 * P publishers write 64 KiB buffers of fixed-size lines as fast as the relay takes them
 * (drain-driven), S subscribers count bytes. After a 1 s warm-up, deliveries/s = bytes all
 * subscribers received in the window / message size / seconds. The client is a Bun script
 * (the native sat_client has no TLS), so it also pays for TLS on its side, on the same 2
 * cores: the ratio is of the whole system, relay and client, not of the relay alone.
 */
import { join } from "node:path";
import type { Socket } from "bun";
import { makeBenchCert } from "./forward/bench-cert.ts";

const args = process.argv.slice(2);
function arg(name: string, fallback: string): string {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? (args[index + 1] ?? fallback) : fallback;
}
const ROUNDS = Number(arg("rounds", "3"));
const DURATION = Number(arg("duration", "5"));
const MSG = Number(arg("msg-size", "80"));
const SHAPES = arg("shapes", "1x3,4x16")
  .split(",")
  .map((shape) => shape.split("x").map(Number) as [number, number]);
const MAIN = join(import.meta.dir, "../src/main.ts");

async function startRelay(tlsArgs: string[]) {
  const prof = process.env.RELAY_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.RELAY_CPU_PROF}`]
    : [];
  const child = Bun.spawn(
    [
      "bun",
      ...prof,
      "run",
      MAIN,
      "--host",
      "127.0.0.1",
      "0",
      "0",
      "--quiet",
      "--stats-interval",
      process.env.STATS ?? "0",
      ...tlsArgs,
    ],
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const reader = child.stdout.getReader();
  let text = "";
  const ports: number[] = [];
  while (ports.length < 2) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`relay exited: ${text}`);
    text += new TextDecoder().decode(value);
    ports.length = 0;
    for (const m of text.matchAll(/LISTEN \w+ on 127\.0\.0\.1:(\d+)/g)) ports.push(Number(m[1]));
  }
  // Keep reading so the pipe never fills.
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (process.env.STATS) process.stderr.write(new TextDecoder().decode(value));
    }
  })();
  return { child, pubPort: ports[0] as number, subPort: ports[1] as number };
}

interface Result {
  msgsPerSec: number;
  cipher: string;
  /** Deliveries per CPU-second of the relay process (utime + stime over the window). */
  perRelayCpuSec: number;
  relayCpu: number;
  clientCpu: number;
}

/** utime + stime of a process, in seconds (from /proc, 100 ticks a second). */
function cpuSeconds(pid: number): number {
  const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(
  relayPid: number,
  pubPort: number,
  subPort: number,
  publishers: number,
  subscribers: number,
  ca: string | undefined,
): Promise<Result> {
  const tls = ca ? { tls: { ca, serverName: "localhost" } } : {};
  let received = 0;
  let cipher = "none (plaintext)";
  const subs: Socket[] = [];
  for (let i = 0; i < subscribers; i++) {
    let ready!: () => void;
    const handshaken = new Promise<void>((r) => (ready = r));
    subs.push(
      await Bun.connect({
        hostname: "127.0.0.1",
        port: subPort,
        ...tls,
        socket: {
          binaryType: "uint8array",
          open() {
            if (!ca) ready();
          },
          handshake(socket) {
            cipher = socket.getCipher()?.name ?? cipher;
            ready();
          },
          data(_s, chunk) {
            received += chunk.length;
          },
        },
      }),
    );
    await handshaken;
  }
  await Bun.sleep(200); // let the relay register them
  const block = new Uint8Array(64 * 1024 - ((64 * 1024) % MSG));
  for (let i = 0; i < block.length; i += MSG) {
    block.fill(0x61, i, i + MSG - 1);
    block[i + MSG - 1] = 10;
  }
  let running = true;
  const pubs: Socket<{ offset: number }>[] = [];
  const pump = (socket: Socket<{ offset: number }>) => {
    while (running) {
      const left = block.length - socket.data.offset;
      const written = socket.write(block, socket.data.offset, left);
      if (written <= 0) return;
      socket.data.offset = (socket.data.offset + written) % block.length;
      if (written < left) return;
    }
  };
  for (let i = 0; i < publishers; i++) {
    pubs.push(
      await Bun.connect<{ offset: number }>({
        hostname: "127.0.0.1",
        port: pubPort,
        data: { offset: 0 },
        ...tls,
        socket: {
          open(socket) {
            if (!ca) pump(socket);
          },
          handshake(socket) {
            pump(socket);
          },
          drain(socket) {
            pump(socket);
          },
          data() {},
        },
      }),
    );
  }
  await Bun.sleep(1000);
  const startBytes = received;
  const start = performance.now();
  const relayCpu0 = cpuSeconds(relayPid);
  const client0 = process.cpuUsage();
  await Bun.sleep(DURATION * 1000);
  const bytes = received - startBytes;
  const seconds = (performance.now() - start) / 1000;
  const relayCpu = (cpuSeconds(relayPid) - relayCpu0) / seconds;
  const client1 = process.cpuUsage(client0);
  const clientCpu = (client1.user + client1.system) / 1e6 / seconds;
  running = false;
  for (const socket of [...pubs, ...subs]) socket.terminate();
  const msgsPerSec = bytes / MSG / seconds;
  return { msgsPerSec, cipher, perRelayCpuSec: msgsPerSec / relayCpu, relayCpu, clientCpu };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number) => `${(n / 1e6).toFixed(2)} M`;

const certs = await makeBenchCert();
try {
  const caText = certs.caText;
  console.log(
    `bench/tls-saturation: ${ROUNDS} rounds, ${DURATION} s each, ${MSG} B lines, Bun ${Bun.version}`,
  );
  for (const [publishers, subscribers] of SHAPES) {
    const plain: number[] = [];
    const secure: number[] = [];
    const plainCpu: number[] = [];
    const secureCpu: number[] = [];
    /** Cores the relay and the client used in the TLS rounds. */
    const tlsRelayCores: number[] = [];
    const tlsClientCores: number[] = [];
    let cipher = "";
    for (let round = 0; round < ROUNDS; round++) {
      for (const useTls of round % 2 === 0 ? [false, true] : [true, false]) {
        const relay = await startRelay(
          useTls ? ["--tls-cert", certs.cert, "--tls-key", certs.key] : [],
        );
        const result = await measure(
          relay.child.pid,
          relay.pubPort,
          relay.subPort,
          publishers,
          subscribers,
          useTls ? caText : undefined,
        );
        relay.child.kill(process.env.RELAY_CPU_PROF ? "SIGINT" : "SIGKILL");
        await relay.child.exited;
        (useTls ? secure : plain).push(result.msgsPerSec);
        (useTls ? secureCpu : plainCpu).push(result.perRelayCpuSec);
        if (useTls) {
          cipher = result.cipher;
          tlsRelayCores.push(result.relayCpu);
          tlsClientCores.push(result.clientCpu);
        }
        console.log(
          `  ${publishers}->${subscribers} round ${round + 1} ${useTls ? "tls  " : "plain"} ${fmt(result.msgsPerSec)} deliveries/s; relay ${result.relayCpu.toFixed(2)} cores, client ${result.clientCpu.toFixed(2)} cores; ${fmt(result.perRelayCpuSec)} per relay CPU-second`,
        );
      }
    }
    const ratio = median(secure) / median(plain);
    const cpuRatio = median(secureCpu) / median(plainCpu);
    console.log(
      `${publishers}->${subscribers}: plaintext median ${fmt(median(plain))}/s, TLS median ${fmt(median(secure))}/s, ratio ${ratio.toFixed(2)} (${ratio >= 0.5 ? "PASS" : "FAIL"} >= 0.50); per relay CPU-second ${fmt(median(plainCpu))} vs ${fmt(median(secureCpu))}, ratio ${cpuRatio.toFixed(2)}; cipher ${cipher}`,
    );
    // The client shares the machine and decrypts every subscriber's stream: when it is the
    // busy one over TLS, the system ratio says more about the client than about the relay.
    const relayCores = median(tlsRelayCores);
    const clientCores = median(tlsClientCores);
    if (relayCores < 0.9 && clientCores > relayCores) {
      console.log(
        `  over TLS the relay used ${relayCores.toFixed(2)} cores and the client ${clientCores.toFixed(2)}: the client was the limit; the per relay CPU-second ratio is the relay's`,
      );
    }
  }
} finally {
  certs.remove();
}
