/**
 * The raw client of the protocol suite tells a clean close from a reset, and takes exact
 * bytes, messages and INFO: checked against a Bun.listen server that scripts each ending.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { RawNatsClient } from "./raw-client.ts";

/** A one-shot server: sends INFO on connect, then runs `onData` on the first bytes it gets. */
function scriptedServer(onData: (socket: Socket<undefined>) => void): TCPSocketListener<undefined> {
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.write('INFO {"server_id":"x","max_payload":8} \r\n');
      },
      data(socket) {
        onData(socket);
      },
    },
  });
}

const listeners: TCPSocketListener<undefined>[] = [];
const clients: RawNatsClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const listener of listeners.splice(0)) listener.stop(true);
});

async function clientOf(onData: (socket: Socket<undefined>) => void): Promise<RawNatsClient> {
  const listener = scriptedServer(onData);
  listeners.push(listener);
  const client = await RawNatsClient.connect(listener.port);
  clients.push(client);
  expect(await client.info()).toEqual({ server_id: "x", max_payload: 8 });
  return client;
}

describe("RawNatsClient", () => {
  test("end() after a write is a clean close (FIN): expectClosed passes", async () => {
    const client = await clientOf((socket) => {
      socket.write("-ERR 'bye'\r\n");
      socket.end();
    });
    client.send("go\r\n");
    await client.expect("-ERR 'bye'\r\n");
    await client.expectClosed();
  });

  test("terminate() is a reset (RST): expectClosed fails", async () => {
    const client = await clientOf((socket) => socket.terminate());
    client.send("go\r\n");
    expect(await client.closed()).toEqual({ kind: "reset", code: "ECONNRESET" });
    await expect(client.expectClosed()).rejects.toThrow();
  });

  test("bytes left untaken at the close fail expectClosed", async () => {
    const client = await clientOf((socket) => {
      socket.write("PONG\r\n");
      socket.end();
    });
    client.send("go\r\n");
    await expect(client.expectClosed()).rejects.toThrow();
  });

  test("expect fails on different bytes; messages parses MSG and HMSG, with and without reply", async () => {
    const client = await clientOf((socket) => {
      socket.write(
        "MSG a 1 2\r\nhi\r\nMSG a 1 r 0\r\n\r\nHMSG b 2 12 14\r\nNATS/1.0\r\n\r\nyo\r\nHMSG b 2 r 12 12\r\nNATS/1.0\r\n\r\n\r\nPONG\r\n",
      );
    });
    client.send("go\r\n");
    expect(await client.messages(4)).toEqual([
      { subject: "a", sid: "1", reply: undefined, headers: undefined, payload: "hi" },
      { subject: "a", sid: "1", reply: "r", headers: undefined, payload: "" },
      { subject: "b", sid: "2", reply: undefined, headers: "NATS/1.0\r\n\r\n", payload: "yo" },
      { subject: "b", sid: "2", reply: "r", headers: "NATS/1.0\r\n\r\n", payload: "" },
    ]);
    await expect(client.expect("PING\r\n")).rejects.toThrow();
  });
});
