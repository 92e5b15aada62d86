/**
 * PublisherPacing's bounds follow --max-pending and --stall-timeout, at start and when a
 * SIGHUP with --config changes them (Hub.resize; the reload itself: test/cli/reload.test.ts).
 */
import { expect, test } from "bun:test";
import { Hub } from "../../src/relay/hub.ts";

const quiet = { slowConsumer() {}, dropEpisode() {}, pressure() {}, stallExpired() {} };

test("the water marks are 3/4 of --max-pending (at most 1 MiB) and a third of that", () => {
  const hub = new Hub({ maxPending: 64 * 1024, policy: "stall", stallTimeoutMs: 250 }, quiet);
  expect([hub.pacing.highWater, hub.pacing.lowWater]).toEqual([49152, 16384]);
  hub.resize(8 * 1024 * 1024, 1000);
  expect([hub.pacing.highWater, hub.pacing.lowWater]).toEqual([1048576, 349525]);
  hub.resize(4096, 1000);
  expect([hub.pacing.highWater, hub.pacing.lowWater]).toEqual([3072, 1024]);
});

test("a new policy on SIGHUP: leaving stall or block releases held publishers at once", () => {
  const pressure: boolean[] = [];
  const hub = new Hub(
    { maxPending: 4096, policy: "stall", stallTimeoutMs: 60_000 },
    { ...quiet, pressure: (held: boolean) => pressure.push(held) },
  );
  // A subscriber's pacing state only: its backlog is past the high-water mark (3072 B).
  const slow = {
    index: 0,
    backlog: { length: 4000 },
    holdingPublishers: false,
    holdingSince: 0,
    heldPublishersMs: 0,
    stallExpired: false,
  } as unknown as Parameters<typeof hub.pacing.update>[0];
  hub.pacing.update(slow);
  expect([hub.pacing.holding, pressure]).toEqual([true, [true]]);
  hub.setPolicy("block");
  expect([hub.pacing.active, hub.pacing.holding]).toEqual([true, true]);
  hub.setPolicy("drop");
  expect([hub.pacing.active, hub.pacing.holding, pressure]).toEqual([false, false, [true, false]]);
  hub.setPolicy("stall");
  expect(hub.pacing.active).toBe(true);
  hub.pacing.stop();
});
