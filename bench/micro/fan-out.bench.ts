/**
 * The relay's outbound hot path: src/relay/hub.ts handing one publisher chunk
 * to N subscribers (one write each), and src/relay/backlog.ts coalescing
 * what a slow socket did not take. Sockets are fakes that accept all, or half,
 * of each write, so only the relay's own work is timed.
 */
import type { Socket } from "bun";
import { bench, do_not_optimize, group, summary } from "mitata";
import { Backlog } from "../../src/relay/backlog.ts";
import { Hub, WireFormat } from "../../src/relay/hub.ts";
import { LinePublisher } from "../../src/relay/line-publisher.ts";
import { Subscriber } from "../../src/relay/subscriber.ts";
import { MESSAGES_PER_64K, SEGMENTS_1460, WHOLE_LINES_64K } from "./fixtures.ts";

function fakeSocket(accept: "all" | "half"): Socket<Subscriber> {
  const write =
    accept === "all"
      ? (_b: Uint8Array, _o: number, length: number) => length
      : (_b: Uint8Array, _o: number, length: number) => length >> 1;
  return { write } as unknown as Socket<Subscriber>;
}

function hubWith(subscribers: number, accept: "all" | "half"): Hub {
  const hub = new Hub(
    { maxPending: Number.MAX_SAFE_INTEGER, policy: "disconnect", stallTimeoutMs: 0 },
    { slowConsumer() {}, dropEpisode() {}, pressure() {}, stallExpired() {} },
  );
  for (let i = 0; i < subscribers; i++) {
    hub.add(new Subscriber(fakeSocket(accept), `fake-${i}`, WireFormat.Line));
  }
  return hub;
}

group(`fan-out of one 64 KiB chunk (${MESSAGES_PER_64K} messages)`, () => {
  summary(() => {
    for (const n of [1, 3, 16]) {
      const hub = hubWith(n, "all");
      const publisher = new LinePublisher("fake-publisher", 1 << 20);
      bench(`split + deliver to ${n} subscriber(s), sockets take everything`, () => {
        publisher.receive(WHOLE_LINES_64K, hub);
        hub.deliver();
      });
    }
    const pieces = hubWith(3, "all");
    const piecePublisher = new LinePublisher("fake-publisher", 1 << 20);
    bench("split + deliver to 3, input in 1460 B segments", () => {
      for (const piece of SEGMENTS_1460) {
        piecePublisher.receive(piece, pieces);
        pieces.deliver();
      }
    });
  });
});

group("backlog coalescing (slow subscribers)", () => {
  summary(() => {
    const hub = hubWith(3, "half");
    const publisher = new LinePublisher("fake-publisher", 1 << 20);
    bench("deliver to 3 sockets taking half, then drain each backlog", () => {
      publisher.receive(WHOLE_LINES_64K, hub);
      hub.deliver();
      for (const s of hub.subscribers) hub.flush(s);
      for (const s of hub.subscribers) s.backlog.clear();
    });
    const backlog = new Backlog();
    let budget = 0;
    const sink = {
      write: (_bytes: Uint8Array, _offset: number, length: number) => {
        const n = Math.min(length, budget);
        budget -= n;
        return n;
      },
    };
    bench("Backlog: append 16 x 4 KiB (copied) then drain in 3 partial writes", () => {
      for (let at = 0; at < 16 * 4096; at += 4096)
        backlog.append(WHOLE_LINES_64K, at, at + 4096, false);
      for (const take of [20_000, 20_000, 1 << 20]) {
        budget = take;
        backlog.writeTo(sink);
      }
      do_not_optimize(backlog.length);
    });
  });
});
