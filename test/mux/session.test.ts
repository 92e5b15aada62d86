/**
 * Ours with ours over real sockets, v1 and v2: open/accept/echo, 100 streams x 100 KB, FIN
 * half-close both ways, close semantics and the causes every pending operation gets.
 */
import { describe, expect, test } from "bun:test";
import { MuxErrorCode, Session, type Stream } from "../../src/mux/index.ts";
import { encodeSyn } from "../../src/protocol/smux-frame.ts";
import {
  bytes,
  cleanupAfterEach,
  concat,
  decoder,
  echo,
  randomBytes,
  readAll,
  ScriptedTransport,
  sessionPair,
  sha256,
  stateOf,
  until,
  writeAll,
} from "./support.ts";

cleanupAfterEach();

describe.each([1, 2] as const)("smux v%d, ours with ours", (version) => {
  test("open, accept and echo: IDs 3 and 2, bytes back as sent", async () => {
    const { client, server } = await sessionPair({ version });
    const accepted = server.accept();
    const stream = client.open();
    expect(stream.id).toBe(3);
    await stream.write(bytes("hello, smux"));
    const peer = await accepted;
    expect(peer.id).toBe(3);
    echo(peer);
    stream.closeWrite();
    expect(decoder.decode(await readAll(stream))).toBe("hello, smux");

    // The server side opens even IDs.
    const fromServer = server.open();
    expect(fromServer.id).toBe(2);
    const atClient = await client.accept();
    expect(atClient.id).toBe(2);
    expect(client.counters.streamsOpened).toBe(1);
    expect(client.counters.streamsAccepted).toBe(1);
    expect(server.counters.streamsAccepted).toBe(1);
  });

  test("100 streams x 100 KB echoed, SHA-256 equal", async () => {
    const { client, server } = await sessionPair({ version });
    server.onStream = echo;
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const stream = client.open();
        const data = randomBytes(100_000);
        const back = readAll(stream);
        await writeAll(stream, data);
        stream.closeWrite();
        return { sent: sha256(data), got: sha256(await back), stream };
      }),
    );
    for (const { sent, got } of results) expect(got).toBe(sent);
    // Every stream finished both ways and left both tables.
    await Promise.all(results.map(({ stream }) => stream.closed));
    expect(client.numStreams).toBe(0);
    expect(client.counters.streamsClosed).toBe(100);
    expect(client.counters.dataBytesOut).toBe(10_000_000);
    expect(client.counters.dataBytesIn).toBe(10_000_000);
    expect(client.counters.framesIgnored).toBe(0);
  });

  test("FIN half-closes one way at a time, both ways", async () => {
    const { client, server } = await sessionPair({ version });
    const accepted = server.accept();
    const stream = client.open();
    const request = randomBytes(300_000);
    // The server reads the whole request and its end, then answers on the same stream. It
    // reads while the client writes: in v2 a writer stops at the window until the peer reads.
    const got = accepted.then(readAll);
    await writeAll(stream, request);
    stream.closeWrite();
    await expect(stream.write(bytes("late"))).rejects.toMatchObject({
      code: MuxErrorCode.StreamClosed,
    });
    expect(sha256(await got)).toBe(sha256(request));
    const peer = await accepted;
    const response = randomBytes(500_000);
    const back = readAll(stream);
    await writeAll(peer, response);
    expect(peer.isClosed).toBe(false);
    peer.closeWrite();
    expect(sha256(await back)).toBe(sha256(response));
    expect(await stream.closed).toBeUndefined();
    expect(await peer.closed).toBeUndefined();
  });

  test("the server half-closes first and keeps reading", async () => {
    const { client, server } = await sessionPair({ version });
    const stream = client.open();
    await stream.write(bytes("x"));
    const peer = await server.accept();
    await peer.write(bytes("bye"));
    peer.closeWrite();
    const chunks: Uint8Array[] = [];
    let ended = false;
    await new Promise<void>((resolve) =>
      stream.onData(
        (chunk) => chunks.push(chunk),
        () => {
          ended = true;
          resolve();
        },
      ),
    );
    expect(decoder.decode(concat(chunks))).toBe("bye");
    expect(ended).toBe(true);
    // Still writable after the peer's FIN.
    const more = randomBytes(200_000);
    const arrived = readAll(peer);
    await writeAll(stream, more);
    stream.closeWrite();
    expect(sha256(await arrived)).toBe(sha256(concat([bytes("x"), more])));
  });

  test("close() sends FIN after queued bytes and drops later input", async () => {
    const { client, server } = await sessionPair({ version });
    const stream = client.open();
    const data = randomBytes(100_000);
    const written = stream.write(data);
    stream.close();
    await written;
    const peer = await server.accept();
    expect(sha256(await readAll(peer))).toBe(sha256(data));
    // The client forgot the stream: the server's data for it is ignored, uncharged.
    const budget = client.receiveBudget;
    await peer.write(bytes("nobody reads this"));
    peer.closeWrite();
    // Its PSH and FIN reach a client that has forgotten stream 3.
    await until(() => client.counters.framesIgnored === 2, "the PSH and FIN ignored");
    expect(client.receiveBudget).toBe(budget);
    expect(stream.bufferedBytes).toBe(0);
  });

  test("closing the session settles every pending operation with one cause", async () => {
    const { client, server } = await sessionPair({ version });
    const stream = client.open();
    await stream.write(bytes("a"));
    const peer: Stream = await server.accept();
    const pendingAccept = client.accept();
    const reading = readAll(stream);
    const onClose: unknown[] = [];
    client.closed.then((cause) => onClose.push(cause));
    client.close("done here");
    const cause = await client.closed;
    expect(cause.code).toBe(MuxErrorCode.SessionClosed);
    expect(cause.reason).toBe("done here");
    expect(client.cause).toBe(cause);
    await expect(pendingAccept).rejects.toBe(cause);
    await expect(reading).rejects.toBe(cause);
    await expect(stream.write(bytes("b"))).rejects.toBe(cause);
    expect(() => client.open()).toThrow(cause);
    expect(await stream.closed).toBe(cause);
    // The server sees its transport close.
    const serverCause = await server.closed;
    expect(serverCause.code).toBe(MuxErrorCode.TransportClosed);
    expect(await stateOf(peer.closed)).toBe("resolved");
    expect(onClose).toEqual([cause]);
  });
});

