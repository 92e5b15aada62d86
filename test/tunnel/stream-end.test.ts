/**
 * StreamEnd, the smux stream as a pipe endpoint, over a real session pair with a recording
 * owner: backpressure and drain, chunks held back past the stream's write queue limit,
 * half-close, abort, and the session's death reported as an error close.
 */
import { describe, expect, test } from "bun:test";
import { MuxError, type Stream } from "../../src/mux/index.ts";
import type { EndOwner, Endpoint } from "../../src/pipe/endpoint.ts";
import { STREAM_HIGH_WATER, StreamEnd } from "../../src/tunnel/stream-end.ts";
import { cleanupAfterEach, readAll, sessionPair, until } from "../mux/support.ts";
import { patterned, sha256 } from "./tunnel-harness.ts";

cleanupAfterEach();

/** Records what an endpoint reports. */
class Recorder implements EndOwner {
  readonly chunks: Uint8Array[] = [];
  drains = 0;
  ended = false;
  closedWith: Error | undefined | "open" = "open";
  onData(_end: Endpoint, chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }
  onDrain(): void {
    this.drains++;
  }
  onEnd(): void {
    this.ended = true;
  }
  onClose(end: Endpoint, error: Error | undefined): void {
    end.closed = true;
    this.closedWith = error;
  }
}

/** A StreamEnd on a fresh client stream, with the server's side of it. */
async function setUp(config = {}) {
  const { client, server } = await sessionPair({ keepAliveDisabled: true, ...config });
  const accepted = server.accept();
  const end = new StreamEnd(1024 * 1024);
  const owner = new Recorder();
  end.owner = owner;
  const stream = client.open();
  end.setStream(stream, "test stream", "session 1 (test)");
  end.startReading();
  const peer: Stream = await accepted;
  return { end, owner, peer, client };
}

describe("StreamEnd", () => {
  test("v2: backlogged past the high water while the peer does not read, no write refused, all delivered in order", async () => {
    const { end, owner, peer } = await setUp({ version: 2 });
    peer.pause();
    const data = patterned(3 * 1024 * 1024);
    for (let at = 0; at < data.length; at += 512 * 1024)
      end.send(data.subarray(at, at + 512 * 1024));
    // The window (256 KiB) holds most of it back: queued in the stream up to its limit, the
    // rest waiting in the endpoint.
    expect(end.backlogged).toBe(true);
    expect(end.outboxBytes).toBeGreaterThan(STREAM_HIGH_WATER);
    // More than the stream may queue (1 MiB plus one chunk): the rest waits in the endpoint.
    expect(end.outboxBytes).toBeGreaterThan(1.5 * 1024 * 1024);
    const received = readAll(peer);
    peer.resume();
    // As the pipe does: on each drain, flush; until flush() says the backlog is gone.
    let seen = 0;
    for (;;) {
      await until(() => owner.drains > seen, "a drain");
      seen = owner.drains;
      if (end.flush()) break;
    }
    end.shutWrite();
    expect(sha256(await received)).toBe(sha256(data));
  });

  test("the peer's FIN is onEnd, and a clean finish both ways is onClose without an error", async () => {
    const { end, owner, peer } = await setUp();
    peer.write(new TextEncoder().encode("hi"));
    peer.closeWrite();
    await until(() => owner.ended, "the end");
    expect(new TextDecoder().decode(owner.chunks[0])).toBe("hi");
    expect(owner.closedWith).toBe("open");
    end.shutWrite();
    await until(() => owner.closedWith !== "open", "the close");
    expect(owner.closedWith).toBeUndefined();
  });

  test("abort closes the stream at once (FIN to the peer) and counts the end as closed", async () => {
    const { end, peer } = await setUp();
    end.abort(true);
    expect(end.closed).toBe(true);
    expect((await readAll(peer)).length).toBe(0);
  });

  test("a session that dies is an error close naming the session", async () => {
    const { end, owner, client } = await setUp();
    client.close("gone for the test");
    await until(() => owner.closedWith !== "open", "the close");
    expect(owner.closedWith).toBeInstanceOf(MuxError);
    expect(end.describeError(owner.closedWith as Error, "upstream")).toBe(
      "tunnel session 1 (test) closed: MUX_ERR_SESSION_CLOSED gone for the test",
    );
  });
});
