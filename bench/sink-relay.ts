/**
 * The trivial relay used to measure the bench client's own ceiling:
 *
 *   bun run bench/sink-relay.ts PUB_PORT SUB_PORT
 *   bun run bench --rate 0 --sub 3 --relay-cmd "bun run bench/sink-relay.ts {pub} {sub}"
 *
 * It does the least any line relay can: each publisher chunk is cut at its
 * last newline and those bytes go to every subscriber in one write (the tail
 * waits for the next chunk, so lines from several publishers never mix). No
 * per-message work at all. Publishers are paused while any subscriber has
 * more than HIGH_WATER bytes queued, so nothing is dropped. Whatever rate the
 * bench reaches against this is the client's limit on this machine, not a
 * relay's.
 */
import type { Socket } from "bun";

const HIGH_WATER = 4 * 1024 * 1024;

interface Outbound {
  queue: Uint8Array[];
  queued: number;
}

const [pubPort, subPort] = Bun.argv.slice(2).map(Number);
if (!pubPort || !subPort) {
  process.stderr.write("usage: bun run bench/sink-relay.ts PUB_PORT SUB_PORT\n");
  process.exit(2);
}

const subscribers = new Set<Socket<Outbound>>();
const publishers = new Set<Socket<{ tail: Uint8Array | undefined }>>();
let paused = false;

function flush(sub: Socket<Outbound>): void {
  const out = sub.data;
  while (out.queue.length > 0) {
    const head = out.queue[0] as Uint8Array;
    const written = sub.write(head, 0, head.length);
    if (written < 0) return;
    out.queued -= written;
    if (written < head.length) {
      out.queue[0] = head.subarray(written);
      return;
    }
    out.queue.shift();
  }
}

function updatePause(): void {
  let over = false;
  for (const sub of subscribers) if (sub.data.queued > HIGH_WATER) over = true;
  if (over === paused) return;
  paused = over;
  for (const pub of publishers) {
    if (paused) pub.pause();
    else pub.resume();
  }
}

function broadcast(bytes: Uint8Array): void {
  for (const sub of subscribers) {
    const out = sub.data;
    if (out.queue.length > 0) {
      out.queue.push(bytes);
      out.queued += bytes.length;
      continue;
    }
    const written = sub.write(bytes, 0, bytes.length);
    if (written >= 0 && written < bytes.length) {
      // Chunks are never reused by Bun, so the view can wait in the queue.
      out.queue.push(bytes.subarray(written));
      out.queued += bytes.length - written;
    }
  }
  updatePause();
}

Bun.listen<{ tail: Uint8Array | undefined }>({
  hostname: "127.0.0.1",
  port: pubPort,
  socket: {
    open(pub) {
      pub.data = { tail: undefined };
      publishers.add(pub);
      if (paused) pub.pause();
    },
    data(pub, chunk) {
      let bytes: Uint8Array = chunk;
      const tail = pub.data.tail;
      if (tail !== undefined) {
        bytes = new Uint8Array(tail.length + chunk.length);
        bytes.set(tail, 0);
        bytes.set(chunk, tail.length);
      }
      const lastNewline = bytes.lastIndexOf(10);
      pub.data.tail = lastNewline + 1 < bytes.length ? bytes.subarray(lastNewline + 1) : undefined;
      if (lastNewline >= 0) broadcast(bytes.subarray(0, lastNewline + 1));
    },
    close(pub) {
      publishers.delete(pub);
    },
  },
});

Bun.listen<Outbound>({
  hostname: "127.0.0.1",
  port: subPort,
  socket: {
    open(sub) {
      sub.data = { queue: [], queued: 0 };
      subscribers.add(sub);
    },
    data() {},
    drain(sub) {
      flush(sub);
      updatePause();
    },
    close(sub) {
      subscribers.delete(sub);
      updatePause();
    },
  },
});
