import { describe, expect, test } from "bun:test";
import { parseBenchArgs } from "../../bench/lib/args.ts";
import {
  OUR_NATS_RELAY_CMD,
  OUR_RELAY_CMD,
  type RelayRequest,
  relayCommand,
  relayTemplate,
} from "../../bench/lib/relay-launcher.ts";

describe("the relay the bench starts for --protocol nats (issue 20)", () => {
  const request: RelayRequest = {
    pubHost: "127.0.0.1",
    pubPort: 4222,
    subHost: "127.0.0.1",
    subPort: 4222,
    noSpawn: false,
    relayCmd: undefined,
  };

  test("is ours with only its NATS port on the bench's port, line ports on free ones", () => {
    expect(relayTemplate({ ...request, protocol: "nats" })).toBe(OUR_NATS_RELAY_CMD);
    expect(relayCommand(OUR_NATS_RELAY_CMD, 4222, 4222)).toEndWith(
      "run src/main.ts --nats-port 4222 --pub-port 0 --sub-port 0 --quiet",
    );
    expect(relayTemplate({ ...request, protocol: "line" })).toBe(OUR_RELAY_CMD);
    expect(relayTemplate(request)).toBe(OUR_RELAY_CMD);
  });

  test("--relay-cmd is taken as given, with {port} the same as {pub}", () => {
    const nats = "nats-server -a 127.0.0.1 -p {port}";
    expect(relayTemplate({ ...request, protocol: "nats", relayCmd: nats })).toBe(nats);
    expect(relayCommand(nats, 4222, 4222)).toBe("nats-server -a 127.0.0.1 -p 4222");
    expect(relayCommand("r {pub} {sub} {port} {port}", 1, 2)).toBe("r 1 2 1 1");
  });

  test("parsed flags carry the protocol to the launcher, one port for both sides", () => {
    const o = parseBenchArgs([
      "--protocol",
      "nats",
      "--pub-port",
      "4333",
      "--relay-cmd",
      "nats-server -p {port}",
    ]);
    expect(o).toMatchObject({ protocol: "nats", pubPort: 4333, subPort: 4333 });
    expect(relayCommand(relayTemplate(o), o.pubPort, o.subPort)).toBe("nats-server -p 4333");
    expect(relayTemplate(parseBenchArgs(["--protocol", "nats"]))).toBe(OUR_NATS_RELAY_CMD);
  });
});
