import { describe, expect, test } from "bun:test";
import {
  ConnectHeadReader,
  type HeadResult,
  parseAuthority,
} from "../../src/proxy/connect-head.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Feeds `parts` in order until a verdict. For a request, the parts after the one that ended the
 * head are appended to `rest`: on a socket they would flow straight into the tunnel.
 */
function feed(parts: readonly Uint8Array[], maxHead = 8192): HeadResult {
  const reader = new ConnectHeadReader(maxHead);
  for (let index = 0; index < parts.length; index++) {
    const result = reader.push(parts[index] as Uint8Array);
    if (result.kind === "incomplete") continue;
    if (result.kind === "request") {
      return { ...result, rest: Buffer.concat([result.rest, ...parts.slice(index + 1)]) };
    }
    return result;
  }
  return { kind: "incomplete" };
}

/** A comparable summary: the request fields and the bytes after the head, or the rejection. */
function summary(result: HeadResult): unknown {
  if (result.kind === "request") {
    const { request, rest } = result;
    return {
      host: request.host,
      port: request.port,
      version: request.version,
      headers: Object.fromEntries(request.headers),
      rest: decoder.decode(rest),
    };
  }
  return result;
}

/** Every way to cut `text` into whole / byte-by-byte / two pieces gives the same result. */
function expectSameAtEverySplit(text: string, expected: unknown, maxHead = 8192): void {
  const bytes = encoder.encode(text);
  expect(summary(feed([bytes], maxHead))).toEqual(expected);
  const oneByOne = Array.from(bytes, (byte) => Uint8Array.of(byte));
  expect(summary(feed(oneByOne, maxHead))).toEqual(expected);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const result = summary(feed([bytes.subarray(0, cut), bytes.subarray(cut)], maxHead));
    if (JSON.stringify(result) !== JSON.stringify(expected)) {
      throw new Error(`split at ${cut} gave ${JSON.stringify(result)}`);
    }
  }
}

describe("ConnectHeadReader", () => {
  test("reads a CONNECT head with headers and keeps the bytes after it, at every split point", () => {
    expectSameAtEverySplit(
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n\x16\x03\x01hello",
      {
        host: "example.com",
        port: 443,
        version: "HTTP/1.1",
        headers: { host: "example.com:443", "proxy-authorization": "Basic dTpw" },
        rest: "\x16\x03\x01hello",
      },
    );
  });

  test("accepts bare LF line endings and an IPv6 target", () => {
    expectSameAtEverySplit("CONNECT [::1]:8443 HTTP/1.0\nUser-Agent: x\n\n", {
      host: "::1",
      port: 8443,
      version: "HTTP/1.0",
      headers: { "user-agent": "x" },
      rest: "",
    });
  });

  test("keeps the first of repeated headers", () => {
    const result = feed([encoder.encode("CONNECT h:1 HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n")]);
    expect(summary(result)).toMatchObject({ headers: { a: "1" } });
  });

  test("answers 405 to another method as soon as the request line is complete", () => {
    const reader = new ConnectHeadReader(8192);
    expect(reader.push(encoder.encode("GET http://example.com/ HTTP/1.1\r"))).toEqual({
      kind: "incomplete",
    });
    expect(reader.push(encoder.encode("\n"))).toEqual({
      kind: "rejected",
      status: 405,
      reason: "method GET is not CONNECT",
    });
  });

  test.each([
    ["a malformed request line", "CONNECT example.com:443\r\n\r\n", "malformed request line"],
    ["an extra space", "CONNECT  example.com:443 HTTP/1.1\r\n\r\n", "malformed request line"],
    ["an unsupported version", "CONNECT h:443 HTTP/2.0\r\n\r\n", "unsupported version HTTP/2.0"],
    ["an origin-form target", "CONNECT / HTTP/1.1\r\n\r\n", "CONNECT target is not host:port"],
    [
      "a target without a port",
      "CONNECT example.com HTTP/1.1\r\n\r\n",
      "CONNECT target is not host:port",
    ],
    ["port 0", "CONNECT example.com:0 HTTP/1.1\r\n\r\n", "CONNECT target is not host:port"],
    [
      "a header line without a colon",
      "CONNECT h:1 HTTP/1.1\r\nBroken\r\n\r\n",
      "malformed header line",
    ],
    [
      "a header name with a space",
      "CONNECT h:1 HTTP/1.1\r\nBad Name: v\r\n\r\n",
      "malformed header line",
    ],
  ])("answers 400 to %s, at every split point", (_name, text, reason) => {
    expectSameAtEverySplit(text, { kind: "rejected", status: 400, reason });
  });

  test("answers 400 once the head outgrows maxHeadBytes, without buffering more", () => {
    const head = `CONNECT h:1 HTTP/1.1\r\nX-Long: ${"a".repeat(200)}\r\n\r\n`;
    expectSameAtEverySplit(
      head,
      { kind: "rejected", status: 400, reason: "request head larger than 100 bytes" },
      100,
    );
    // Exactly at the limit is fine.
    const fits = "CONNECT h:1 HTTP/1.1\r\n\r\n";
    expect(feed([encoder.encode(fits)], fits.length).kind).toBe("request");
    expect(feed([encoder.encode(fits)], fits.length - 1).kind).toBe("rejected");
  });

  test("a garbage stream never throws and always ends in a verdict or waits", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 500; round++) {
      const bytes = Uint8Array.from({ length: 1 + (random() % 300) }, () => random() & 0xff);
      const result = feed([bytes], 256);
      expect(["incomplete", "rejected", "request"]).toContain(result.kind);
    }
  });
});

describe("parseAuthority", () => {
  test.each([
    ["example.com:443", { host: "example.com", port: 443 }],
    ["10.1.2.3:22", { host: "10.1.2.3", port: 22 }],
    ["[2001:db8::1]:443", { host: "2001:db8::1", port: 443 }],
  ])("parses %s", (text, expected) => {
    expect(parseAuthority(text)).toEqual(expected);
  });

  test.each(["example.com", "example.com:", "example.com:99999", "http://x:1", "[::1]", "::1:80"])(
    "rejects %s",
    (text) => {
      expect(parseAuthority(text)).toBeUndefined();
    },
  );
});
