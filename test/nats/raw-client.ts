/**
 * A raw NATS client for the protocol suite: one TCP socket (Bun.connect) that sends bytes as
 * given and lets a test take back exactly the bytes the server wrote, and tell how the server
 * ended the connection: a clean close (FIN: Bun calls `end`, then `close` without an error)
 * or a reset (RST: `close` with ECONNRESET and no `end`). A server that closes while bytes it
 * has not read are still queued sends a reset, and the kernel may then drop the -ERR it wrote
 * before; a conforming server reads what the client sent, writes its -ERR, then sends FIN.
 *
 * Bytes are held as latin1 text (one char per byte), so strings compare byte for byte.
 */
import { expect } from "bun:test";
import type { Socket } from "bun";

/** How the server ended the connection. */
export type CloseKind = "fin" | "reset";

/** A delivered MSG or HMSG, as parsed from the wire. */
export interface RawMessage {
  subject: string;
  sid: string;
  reply: string | undefined;
  /** The header block of an HMSG (from `NATS/1.0` to the empty line), undefined for MSG. */
  headers: string | undefined;
  payload: string;
}

/** How long a read waits for bytes before failing with what it has, in ms. */
const READ_TIMEOUT_MS = 3_000;

export class RawNatsClient {
  private buffered = "";
  private closedAs: CloseKind | undefined;
  private closeCode: string | undefined;
  private sawEnd = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket<undefined>) {}

  /** Opens a socket to 127.0.0.1:`port`. Bytes the server sends are kept until taken. */
  static async connect(port: number): Promise<RawNatsClient> {
    let client: RawNatsClient | undefined;
    const pending: Buffer[] = [];
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_socket, chunk) {
          if (client) client.received(chunk);
          else pending.push(chunk);
        },
        end() {
          if (client) client.sawEnd = true;
        },
        close(_socket, error) {
          client?.ended(error);
        },
      },
    });
    client = new RawNatsClient(socket);
    for (const chunk of pending) client.received(chunk);
    return client;
  }

  /** Sends `data` in one write (the tests send at most a few KiB, which the kernel takes). */
  send(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    const written = this.socket.write(bytes, 0, bytes.length);
    if (written !== bytes.length) {
      throw new Error(`raw client: wrote ${written} of ${bytes.length} bytes`);
    }
  }

  /**
   * Takes the server's INFO line and returns its JSON. INFO's formatting (key order, the
   * space nats-server writes before CRLF) differs between servers; only the JSON is read.
   */
  async info(): Promise<Record<string, unknown>> {
    const line = await this.line();
    expect(line.startsWith("INFO ")).toBe(true);
    return JSON.parse(line.slice("INFO ".length).trimEnd()) as Record<string, unknown>;
  }

  /** Takes the next line, without its CRLF. */
  async line(): Promise<string> {
    await this.until(() => this.buffered.includes("\r\n"), "a CRLF-terminated line");
    const end = this.buffered.indexOf("\r\n");
    const line = this.buffered.slice(0, end);
    this.buffered = this.buffered.slice(end + 2);
    return line;
  }

  /** Waits for `exact.length` bytes and asserts that they are `exact`. */
  async expect(exact: string): Promise<void> {
    await this.until(() => this.buffered.length >= exact.length, JSON.stringify(exact));
    const taken = this.buffered.slice(0, exact.length);
    this.buffered = this.buffered.slice(exact.length);
    expect(taken).toBe(exact);
  }

  /** Takes `count` MSG/HMSG deliveries (in arrival order). */
  async messages(count: number): Promise<RawMessage[]> {
    const out: RawMessage[] = [];
    while (out.length < count) {
      let message: RawMessage | undefined;
      await this.until(
        () => {
          message = this.takeMessage();
          return message !== undefined;
        },
        `message ${out.length + 1} of ${count}`,
      );
      out.push(message as RawMessage);
    }
    return out;
  }

  /** Waits for the server to close; returns how, and the socket error's code for a reset. */
  async closed(): Promise<{ kind: CloseKind; code: string | undefined }> {
    await this.until(() => this.closedAs !== undefined, "the server to close");
    return { kind: this.closedAs as CloseKind, code: this.closeCode };
  }

  /**
   * Waits for the server to close and asserts that it sent nothing more than was taken and
   * that it closed cleanly (FIN), not with a reset.
   */
  async expectClosed(): Promise<void> {
    const { kind, code } = await this.closed();
    expect({ rest: this.buffered, kind, code }).toEqual({ rest: "", kind: "fin", code: undefined });
  }

  /** Asserts that the connection is still open and every byte sent before was handled. */
  async expectOpen(): Promise<void> {
    this.send("PING\r\n");
    await this.expect("PONG\r\n");
  }

  /** Closes the client's side (ignored if the server closed first). */
  close(): void {
    if (this.closedAs === undefined) this.socket.end();
  }

  private received(chunk: Buffer): void {
    this.buffered += chunk.toString("latin1");
    this.wake?.();
  }

  private ended(error: Error | undefined): void {
    const code = (error as { code?: string } | undefined)?.code;
    this.closedAs = error && !this.sawEnd ? "reset" : "fin";
    this.closeCode = code;
    this.wake?.();
  }

  /** `MSG subject sid [reply] size` or `HMSG subject sid [reply] header-size total-size`. */
  private takeMessage(): RawMessage | undefined {
    const lineEnd = this.buffered.indexOf("\r\n");
    if (lineEnd < 0) return undefined;
    const [op, subject, sid, ...rest] = this.buffered.slice(0, lineEnd).split(" ");
    const sizeCount = op === "HMSG" ? 2 : 1;
    expect(op === "MSG" || op === "HMSG").toBe(true);
    expect(rest.length === sizeCount || rest.length === sizeCount + 1).toBe(true);
    const sizes = rest.slice(rest.length - sizeCount).map(Number);
    const total = sizes[sizes.length - 1] as number;
    const start = lineEnd + 2;
    const end = start + total + 2;
    if (this.buffered.length < end) return undefined;
    const body = this.buffered.slice(start, start + total);
    expect(this.buffered.slice(end - 2, end)).toBe("\r\n");
    this.buffered = this.buffered.slice(end);
    const headerBytes = sizeCount === 2 ? (sizes[0] as number) : 0;
    return {
      subject: subject as string,
      sid: sid as string,
      reply: rest.length > sizeCount ? rest[0] : undefined,
      headers: op === "HMSG" ? body.slice(0, headerBytes) : undefined,
      payload: body.slice(headerBytes),
    };
  }

  /** Resolves once `ready()` holds; fails with what was received if it does not in time. */
  private async until(ready: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + READ_TIMEOUT_MS;
    while (!ready()) {
      if (this.closedAs !== undefined) {
        throw new Error(
          `raw client: server closed (${this.closedAs}) before ${what}; unread: ${JSON.stringify(this.buffered)}`,
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`raw client: no ${what} in time; unread: ${JSON.stringify(this.buffered)}`);
      }
      const { promise, resolve } = Promise.withResolvers<void>();
      this.wake = resolve;
      const timer = setTimeout(resolve, left);
      await promise;
      clearTimeout(timer);
      this.wake = undefined;
    }
  }
}
