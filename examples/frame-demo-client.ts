/**
 * Seed 003's demo client ("tcp-server-demo1/cmd/client"), rebuilt on the client SDK: 5
 * connections, each sending 10 Submits one second apart with a readable random payload, and
 * printing each SubmitAck as it comes back, in the seed's own words.
 *
 *   bun run src/main.ts --framing frame                      # the relay, in another terminal
 *   bun run examples/frame-demo-client.ts [--host H] [--port 7001] [--codes spec|article]
 *
 * The seed needed two goroutines per connection (one writing, one reading acks with a read
 * deadline); with the SDK, each publish is a promise that settles on its ack.
 *
 * Exit status: 0 when every client dialed and every Submit was acked with result 0; 1 when a
 * dial or a Submit failed (each failure is printed as it happens); 2 for a bad argument.
 */
import { parseArgs } from "node:util";
import { type ClientError, connect, type FrameCodes, type Publisher } from "bun-relay/client";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "7001" },
    codes: { type: "string", default: "spec" },
    token: { type: "string" },
    clients: { type: "string", default: "5" },
    submits: { type: "string", default: "10" },
  },
});
if (values.codes !== "spec" && values.codes !== "article") {
  console.error(`--codes must be spec or article, got ${values.codes}`);
  process.exit(2);
}
const codes: FrameCodes = values.codes;
const clients = Number(values.clients);
const submits = Number(values.submits);

// The seed's payloads come from github.com/lucasepe/codename ("firm-iron", "game-nova-3d81").
const ADJECTIVES = [
  "credible",
  "helped",
  "strong",
  "wondrous",
  "bright",
  "crucial",
  "legible",
  "settled",
];
const NOUNS = [
  "deathstrike",
  "lester",
  "timeslip",
  "expediter",
  "monster",
  "wallop",
  "shredder",
  "nova",
];
const pick = (words: readonly string[]) =>
  words[Math.floor(Math.random() * words.length)] as string;
const hex4 = () =>
  Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, "0");
const codename = () => `${pick(ADJECTIVES)}-${pick(NOUNS)}-${hex4()}`;

/** Whether every client of this run dialed and got every Submit acked. */
async function startClient(i: number): Promise<boolean> {
  let publisher: Publisher;
  try {
    publisher = await connect({
      role: "publisher",
      host: values.host,
      port: Number(values.port),
      framing: "frame",
      codes,
      token: values.token,
    });
  } catch (error) {
    console.log(`[client ${i}]: dial error: ${(error as Error).message}`);
    return false;
  }
  console.log(`[client ${i}]: dial ok`);

  let failed = 0;
  const acks: Promise<void>[] = [];
  for (let counter = 1; counter <= submits; counter++) {
    const payload = codename();
    const sent = publisher.publish(payload);
    const id = publisher.lastSubmitId ?? "(waiting)";
    console.log(
      `[client ${i}]: send submit id = ${id}, payload=${payload}, frame length = ${13 + payload.length}`,
    );
    acks.push(
      sent.then(
        () => console.log(`[client ${i}]: the result of submit ack[${id}] is 0`),
        (error: ClientError) => {
          failed++;
          console.log(`[client ${i}]: submit ${id} failed: ${error.message}`);
        },
      ),
    );
    if (counter < submits) await Bun.sleep(1000);
  }
  await Promise.all(acks);
  await publisher.close();
  if (failed === 0) console.log(`[client ${i}]: exit ok`);
  else console.log(`[client ${i}]: exit, ${failed} of ${submits} submit(s) failed`);
  return failed === 0;
}

const results = await Promise.all(Array.from({ length: clients }, (_, n) => startClient(n + 1)));
process.exitCode = results.every(Boolean) ? 0 : 1;
