import { expect, test } from "bun:test";
import { NATS_ERR, NatsErrorCode, NatsProtocolError } from "../../src/protocol/nats-errors.ts";
import { decoder } from "../support/harness.ts";

test("NATS_ERR holds nats-server 2.9's texts and whether each closes the connection", () => {
  const table = Object.fromEntries(
    Object.entries(NATS_ERR).map(([name, err]) => [name, [err.text, err.closes]]),
  );
  expect(table).toEqual({
    unknownOperation: ["Unknown Protocol Operation", true],
    authorizationViolation: ["Authorization Violation", true],
    authenticationTimeout: ["Authentication Timeout", true],
    maxPayload: ["Maximum Payload Violation", true],
    maxControlLine: ["maximum control line exceeded", true],
    noRespondersRequiresHeaders: ["no responders requires headers support", true],
    badClientProtocol: ["invalid client protocol", true],
    maxConnections: ["maximum connections exceeded", true],
    staleConnection: ["Stale Connection", true],
    invalidSubject: ["Invalid Subject", false],
    invalidPublishSubject: ["Invalid Publish Subject", false],
    maxSubscriptions: ["maximum subscriptions exceeded", false],
  });
});

test("each entry's wire bytes are -ERR '<text>'\\r\\n", () => {
  for (const err of Object.values(NATS_ERR)) {
    expect(decoder.decode(err.wire)).toBe(`-ERR '${err.text}'\r\n`);
  }
});

test("a NatsProtocolError carries its code, -ERR, reason and offset", () => {
  const error = new NatsProtocolError(
    NatsErrorCode.MaxPayload,
    NATS_ERR.maxPayload,
    "PUB of 11 bytes, over max_payload 10",
    42,
  );
  expect(error).toBeInstanceOf(Error);
  expect([
    error.name,
    error.code,
    error.err?.text,
    error.reason,
    error.offset,
    error.closes,
  ]).toEqual([
    "NatsProtocolError",
    "NATS_ERR_MAX_PAYLOAD",
    "Maximum Payload Violation",
    "PUB of 11 bytes, over max_payload 10",
    42,
    true,
  ]);
  expect(error.message).toBe(
    "NATS_ERR_MAX_PAYLOAD: PUB of 11 bytes, over max_payload 10 (operation at stream offset 42)",
  );
});