describe("limits and readers", () => {
  test("a write() made while the queue is at its limit is rejected", async () => {
    const { client } = await sessionPair({ version: 2, maxStreamWriteQueue: 1000 });
    const stream = client.open();
    // The initial v2 window is 262144: the rest waits in the queue, nobody reads.
    const first = stream.write(new Uint8Array(262_144 + 1000));
    await expect(stream.write(bytes("more"))).rejects.toMatchObject({
      code: MuxErrorCode.WriteQueueFull,
      streamId: 3,
    });
    expect(await stateOf(first)).toBe("pending");
  });

  test("onData with pause and resume, then async iteration of the rest", async () => {
    const { client, server } = await sessionPair({ version: 1 });
    const stream = client.open();
    const accepted = server.accept();
    for (const word of ["one", "two", "three"]) await stream.write(bytes(word));
    const peer = await accepted;
    await until(() => peer.bufferedBytes === 11, "three chunks waiting");
    const seen: string[] = [];
    peer.onData((chunk) => {
      seen.push(decoder.decode(chunk));
      peer.pause();
    });
    expect(seen).toEqual(["one"]);
    peer.resume();
    expect(seen).toEqual(["one", "two"]);
    expect(peer.bufferedBytes).toBe(5);
    await stream.write(bytes("four"));
    stream.closeWrite();
    const rest = decoder.decode(await readAll(peer));
    expect(seen.join("") + rest).toBe("onetwothreefour");
  });

  test("an empty write sends nothing and resolves", async () => {
    const { client } = await sessionPair({ version: 1 });
    const stream = client.open();
    await stream.write(new Uint8Array(0));
    expect(stream.counters.framesOut).toBe(0);
  });

  test("1024 streams waiting for accept() stop the reading, as Go's full accept channel", async () => {
    const transport = new ScriptedTransport();
    const session = Session.server(transport, { keepAliveDisabled: true });
    session.onData(concat(Array.from({ length: 1030 }, (_, i) => encodeSyn(1, 3 + 2 * i))));
    expect(session.counters.streamsAccepted).toBe(1024);
    expect(session.readingPaused).toBe(true);
    expect(transport.paused).toBe(true);
    // One accepted: room for one more SYN, which fills the backlog again.
    expect((await session.accept()).id).toBe(3);
    expect(session.counters.streamsAccepted).toBe(1025);
    expect(session.readingPaused).toBe(true);
    const ids: number[] = [];
    session.onStream = (stream) => ids.push(stream.id);
    expect(ids.length).toBe(1029);
    expect(ids[ids.length - 1]).toBe(3 + 2 * 1029);
    expect(session.readingPaused).toBe(false);
    expect(transport.paused).toBe(false);
  });
});
