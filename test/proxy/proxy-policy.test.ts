import { describe, expect, test } from "bun:test";
import {
  checkProxyAuthorization,
  isAllowed,
  isLoopback,
  parseAllowPattern,
  parseCredentials,
} from "../../src/proxy/proxy-policy.ts";

const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;

describe("--allow patterns", () => {
  const patterns = ["example.com:443", "*.internal:*", "10.0.0.5:8000-8999", "[::1]:22"].map(
    parseAllowPattern,
  );
  test.each([
    ["example.com", 443, true],
    ["EXAMPLE.com", 443, true],
    ["example.com", 80, false],
    ["db.internal", 5432, true],
    ["internal", 5432, false],
    ["10.0.0.5", 8000, true],
    ["10.0.0.5", 8999, true],
    ["10.0.0.5", 9000, false],
    ["::1", 22, true],
    ["evil.com", 443, false],
  ])("%s:%d allowed: %p", (host, port, expected) => {
    expect(isAllowed(patterns, host, port)).toBe(expected);
  });

  test("* matches everything", () => {
    expect(isAllowed([parseAllowPattern("*:*")], "anything", 1)).toBe(true);
  });

  test.each(["example.com", "example.com:0-5", "a:9-1", "a:70000", "*example.com:1", ":443"])(
    "rejects the pattern %s",
    (text) => {
      expect(() => parseAllowPattern(text)).toThrow();
    },
  );
});

describe("Proxy-Authorization", () => {
  test("accepts the right Basic credentials only", () => {
    expect(checkProxyAuthorization(basic("user:pa:ss"), "user:pa:ss")).toBe(true);
    expect(checkProxyAuthorization(basic("user:wrong"), "user:pa:ss")).toBe(false);
    expect(checkProxyAuthorization(basic("user:pa:ss "), "user:pa:ss")).toBe(false);
    expect(checkProxyAuthorization(undefined, "user:pa:ss")).toBe(false);
    expect(checkProxyAuthorization("Bearer abc", "user:pa:ss")).toBe(false);
    expect(
      checkProxyAuthorization(
        `basic  ${Buffer.from("user:pa:ss").toString("base64")}`,
        "user:pa:ss",
      ),
    ).toBe(true);
  });

  test("--auth needs user:password with a user", () => {
    expect(parseCredentials("u:")).toBe("u:");
    expect(() => parseCredentials(":p")).toThrow();
    expect(() => parseCredentials("nocolon")).toThrow();
  });
});

test("loopback addresses", () => {
  expect(["127.0.0.1", "127.1.2.3", "::1", "localhost"].every(isLoopback)).toBe(true);
  expect(["0.0.0.0", "::", "10.0.0.1", "192.168.1.1"].some(isLoopback)).toBe(false);
});
