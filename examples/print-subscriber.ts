/**
 * A subscriber that prints every message it gets: on a frame port with the frame's ID, as
 * text when the payload is printable UTF-8, else as hex. Reconnects when the relay restarts
 * (and says so); Ctrl-C closes it.
 *
 * Exit status: 0 after --count messages or Ctrl-C; 1 when connecting fails (refused, wrong
 * token, ...) or the subscriber is closed by an error (a wrong token on a reconnect, a
 * protocol error), printed as one line.
 *
 *   bun run src/main.ts --framing frame                      # the relay, in another terminal
 *   bun run examples/print-subscriber.ts [--host H] [--port 7002] [--framing frame|line]
 *                                        [--codes spec|article] [--token T] [--count N]
 */
import { parseArgs } from "node:util";
import { connect, type FrameCodes, type Framing, type Subscriber } from "bun-relay/client";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "7002" },
    framing: { type: "string", default: "frame" },
    codes: { type: "string", default: "spec" },
    token: { type: "string" },
    count: { type: "string" },
  },
});
const limit = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);

let subscriber: Subscriber;
try {
  subscriber = await connect({
    role: "subscriber",
    host: values.host,
    port: Number(values.port),
    framing: values.framing as Framing,
    codes: values.codes as FrameCodes,
    token: values.token,
  });
} catch (error) {
  console.log(`[sub]: dial error: ${(error as Error).message}`);
  process.exit(1);
}
console.log(`[sub]: subscribed to ${subscriber.peer} (${subscriber.framing})`);
subscriber.on("disconnect", ({ error }) => console.log(`[sub]: disconnected: ${error.reason}`));
subscriber.on("reconnect", ({ attempts, downtimeMs }) =>
  console.log(`[sub]: reconnected after ${attempts} attempt(s), ${downtimeMs} ms down`),
);
process.on("SIGINT", () => void subscriber.close());

const utf8 = new TextDecoder("utf-8", { fatal: true });
function show(payload: Uint8Array): string {
  try {
    const text = utf8.decode(payload);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
    if (!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return JSON.stringify(text);
  } catch {
    // not UTF-8: hex below
  }
  return `hex ${Buffer.from(payload).toString("hex")}`;
}

let received = 0;
const messages =
  subscriber.framing === "frame"
    ? subscriber.messages({ withIds: true })
    : mapLines(subscriber.messages());
try {
  for await (const { id, payload } of messages) {
    console.log(`[sub]: ${id ? `[${id}] ` : ""}${payload.length} B ${show(payload)}`);
    if (++received >= limit) break; // leaving the loop closes the subscriber
  }
} catch (error) {
  // The loop throws the ClientError that closed the subscriber, after what was queued.
  console.log(`[sub]: closed after ${received} message(s): ${(error as Error).message}`);
  process.exit(1);
}
console.log(`[sub]: done, ${received} message(s)`);

async function* mapLines(lines: AsyncIterable<Uint8Array>) {
  for await (const payload of lines) yield { id: "", payload };
}
