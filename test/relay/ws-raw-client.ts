/**
 * A minimal WebSocket client over a raw TCP socket, for tests that need what a browser API
 * hides: the exact HTTP status of a refused upgrade, frames cut where the test says, a client
 * that stops reading (its socket paused: TCP backpressure), and the close frame's status.
 * RFC 6455: client frames are masked (§5.3), server frames are not; no extensions.
 */
import type { Socket } from "bun";

const encoder = new TextEncoder();

export interface RawWsOptions {
  port: number;
  /** Extra request headers (Origin, Host). */
  headers?: Record<string, string>;
  path?: string;
}

/** One server frame: opcode (2 binary, 8 close, ...) and payload. */
export interface ServerFrame {
  opcode: number;
  payload: Uint8Array;
}

export class RawWsClient {
  /** The upgrade's HTTP status line (`HTTP/1.1 101 Switching Protocols`). */
  statusLine = "";
  readonly frames: ServerFrame[] = [];
  closed = false;
  private buffer = new Uint8Array(0);
  private headDone = false;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket<undefined>) {}

  /** Connects and sends the upgrade; resolves once the response head arrived. */
  static async connect(options: RawWsOptions): Promise<RawWsClient> {
    let client: RawWsClient | undefined;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: options.port,
      socket: {
        binaryType: "uint8array",
        data: (_s, chunk) => client?.receive(chunk),
        close: () => client?.ended(),
      },
    });
    client = new RawWsClient(socket);
    const headers = {
      Host: `127.0.0.1:${options.port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...options.headers,
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(`GET ${options.path ?? "/"} HTTP/1.1\r\n${head}\r\n`);
    await client.until(() => client.headDone || client.closed);
    return client;
  }

  /** The HTTP status code of the upgrade's answer. */
  get status(): number {
    return Number(this.statusLine.split(" ")[1]);
  }

  /** Sends `payload` as one masked binary frame. */
  send(payload: Uint8Array | string, opcode = 2): void {
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    const length = bytes.length;
    const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
    const frame = new Uint8Array(2 + extra + 4 + length);
    frame[0] = 0x80 | opcode;
    const view = new DataView(frame.buffer);
    if (extra === 0) frame[1] = 0x80 | length;
    else if (extra === 2) {
      frame[1] = 0x80 | 126;
      view.setUint16(2, length);
    } else {
      frame[1] = 0x80 | 127;
      view.setBigUint64(2, BigInt(length));
    }
    const mask = [0x12, 0x34, 0x56, 0x78];
    frame.set(mask, 2 + extra);
    for (let i = 0; i < length; i++) {
      frame[6 + extra + i] = (bytes[i] as number) ^ (mask[i % 4] as number);
    }
    this.socket.write(frame);
  }

  /** The payloads of every binary frame so far, as one text. */
  text(): string {
    const parts = this.frames.filter((f) => f.opcode === 2 || f.opcode === 1);
    return parts.map((f) => new TextDecoder().decode(f.payload)).join("");
  }

  /** The close frame's status code, once one came. */
  get closeStatus(): number | undefined {
    const close = this.frames.find((f) => f.opcode === 8);
    if (close === undefined || close.payload.length < 2) return undefined;
    return ((close.payload[0] as number) << 8) | (close.payload[1] as number);
  }

  /** Resolves once `test` holds (checked after every read and at the close). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private receive(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    if (!this.headDone) {
      const end = new TextDecoder().decode(this.buffer).indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = new TextDecoder().decode(this.buffer.subarray(0, end));
      this.statusLine = head.split("\r\n")[0] ?? "";
      this.headDone = true;
      this.buffer = this.buffer.subarray(end + 4);
    }
    this.parseFrames();
    this.wake();
  }

  private parseFrames(): void {
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let length = (b[1] as number) & 0x7f;
      let at = 2;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (length === 126) {
        if (b.length < 4) return;
        length = view.getUint16(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(view.getBigUint64(2));
        at = 10;
      }
      if (b.length < at + length) return;
      this.frames.push({ opcode: (b[0] as number) & 0x0f, payload: b.slice(at, at + length) });
      this.buffer = b.subarray(at + length);
    }
  }

  private ended(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test()) return true;
      waiter.resolve();
      return false;
    });
  }
}
