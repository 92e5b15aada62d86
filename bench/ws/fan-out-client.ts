/**
 * The load of the WebSocket fan-out bench (issue 22), the same for every server: one
 * publisher over TCP NATS (`PUB bench 80`) and SUBSCRIBERS WebSocket subscribers (Bun's
 * WebSocket client, raw NATS protocol, `SUB bench 1`). Each subscriber counts only bytes:
 * every delivery is the same `MSG bench 1 80\r\n` + 80 B + CRLF (98 B), so bytes / 98 is
 * the message count and the client spends almost nothing per message.
 *
 * Windowed: the publisher stays at most WINDOW messages ahead of the slowest subscriber, so
 * neither server is pushed into its slow-consumer policy and the figure is the fan-out rate
 * each sustains. Prints one JSON line: deliveries/s over the measured window, and the
 * client's own CPU (to show it was not the limit).
 *
 * Usage: bun run bench/ws/fan-out-client.ts NATS_PORT WS_PORT [SECONDS] [SUBSCRIBERS]
 */
import { encodePubFrame, NATS_CONNECT, NATS_SUB, pubFrameLength, pubHeader } from "../lib/nats.ts";

const MSG_SIZE = 80;
/** `MSG bench 1 80\r\n` (16 B) + payload + CRLF. */
const DELIVERY_BYTES = 16 + MSG_SIZE + 2;
const WINDOW = Number(process.env.WS_BENCH_WINDOW ?? 20_000);
/** Messages per publisher write. */
const CHUNK = 512;
const WARMUP_MS = 1000;

const [natsPort, wsPort, seconds = "5", count = "100"] = process.argv.slice(2);
const subscribers = Number(count);
const measureMs = Number(seconds) * 1000;

const received = new Float64Array(subscribers);
const encoder = new TextEncoder();
const setup = new Uint8Array([...NATS_CONNECT, ...NATS_SUB, ...encoder.encode("PING\r\n")]);

/** Opens one subscriber; resolves once its SUB is in force (its PONG came). */
function subscribe(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`);
    ws.binaryType = "arraybuffer";
    let ready = false;
    ws.onopen = () => ws.send(setup);
    ws.onerror = () => reject(new Error(`subscriber ${index}: WebSocket error`));
    ws.onmessage = (event) => {
      const data = event.data as ArrayBuffer;
      if (ready) {
        received[index] = (received[index] as number) + data.byteLength;
        return;
      }
      if (new TextDecoder().decode(data).includes("PONG")) {
        ready = true;
        resolve();
      }
    };
  });
}

await Promise.all(Array.from({ length: subscribers }, (_, i) => subscribe(i)));

// The publisher: pre-encoded chunks of PUBs, written as the window allows.
const header = pubHeader(MSG_SIZE);
const frame = pubFrameLength(header, MSG_SIZE);
const chunk = new Uint8Array(frame * CHUNK);
for (let i = 0, at = 0; i < CHUNK; i++) at = encodePubFrame(chunk, at, header, 1, i, 0, MSG_SIZE);
let published = 0;
let blocked = false;
const publisher = await Bun.connect({
  hostname: "127.0.0.1",
  port: Number(natsPort),
  socket: {
    data() {},
    drain() {
      blocked = false;
      pump();
    },
  },
});
publisher.write(NATS_CONNECT);

let pending = new Uint8Array(0);
function slowest(): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < subscribers; i++) min = Math.min(min, received[i] as number);
  return min / DELIVERY_BYTES;
}

let running = true;
function pump(): void {
  while (running && !blocked) {
    if (pending.length > 0) {
      const written = publisher.write(pending, 0, pending.length);
      pending = pending.subarray(Math.max(0, written));
      if (pending.length > 0) {
        blocked = true;
        return;
      }
      continue;
    }
    if (published - slowest() > WINDOW) return; // the next delivery calls again
    published += CHUNK;
    pending = chunk;
  }
}
// Subscribers' progress opens the window: poll it on every turn that has input.
const timer = setInterval(pump, 1);
pump();

await Bun.sleep(WARMUP_MS);
const total = () => received.reduce((sum, bytes) => sum + bytes, 0) / DELIVERY_BYTES;
const cpuStart = process.cpuUsage();
const startAt = performance.now();
const startCount = total();
await Bun.sleep(measureMs);
const endCount = total();
const elapsed = (performance.now() - startAt) / 1000;
const cpu = process.cpuUsage(cpuStart);
running = false;
clearInterval(timer);
console.log(
  JSON.stringify({
    deliveriesPerSec: (endCount - startCount) / elapsed,
    clientCpuPct: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
    subscribers,
  }),
);
process.exit(0);
