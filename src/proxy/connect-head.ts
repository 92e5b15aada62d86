/**
 * Reads the head of an HTTP/1.x CONNECT request from a stream of chunks: pure, no socket, no
 * timer. Feed chunks to `push()` until it returns something other than "incomplete".
 *
 *   CONNECT example.com:443 HTTP/1.1\r\n
 *   Host: example.com:443\r\n
 *   Proxy-Authorization: Basic dXNlcjpwYXNz\r\n
 *   \r\n
 *   <bytes after the head belong to the tunnel>
 *
 * Rules, checked as soon as the bytes they need are in (RFC 9110 §9.3.6, RFC 9112 §3, §5):
 * - the request line must be `METHOD SP target SP HTTP/1.0|1.1`, else 400;
 * - a method other than CONNECT gets 405 as soon as the request line is complete;
 * - the target must be authority-form `host:port` (`[v6]:port` for IPv6), else 400;
 * - header lines must be `name: value` with a token name, else 400;
 * - the whole head must fit in `maxHeadBytes`, else 400 (we never buffer more).
 * Lines may end in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept LF).
 */

export interface ConnectRequest {
  host: string;
  port: number;
  /** `host:port` as written in the request target. */
  authority: string;
  version: string;
  /** Header values by lower-case name; a repeated header keeps its first value. */
  headers: Map<string, string>;
}

export type HeadResult =
  | { kind: "incomplete" }
  | { kind: "request"; request: ConnectRequest; rest: Uint8Array }
  | { kind: "rejected"; status: 400 | 405; reason: string };

const LF = 0x0a;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const decoder = new TextDecoder("latin1");

/** Parses `host:port` or `[v6]:port` (authority-form, RFC 9112 §3.2.3). */
export function parseAuthority(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.\-_]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

export class ConnectHeadReader {
  private buffer = new Uint8Array(0);
  /** Start of the line being read. */
  private lineStart = 0;
  private requestLine: { authority: string; version: string } | undefined;
  private readonly headers = new Map<string, string>();
  private result: HeadResult = { kind: "incomplete" };

  constructor(readonly maxHeadBytes: number) {}

  push(chunk: Uint8Array): HeadResult {
    if (this.result.kind !== "incomplete") return this.result;
    const scanFrom = this.buffer.length;
    const joined = new Uint8Array(scanFrom + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, scanFrom);
    this.buffer = joined;

    for (let index = scanFrom; index < joined.length; index++) {
      if (joined[index] !== LF) continue;
      if (index + 1 > this.maxHeadBytes) break;
      let lineEnd = index;
      if (lineEnd > this.lineStart && joined[lineEnd - 1] === 0x0d) lineEnd--;
      const line = decoder.decode(joined.subarray(this.lineStart, lineEnd));
      this.lineStart = index + 1;
      const verdict = this.takeLine(line);
      if (verdict !== undefined) return this.finish(verdict);
      if (this.result.kind !== "incomplete") return this.result;
    }
    if (this.lineStart < joined.length && joined.length > this.maxHeadBytes) {
      return this.finish({
        kind: "rejected",
        status: 400,
        reason: `request head larger than ${this.maxHeadBytes} bytes`,
      });
    }
    return this.result;
  }

  /** Handles one line; returns a rejection, or sets `result` once the blank line ends the head. */
  private takeLine(line: string): HeadResult | undefined {
    if (this.requestLine === undefined) {
      const parts = line.split(" ");
      if (parts.length !== 3 || parts.some((part) => part.length === 0)) {
        return reject(400, "malformed request line");
      }
      const [method, target, version] = parts as [string, string, string];
      if (!TOKEN.test(method)) return reject(400, "malformed request line");
      if (!/^HTTP\/1\.[01]$/.test(version)) return reject(400, `unsupported version ${version}`);
      if (method !== "CONNECT") return reject(405, `method ${method} is not CONNECT`);
      if (parseAuthority(target) === undefined) {
        return reject(400, "CONNECT target is not host:port");
      }
      this.requestLine = { authority: target, version };
      return undefined;
    }
    if (line.length === 0) {
      const { authority, version } = this.requestLine;
      const { host, port } = parseAuthority(authority) as { host: string; port: number };
      this.result = {
        kind: "request",
        request: { host, port, authority, version, headers: this.headers },
        rest: this.buffer.subarray(this.lineStart),
      };
      return undefined;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) return reject(400, "malformed header line");
    const key = name.toLowerCase();
    if (!this.headers.has(key)) this.headers.set(key, line.slice(colon + 1).trim());
    return undefined;
  }

  private finish(result: HeadResult): HeadResult {
    this.result = result;
    this.buffer = new Uint8Array(0);
    return result;
  }
}

function reject(status: 400 | 405, reason: string): HeadResult {
  return { kind: "rejected", status, reason };
}
