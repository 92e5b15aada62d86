/**
 * The writer (writer.ts, outbox.ts) over a scripted transport, byte for byte: one transport
 * write per event-loop turn for many streams, control frames first, frames capped at
 * maxFrameSize, round robin between streams, a short write's tail kept for drain, write()
 * Promises settled only when their bytes are taken.
 */
import { describe, expect, test } from "bun:test";
import { MuxErrorCode, Session } from "../../src/mux/index.ts";
import { encodeFin, encodePsh, encodeSyn, encodeUpd } from "../../src/protocol/smux-frame.ts";
import { bytes, cleanupAfterEach, concat, ScriptedTransport, stateOf, toHex } from "./support.ts";

cleanupAfterEach();

const QUIET = { keepAliveDisabled: true } as const;

function scripted(version: 1 | 2, extra: object = {}) {
  const transport = new ScriptedTransport();
  const session = Session.client(transport, { ...QUIET, version, ...extra });
  return { transport, session };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("batching", () => {
  test("three streams' SYNs and writes of one turn leave in one write, SYNs first", async () => {
    const { transport, session } = scripted(1);
    const streams = [session.open(), session.open(), session.open()];
    const writes = streams.map((stream, i) => stream.write(bytes("abc".charAt(i))));
    expect(transport.writes.length).toBe(0);
    await Promise.all(writes);
    expect(transport.writes.length).toBe(1);
    expect(toHex(transport.all())).toBe(
      toHex(
        concat([
          encodeSyn(1, 3),
          encodeSyn(1, 5),
          encodeSyn(1, 7),
          encodePsh(1, 3, bytes("a")),
          encodePsh(1, 5, bytes("b")),
          encodePsh(1, 7, bytes("c")),
        ]),
      ),
    );
    expect(session.counters.framesOut).toBe(6);
    expect(session.counters.transportWrites).toBe(1);
  });

  test("data frames are capped at maxFrameSize, as Go splits them", async () => {
    const { transport, session } = scripted(2, { maxFrameSize: 4 });
    const stream = session.open();
    await stream.write(bytes("hello world"));
    // Debian Go smux 1.5.16 with MaxFrameSize 4 (recorded in test/protocol/smux-frame.test.ts).
    expect(toHex(transport.all())).toBe(
      `0200000003000000${"020204000300000068656c6c02020400030000006f20776f0202030003000000726c64"}`,
    );
  });

  test("streams take turns, one frame each", async () => {
    const { transport, session } = scripted(1, { maxFrameSize: 2 });
    const a = session.open();
    const b = session.open();
    await Promise.all([a.write(bytes("aaaa")), b.write(bytes("bbbbbb"))]);
    expect(toHex(transport.all())).toBe(
      toHex(
        concat([
          encodeSyn(1, 3),
          encodeSyn(1, 5),
          encodePsh(1, 3, bytes("aa")),
          encodePsh(1, 5, bytes("bb")),
          encodePsh(1, 3, bytes("aa")),
          encodePsh(1, 5, bytes("bb")),
          encodePsh(1, 5, bytes("bb")),
        ]),
      ),
    );
  });

  test("consecutive small writes of a stream share a frame", async () => {
    const { transport, session } = scripted(1);
    const stream = session.open();
    await Promise.all([stream.write(bytes("ab")), stream.write(bytes("cd"))]);
    expect(toHex(transport.all())).toBe(
      toHex(concat([encodeSyn(1, 3), encodePsh(1, 3, bytes("abcd"))])),
    );
  });

  test("more than 64 KiB queued is flushed before the turn ends", () => {
    const { transport, session } = scripted(1);
    const stream = session.open();
    stream.write(new Uint8Array(70_000));
    // Synchronously: a 16 KiB batch, then the rest in one grown to 256 KiB.
    expect(transport.writes.map((write) => write.length)).toEqual([
      16_384,
      8 + 70_000 + 3 * 8 - 16_384,
    ]);
  });

  test("FIN follows the stream's own queued data", async () => {
    const { transport, session } = scripted(1, { maxFrameSize: 3 });
    const stream = session.open();
    const written = stream.write(bytes("12345"));
    stream.closeWrite();
    await written;
    await turn();
    expect(toHex(transport.all())).toBe(
      toHex(
        concat([
          encodeSyn(1, 3),
          encodePsh(1, 3, bytes("123")),
          encodePsh(1, 3, bytes("45")),
          encodeFin(1, 3),
        ]),
      ),
    );
  });
});

describe("short writes", () => {
  test("the tail is kept, sent on drain, and write() resolves only then", async () => {
    const { transport, session } = scripted(1);
    const stream = session.open();
    transport.accept = () => 5;
    const written = stream.write(bytes("hello"));
    await turn();
    expect(transport.all().length).toBe(5);
    transport.accept = () => 0;
    session.onDrain(); // spurious or early: nothing taken, nothing lost
    expect(await stateOf(written)).toBe("pending");
    transport.accept = (length) => length;
    session.onDrain();
    expect(await stateOf(written)).toBe("resolved");
    expect(toHex(transport.all())).toBe(
      toHex(concat([encodeSyn(1, 3), encodePsh(1, 3, bytes("hello"))])),
    );
    session.onDrain(); // spurious drain with nothing queued
    expect(transport.writes.length).toBe(2);
  });

  test("control frames queued during a short write go before other streams' data", async () => {
    const { transport, session } = scripted(1);
    const a = session.open();
    const b = session.open();
    await turn();
    transport.accept = () => 3;
    const first = a.write(bytes("first"));
    await turn();
    // While the tail waits: b half-closes (control) and a writes more (data).
    b.closeWrite();
    const second = a.write(bytes("second"));
    transport.accept = (length) => length;
    session.onDrain();
    await Promise.all([first, second]);
    expect(toHex(transport.all())).toBe(
      toHex(
        concat([
          encodeSyn(1, 3),
          encodeSyn(1, 5),
          encodePsh(1, 3, bytes("first")),
          encodeFin(1, 5),
          encodePsh(1, 3, bytes("second")),
        ]),
      ),
    );
  });

  test("a closed transport (-1) closes the session and rejects the writes", async () => {
    const { transport, session } = scripted(1);
    const stream = session.open();
    transport.accept = () => -1;
    const written = stream.write(bytes("x"));
    const cause = await session.closed;
    expect(cause.code).toBe(MuxErrorCode.TransportClosed);
    await expect(written).rejects.toBe(cause);
  });
});

describe("v2 window updates", () => {
  test("the first read sends UPD(consumed, maxStreamBuffer), as Go: 02 04 08 00 ...", async () => {
    const { transport, session } = scripted(2);
    const stream = session.open();
    await turn();
    session.onData(encodePsh(2, 3, bytes("hi")));
    const chunks: string[] = [];
    stream.onData((chunk) => chunks.push(new TextDecoder().decode(chunk)));
    await turn();
    expect(chunks).toEqual(["hi"]);
    // Debian Go smux 1.5.16: the server's UPD after reading "hi".
    expect(toHex(transport.writes[1] as Uint8Array)).toBe("02040800030000000200000000000100");
    expect(toHex(transport.writes[1] as Uint8Array)).toBe(toHex(encodeUpd(3, 2, 65536)));
  });

  test("then one UPD each time maxStreamBuffer/2 more bytes are read", async () => {
    const { transport, session } = scripted(2, { maxStreamBuffer: 1000, maxReceiveBuffer: 4000 });
    const stream = session.open();
    stream.onData(() => {});
    session.onData(encodePsh(2, 3, new Uint8Array(10)));
    await turn();
    session.onData(encodePsh(2, 3, new Uint8Array(499)));
    await turn();
    expect(stream.counters.updatesSent).toBe(1);
    session.onData(encodePsh(2, 3, new Uint8Array(1)));
    // The UPD the 500th byte owes is built at flush time, with the count of that moment.
    session.onData(encodePsh(2, 3, new Uint8Array(7)));
    await turn();
    expect(stream.counters.updatesSent).toBe(2);
    const all = toHex(transport.all());
    expect(all.endsWith(toHex(encodeUpd(3, 517, 1000)))).toBe(true);
    expect(all).toContain(toHex(encodeUpd(3, 10, 1000)));
  });
});
