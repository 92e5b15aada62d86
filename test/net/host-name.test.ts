/**
 * hostNameProblem (src/net/host-name.ts): IP literals and RFC 1123 host names pass; what can
 * name no host is refused at parse time, so `--check` finds it.
 */
import { expect, test } from "bun:test";
import { hostNameProblem, parseHostName } from "../../src/net/host-name.ts";

test("IP literals and host names pass", () => {
  for (const host of [
    "0.0.0.0",
    "127.0.0.1",
    "::1",
    "fe80::1",
    "localhost",
    "relay-1.example.com",
    "relay.example.com.",
    "a".repeat(63),
    "10.0.0.example",
  ]) {
    expect([host, hostNameProblem(host)]).toEqual([host, undefined]);
  }
});

test("what names no host says why", () => {
  expect(hostNameProblem("999.1.1.1")).toBe("is not an IPv4 address");
  expect(hostNameProblem("1.2.3")).toBe("is not an IPv4 address");
  expect(hostNameProblem("")).toBe("is empty");
  for (const host of ["not an addr", "under_score", "-lead.example", "trail-.example", "a..b"]) {
    expect(hostNameProblem(host)).toBe(
      "is not an IP address or a host name (letters, digits, '-' and '.')",
    );
  }
  expect(hostNameProblem("a".repeat(64))).toBe(
    "is not an IP address or a host name (letters, digits, '-' and '.')",
  );
  expect(hostNameProblem(`${"a.".repeat(127)}ab`)).toBe("is longer than 253 characters");
  expect(() => parseHostName("999.1.1.1")).toThrow("'999.1.1.1' is not an IPv4 address");
});
