/**
 * The frame protocol's hot paths (src/protocol/frame-codec.ts, issue 12), no sockets:
 * a server decoding a 64 KiB read of Submits and batching their acks, and the relay turning
 * line messages into Submit frames with relay-assigned IDs. Payloads are 80 B, as the line
 * benches' messages, so a frame is 93 B and a 64 KiB read holds 704 of them.
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import {
  ACK_OK,
  AckBatch,
  FrameDecoder,
  FrameIdCounter,
  type FrameSink,
  requestFrameLength,
  writeSubmit,
} from "../../src/protocol/frame-codec.ts";

const PAYLOAD_BYTES = 80;
const FRAME_BYTES = requestFrameLength(PAYLOAD_BYTES);
const FRAMES_PER_64K = Math.floor((64 * 1024) / FRAME_BYTES);
const PAYLOAD = new Uint8Array(PAYLOAD_BYTES).fill(0x61);

/** A 64 KiB read of whole Submit frames, IDs 00000001 on. */
const SUBMITS_64K = (() => {
  const out = new Uint8Array(FRAMES_PER_64K * FRAME_BYTES);
  const ids = new FrameIdCounter();
  const id = new Uint8Array(8);
  let at = 0;
  for (let i = 0; i < FRAMES_PER_64K; i++) {
    ids.write(id, 0);
    at = writeSubmit(out, at, id, 0, PAYLOAD);
  }
  return out;
})();

/** The same bytes cut into 1460-byte pieces (one TCP segment each): frames straddle chunks. */
const SEGMENTS_1460: Uint8Array[] = [];
for (let at = 0; at < SUBMITS_64K.length; at += 1460) {
  SEGMENTS_1460.push(SUBMITS_64K.slice(at, Math.min(at + 1460, SUBMITS_64K.length)));
}

const ONE_SUBMIT = SUBMITS_64K.slice(0, FRAME_BYTES);

const acks = new AckBatch("spec");
let submittedBytes = 0;

/** A server-side sink that hands each Submit to `onSubmit` and ignores the rest. */
function submitSink(onSubmit: FrameSink["submit"]): FrameSink {
  return { submit: onSubmit, conn() {}, connAck() {}, submitAck() {}, error() {} };
}
/** Counts each Submit's bytes: the decoder alone. */
const counting = submitSink((_bytes, frameStart, frameEnd) => {
  submittedBytes += frameEnd - frameStart;
});
/** What the relay's sink does per Submit, minus the fan-out: count it and queue its ack. */
const acking = submitSink((bytes, frameStart, frameEnd, idStart) => {
  submittedBytes += frameEnd - frameStart;
  acks.submitAck(bytes, idStart, ACK_OK);
});

const server = () => new FrameDecoder({ codes: "spec", maxFrame: 1 << 20, acceptAcks: false });

group(`frame decoding: 64 KiB read, ${FRAMES_PER_64K} x ${FRAME_BYTES} B Submits`, () => {
  summary(() => {
    bench("FrameDecoder.push, whole frames (zero-copy views)", () => {
      do_not_optimize(server().push(SUBMITS_64K, counting));
    });
    bench("FrameDecoder.push, same bytes as 1460 B segments (copies)", () => {
      const decoder = server();
      let frames = 0;
      for (const piece of SEGMENTS_1460) frames += decoder.push(piece, counting);
      do_not_optimize(frames);
    });
    bench("FrameDecoder.push + one AckBatch per read (the server's path)", () => {
      const frames = server().push(SUBMITS_64K, acking);
      do_not_optimize(acks.view());
      acks.clear();
      do_not_optimize(frames);
    });
  });
});

group("frame decoding: one Submit per read (one per publisher write)", () => {
  const decoder = server();
  bench("FrameDecoder.push + its ack, one Submit", () => {
    do_not_optimize(decoder.push(ONE_SUBMIT, acking));
    do_not_optimize(acks.view());
    acks.clear();
  });
});

const batch = new Uint8Array(FRAMES_PER_64K * FRAME_BYTES);
const relayIds = new FrameIdCounter();
const idScratch = new Uint8Array(8);

group(`frame encoding: ${FRAMES_PER_64K} line messages -> Submit frames`, () => {
  bench("FrameIdCounter + writeSubmit into one batch", () => {
    let at = 0;
    for (let i = 0; i < FRAMES_PER_64K; i++) {
      relayIds.write(idScratch, 0);
      at = writeSubmit(batch, at, idScratch, 0, PAYLOAD);
    }
    do_not_optimize(at);
  });
});

do_not_optimize(submittedBytes);
