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
