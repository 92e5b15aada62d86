/**
 * The bench client's own hot paths, to show it is not what limits a run:
 * building a batch of messages (publisher) and reading the three leading
 * fields of each line (subscriber).
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { decodeLine, encodeMessage } from "../lib/message.ts";
import { MESSAGES_PER_64K, WHOLE_LINES_64K } from "./fixtures.ts";

const batch = new Uint8Array(64 * 1024 + 1024);

group(`bench client codec, ${MESSAGES_PER_64K} x 80 B messages`, () => {
  summary(() => {
    bench("publisher: encode a 64 KiB batch", () => {
      let at = 0;
      for (let seq = 1; seq <= MESSAGES_PER_64K; seq++)
        at = encodeMessage(batch, at, 0, seq, 1_700_000_000_000.5, 80);
      do_not_optimize(at);
    });
    bench("subscriber: split and decode a 64 KiB chunk", () => {
      let ok = 0;
      let start = 0;
      let newline = WHOLE_LINES_64K.indexOf(10);
      while (newline !== -1) {
        if (decodeLine(WHOLE_LINES_64K, start, newline)) ok++;
        start = newline + 1;
        newline = WHOLE_LINES_64K.indexOf(10, start);
      }
      do_not_optimize(ok);
    });
  });
});
