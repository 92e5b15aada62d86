/**
 * The kernel's limit for the bench: one raw loopback TCP stream, no relay.
 *
 *   bun run bench/loopback.ts [--duration 5] [--warmup 1] [--msg-size 80] [--json]
 *
 * A writer thread keeps one connection full with 512 KiB blocks of bench
 * messages (built once, never re-encoded); the main thread reads them and
 * counts messages exactly as the light bench subscriber does (LineCounter,
 * indexOf only). Bytes and messages received inside the window give the
 * ceiling that a relay's delivered bytes/s is compared with: a relay moves
 * every byte through the loopback at least twice (in and out).
 */

import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { LineCounter } from "./lib/light-count.ts";
import { encodeMessage } from "./lib/message.ts";

const BLOCK_BYTES = 512 * 1024;

interface WriterSetup {
  port: number;
  msgSize: number;
  stopAtMs: number;
}

if (!isMainThread) {
  const setup = workerData as WriterSetup;
  const perBlock = Math.floor(BLOCK_BYTES / setup.msgSize);
  const block = new Uint8Array(perBlock * setup.msgSize);
  let end = 0;
  for (let seq = 1; seq <= perBlock; seq++) {
    end = encodeMessage(block, end, 0, seq, Date.now(), setup.msgSize);
  }
  let offset = 0;
  const pump = (socket: { write(b: Uint8Array, o: number, l: number): number; end(): void }) => {
    while (Date.now() < setup.stopAtMs) {
      const written = socket.write(block, offset, end - offset);
      if (written <= 0) return;
      offset += written;
      if (offset < end) return; // the kernel is full; drain resumes here
      offset = 0;
    }
    socket.end();
  };
  await Bun.connect({
    hostname: "127.0.0.1",
    port: setup.port,
    socket: { open: pump, drain: pump, data() {} },
  });
  parentPort?.postMessage("connected");
} else {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      "msg-size": { type: "string", default: "80" },
      json: { type: "boolean", default: false },
    },
  });
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const msgSize = Number(values["msg-size"]);
  let bytes = 0;
  const counter = new LineCounter(1_000_000, () => {});
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_socket, chunk) {
        bytes += chunk.length;
        counter.push(chunk);
      },
    },
  });
  const startMs = Date.now();
  const worker = new Worker(import.meta.path, {
    workerData: {
      port: server.port,
      msgSize,
      stopAtMs: startMs + (warmup + duration) * 1000 + 200,
    } satisfies WriterSetup,
  });
  await Bun.sleep(warmup * 1000);
  const b0 = bytes;
  const m0 = counter.count;
  const t0 = performance.now();
  await Bun.sleep(duration * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    kind: "loopback",
    msgSize,
    windowSec: seconds,
    bytesPerSec: (bytes - b0) / seconds,
    msgsPerSec: (counter.count - m0) / seconds,
  };
  await worker.terminate();
  server.stop(true);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `raw loopback stream: ${(result.bytesPerSec / 1e9).toFixed(2)} GB/s, ` +
        `${(result.msgsPerSec / 1e6).toFixed(2)} M msgs/s of ${msgSize} B\n`,
    );
  }
  process.exit(0);
}
