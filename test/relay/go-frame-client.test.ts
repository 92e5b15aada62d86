/**
 * Interop with seed 003's own demo client (../shared/peers/go-frame/cmd/client, Go): five
 * connections, Submits one second apart, every SubmitAck checked for its ID and order. It
 * expects the article's ack codes, so the relay runs with --frame-codes article (issue 12).
 */
import { expect, test } from "bun:test";
import { encodeSubmit } from "../../src/protocol/frame-codec.ts";
import { goPeer, goUnavailable } from "../support/go-peers.ts";
import { concat, relayPerTest } from "../support/harness.ts";

const start = relayPerTest();
const skip = goUnavailable();
const SUBMITS = 2;
const WORDS = ["firm-iron", "moving-colleen", "game-nova", "quiet-river", "bold-comet"];

test.skipIf(skip !== undefined)(
  `the article's Go client gets every SubmitAck in order from --frame-codes article${skip ? ` (skipped: ${skip})` : ""}`,
  async () => {
    const client = await goPeer("go-frame", "client");
    const r = start({ pubFraming: "frame", subFraming: "frame", frameCodes: "article" });
    const [subscriber] = await r.subscribers(1);
    const run = Bun.spawn(
      [client, "-addr", `127.0.0.1:${r.relay.pubPort}`, "-n", String(SUBMITS)],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [status, output] = await Promise.all([run.exited, new Response(run.stdout).text()]);
    expect(output.match(/exit ok/g)?.length).toBe(5);
    expect(output).not.toContain("missing or out of order");
    expect(status).toBe(0);
    for (let i = 1; i <= 5; i++) {
      for (let n = 1; n <= SUBMITS; n++) {
        expect(output).toContain(`[client ${i}]: the result of submit ack[0000000${n}] is 0`);
      }
    }
    // The subscriber got all ten Submits byte for byte (interleaved across the clients).
    const expected = [];
    for (let i = 1; i <= 5; i++) {
      for (let n = 1; n <= SUBMITS; n++) {
        expected.push(encodeSubmit(`0000000${n}`, WORDS[(i + n) % WORDS.length] as string));
      }
    }
    const total = concat(expected).length;
    await subscriber?.waitForBytes(total);
    expect(subscriber?.receivedBytes).toBe(total);
    expect(r.relay.totals()).toMatchObject({ submitsReceived: 10, acksOk: 10, frameErrors: 0 });
  },
  120_000,
);
