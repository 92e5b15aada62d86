/** CONNECT's options (src/relay/nats-connect.ts), as nats-server's processConnect reads them. */
import { describe, expect, test } from "bun:test";
import { NATS_ERR } from "../../src/protocol/nats-errors.ts";
import { isRefusal, readConnect } from "../../src/relay/nats-connect.ts";

const read = (json: string) => readConnect(new TextEncoder().encode(json));

describe("readConnect", () => {
  test("fields a client leaves out are undefined (the connection keeps nats-server's defaults)", () => {
    expect(read("{}")).toEqual({
      verbose: undefined,
      pedantic: undefined,
      echo: undefined,
      headers: false,
      noResponders: false,
      name: undefined,
      credentials: {},
    });
  });

  test("what nats.js sends is read as given", () => {
    const options = read(
      '{"verbose":false,"pedantic":false,"echo":false,"headers":true,"no_responders":true,"name":"n","protocol":1,"user":"u","pass":"p"}',
    );
    expect(isRefusal(options)).toBe(false);
    expect(options).toMatchObject({
      verbose: false,
      echo: false,
      headers: true,
      noResponders: true,
      name: "n",
    });
  });

  test.each([
    ["not json", undefined, "CONNECT is not a JSON object"],
    ["[1]", undefined, "CONNECT is not a JSON object"],
    ["null", undefined, "CONNECT is not a JSON object"],
    ['{"protocol":2}', NATS_ERR.badClientProtocol, "invalid client protocol"],
    [
      '{"no_responders":true}',
      NATS_ERR.noRespondersRequiresHeaders,
      "no_responders without headers",
    ],
  ])("%s is refused", (json, err, detail) => {
    expect(read(json)).toEqual({ err, detail });
  });
});
