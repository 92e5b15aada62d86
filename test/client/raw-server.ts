/**
 * A stand-in frame server for client tests: a real Bun.listen socket that decodes what the
 * client sends with the shared FrameDecoder and lets the test answer (or not) each Submit, so
 * tests can withhold acks, refuse a Submit, or drop the connection at a chosen moment. It
 * answers every Conn with ConnAck 0, as the relay without --token, unless `answerConn` is
 * false (a server that never answers, or a test that answers itself).
 */
import type { Socket, TCPSocketListener } from "bun";
import {
  encodeConnAck,
  encodeSubmitAck,
  FrameDecoder,
  type FrameSink,
  idText,
} from "../../src/protocol/frame-codec.ts";

export interface Received {
  kind: "conn" | "submit";
  id: string;
  body: string;
}

/** One accepted client connection. */
export class RawConnection implements FrameSink {
  readonly received: Received[] = [];
  acked = 0;
  /** The most Submits seen unacked at once. */
  maxOutstanding = 0;
  readonly closed: Promise<void>;
  resolveClosed!: () => void;
  private readonly decoder = new FrameDecoder({
    codes: "spec",
    maxFrame: 1 << 20,
    acceptAcks: false,
  });
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(
    readonly socket: Socket<RawConnection>,
    private readonly onReceive: (connection: RawConnection, received: Received) => void,
    private readonly answerConn: boolean,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  get submits(): Received[] {
    return this.received.filter((r) => r.kind === "submit");
  }

  get outstanding(): number {
    return this.submits.length - this.acked;
  }

  push(chunk: Uint8Array): void {
    this.decoder.push(chunk, this);
  }

  /** Resolves once `count` frames (Conn and Submit) have arrived. */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Answers the oldest unacked Submits, `count` of them, with `result`, in one write. */
  ackNext(count: number, result: 0 | 1 = 0): void {
    const submits = this.submits.slice(this.acked, this.acked + count);
    this.acked += submits.length;
    const frames = submits.map((s) => encodeSubmitAck(s.id, result));
    const bytes = new Uint8Array(frames.length * 14);
    for (const [i, frame] of frames.entries()) bytes.set(frame, i * 14);
    this.socket.write(bytes, 0, bytes.length);
  }

  submit(bytes: Uint8Array, _s: number, end: number, idStart: number, payloadStart: number): void {
    this.record("submit", bytes, idStart, payloadStart, end);
  }

  conn(bytes: Uint8Array, _s: number, end: number, idStart: number, tokenStart: number): void {
    this.record("conn", bytes, idStart, tokenStart, end);
  }

  connAck(): void {}
  submitAck(): void {}
  error(error: Error): void {
    throw error;
  }

  private record(
    kind: Received["kind"],
    bytes: Uint8Array,
    idStart: number,
    bodyStart: number,
    end: number,
  ): void {
    const received = {
      kind,
      id: idText(bytes, idStart),
      body: new TextDecoder().decode(bytes.subarray(bodyStart, end)),
    };
    this.received.push(received);
    if (kind === "conn" && this.answerConn) RawFrameServer.connAck(this, received.id, 0);
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    this.onReceive(this, received);
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
}

/** A listening raw server; `onReceive` sees every Conn and Submit as it is decoded. */
export class RawFrameServer {
  readonly connections: RawConnection[] = [];
  private readonly listener: TCPSocketListener<RawConnection>;
  private connectionWaiters: { count: number; resolve: (c: RawConnection) => void }[] = [];

  constructor(
    onReceive: (connection: RawConnection, received: Received) => void = () => {},
    port = 0,
    answerConn = true,
  ) {
    const server = this;
    this.listener = Bun.listen<RawConnection>({
      hostname: "127.0.0.1",
      port,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          const connection = new RawConnection(socket, onReceive, answerConn);
          socket.data = connection;
          server.connections.push(connection);
          server.connectionWaiters = server.connectionWaiters.filter((w) => {
            if (server.connections.length < w.count) return true;
            w.resolve(connection);
            return false;
          });
        },
        data(socket, chunk) {
          socket.data.push(chunk);
        },
        close(socket) {
          socket.data.resolveClosed();
        },
        error() {},
      },
    });
  }

  get port(): number {
    return this.listener.port;
  }

  /** Resolves with the `count`-th connection once it is accepted. */
  connection(count: number): Promise<RawConnection> {
    const existing = this.connections[count - 1];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => this.connectionWaiters.push({ count, resolve }));
  }

  /** Answers a Conn like the relay would without --token. */
  static connAck(connection: RawConnection, id: string, result: 0 | 1): void {
    const frame = encodeConnAck(id, result);
    connection.socket.write(frame, 0, frame.length);
  }

  stop(): void {
    this.listener.stop(true);
  }
}
