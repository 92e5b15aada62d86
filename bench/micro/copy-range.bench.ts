/**
 * Copying a small payload out of a read chunk into an output buffer, the shared runs' inner
 * step (src/relay/shared-run.ts SharedRuns.append): a `subarray` view plus `set`, against
 * `Buffer.prototype.copy`, which takes the range itself and makes no view. 80 B payloads at
 * 92-byte strides, as `PUB foo 80` messages lie in a read.
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { copyRange } from "../../src/util/copy-range.ts";

const SOURCE = new Uint8Array(512 * 1024).map((_, i) => i & 0xff);
const TARGET = new Uint8Array(1024 * 1024);
const PAYLOAD = 80;
const STRIDE = 92;
const COPIES = 5000;

group(`copy ${COPIES} payloads of ${PAYLOAD} B`, () => {
  summary(() => {
    bench("subarray + set", () => {
      for (let k = 0; k < COPIES; k++) {
        const at = k * STRIDE;
        TARGET.set(SOURCE.subarray(at, at + PAYLOAD), at);
      }
      do_not_optimize(TARGET);
    });
    bench("Buffer.prototype.copy (a range, no view)", () => {
      for (let k = 0; k < COPIES; k++) {
        const at = k * STRIDE;
        copyRange.call(SOURCE, TARGET, at, at, at + PAYLOAD);
      }
      do_not_optimize(TARGET);
    });
  });
});
