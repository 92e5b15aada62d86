/**
 * A stand-in for another relay node, for the slow-consumer test: publishes version 1 batches
 * to a NATS subject as fast as it can (200 batches of 1,000 messages of 100 B), prints
 * `flooding` before and `total N` after, then one more 1-message batch every 100 ms until
 * it is killed. Usage: bun run flood-node.ts NATS_URL SUBJECT
 */
import { connect } from "@nats-io/transport-node";
import { HEADER_BYTES, parseNodeId, writeHeader } from "../../src/cluster/wire.ts";
import { encodeSubmit } from "../../src/protocol/frame-codec.ts";

const [url, subject] = process.argv.slice(2) as [string, string];
const nc = await connect({ servers: url.replace("nats://", "") });
const nodeId = parseNodeId("f100d00000000001");
const frame = encodeSubmit("00000001", "x".repeat(100));

function batch(before: number, count: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + count * frame.length);
  for (let i = 0; i < count; i++) out.set(frame, HEADER_BYTES + i * frame.length);
  writeHeader(out, nodeId, before, count);
  return out;
}

let sent = 0;
process.stdout.write("flooding\n");
for (let i = 0; i < 200; i++) {
  nc.publish(subject, batch(sent, 1000));
  sent += 1000;
  if (i % 10 === 9) await nc.flush();
}
await nc.flush();
process.stdout.write(`total ${sent}\n`);
setInterval(() => {
  nc.publish(subject, batch(sent, 1));
  sent += 1;
}, 100);
