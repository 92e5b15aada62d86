/**
 * The relay's inbound hot path: src/protocol/line-splitter.ts cutting a
 * publisher's stream into messages, and the two ways it can count a run of
 * whole lines (one indexOf per line; one WebAssembly SIMD pass). 819 messages
 * per 64 KiB chunk.
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { LineSplitter, type SegmentSink } from "../../src/protocol/line-splitter.ts";
import { countNewlines, countNewlinesByIndexOf } from "../../src/protocol/newline-count.ts";
import { CRLF_LINES_64K, MESSAGES_PER_64K, SEGMENTS_1460, WHOLE_LINES_64K } from "./fixtures.ts";

const counting: SegmentSink & { bytes: number } = {
  bytes: 0,
  segment(_bytes, start, end) {
    this.bytes += end - start;
  },
};

group(`line splitting: 64 KiB read, ${MESSAGES_PER_64K} x 80 B messages`, () => {
  summary(() => {
    bench("count newlines: indexOf(10) per line", () => {
      do_not_optimize(countNewlinesByIndexOf(WHOLE_LINES_64K, 0, WHOLE_LINES_64K.length));
    });
    bench("count newlines: WebAssembly SIMD (the relay's)", () => {
      do_not_optimize(countNewlines(WHOLE_LINES_64K, 0, WHOLE_LINES_64K.length));
    });
    bench("LineSplitter.push, whole lines (one zero-copy segment)", () => {
      const splitter = new LineSplitter(1 << 20);
      do_not_optimize(splitter.push(WHOLE_LINES_64K, counting));
    });
    bench("LineSplitter.push, same bytes as 1460 B segments (carry-over)", () => {
      const splitter = new LineSplitter(1 << 20);
      let messages = 0;
      for (const piece of SEGMENTS_1460) messages += splitter.push(piece, counting);
      do_not_optimize(messages);
    });
    bench("LineSplitter.push, \\r\\n lines (one segment per line)", () => {
      const splitter = new LineSplitter(1 << 20);
      do_not_optimize(splitter.push(CRLF_LINES_64K, counting));
    });
  });
});

const ONE_MESSAGE = new Uint8Array(80).fill(0x61);
ONE_MESSAGE[79] = 10;

group("line splitting: one 80 B message per read (one message per publisher write)", () => {
  const splitter = new LineSplitter(1 << 20);
  bench("LineSplitter.push, one message", () => {
    do_not_optimize(splitter.push(ONE_MESSAGE, counting));
  });
});
