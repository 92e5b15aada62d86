/**
 * The origin rules of the WebSocket port (src/relay/ws-origin.ts) against the cases of
 * nats-server's websocket_test.go TestWSCheckOrigin: default ports from the scheme, host case,
 * scheme and port that must match, no Origin accepted, same-origin against the Host header.
 */
import { describe, expect, test } from "bun:test";
import { checkOrigin, originPolicy, parseAllowedOrigin } from "../../src/relay/ws-origin.ts";

describe("parseAllowedOrigin", () => {
  test("fills in the scheme's default port and lowers the host", () => {
    expect(parseAllowedOrigin("https://App.Example.com")).toEqual({
      scheme: "https",
      host: "app.example.com",
      port: "443",
    });
    expect(parseAllowedOrigin("http://localhost")).toEqual({
      scheme: "http",
      host: "localhost",
      port: "80",
    });
    expect(parseAllowedOrigin("http://[::1]:8080")).toEqual({
      scheme: "http",
      host: "[::1]",
      port: "8080",
    });
  });

  test("refuses what is not an origin URL", () => {
    expect(() => parseAllowedOrigin("app.example.com")).toThrow(
      "'app.example.com' is not an origin URL (scheme://host[:port])",
    );
  });
});

describe("checkOrigin", () => {
  const list = originPolicy(false, [
    parseAllowedOrigin("https://app.example.com"),
    parseAllowedOrigin("http://localhost:8080"),
  ]);

  test("no rules: every origin passes", () => {
    expect(checkOrigin(originPolicy(false, []), "http://anything", "h", false)).toBeUndefined();
  });

  test("no Origin header passes whatever the rules", () => {
    expect(checkOrigin(list, null, "relay:8080", false)).toBeUndefined();
    expect(checkOrigin(originPolicy(true, []), "", "relay:8080", false)).toBeUndefined();
  });

  test.each([
    ["https://app.example.com", undefined],
    ["https://APP.example.com:443", undefined],
    ["http://localhost:8080", undefined],
    ["http://app.example.com", "origin 'http://app.example.com' is not in --ws-allowed-origins"],
    [
      "https://app.example.com:8443",
      "origin 'https://app.example.com:8443' is not in --ws-allowed-origins",
    ],
    ["http://localhost", "origin 'http://localhost' is not in --ws-allowed-origins"],
    ["http://evil.example", "origin 'http://evil.example' is not in --ws-allowed-origins"],
    ["not a url", "origin 'not a url' is not a URL"],
  ])("allowed list: %s", (origin, verdict) => {
    expect(checkOrigin(list, origin, "relay:8080", false)).toBe(verdict as string | undefined);
  });

  test("same origin compares host and port with Host, defaults by scheme", () => {
    const same = originPolicy(true, []);
    expect(checkOrigin(same, "http://relay:8080", "relay:8080", false)).toBeUndefined();
    expect(checkOrigin(same, "http://relay", "relay:80", false)).toBeUndefined();
    expect(checkOrigin(same, "https://relay", "relay", true)).toBeUndefined();
    expect(checkOrigin(same, "http://relay:8081", "relay:8080", false)).toBe(
      "origin 'http://relay:8081' is not the same origin as Host 'relay:8080'",
    );
  });
});
