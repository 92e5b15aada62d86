/**
 * The client's transport on Bun: `Bun.connect`, whose Socket already is a ClientSocket (same
 * `write(data, offset, length)` contract, `pause`, `resume`, `end`, `terminate`). One handler
 * object serves every socket; each socket's TransportEvents ride on `socket.data` (style habit
 * 12), so nothing is allocated per read.
 *
 * Only `import type` from "bun": this file is also compiled into dist/client for Node, where
 * it is loaded but never called (transport.ts picks by `typeof Bun`).
 */
import type { SocketHandler, TLSOptions } from "bun";
import { readTls } from "./tls-options.ts";
import type { DialAttempt, DialTarget, TransportEvents } from "./transport.ts";

/** One dial's socket data: whom to tell, and whether the socket opens at its TLS handshake. */
interface BunDial {
  events: TransportEvents;
  tls: boolean;
}

const handlers: SocketHandler<BunDial> = {
  binaryType: "uint8array",
  open(socket) {
    // Over TLS the socket opens for the client at the handshake, so nothing is sent before
    // the relay's certificate was checked.
    if (!socket.data.tls) socket.data.events.open(socket);
  },
  handshake(socket, ok, error) {
    if (ok) socket.data.events.open(socket);
    else socket.data.events.handshakeFailed(socket, error ?? undefined);
  },
  data(socket, chunk) {
    socket.data.events.data(chunk);
  },
  drain(socket) {
    socket.data.events.drain();
  },
  error(socket, error) {
    socket.data.events.error(error);
  },
  close(socket, error) {
    socket.data.events.close(error ?? undefined);
  },
};

/** Dials with `Bun.connect` (transport.ts, Dial); `cancel` does nothing (see DialAttempt). */
export function dialBun(target: DialTarget, events: TransportEvents): DialAttempt {
  return { connected: connectBun(target, events), cancel() {} };
}

async function connectBun(target: DialTarget, events: TransportEvents): Promise<void> {
  const { host, port, tls } = target;
  const data: BunDial = { events, tls: tls !== undefined && tls !== false };
  // ResolvedTls is a subset of Bun's TLSOptions, field for field.
  const bunTls: boolean | TLSOptions | undefined =
    typeof tls === "object" ? await readTls(tls) : tls;
  await Bun.connect<BunDial>({ hostname: host, port, tls: bunTls, data, socket: handlers });
}
