/**
 * The backplane's encoding (src/cluster/wire.ts) and the --cluster options, without NATS.
 */
import { describe, expect, test } from "bun:test";
import { helpText, parseCommandLine, type RelayConfig } from "../../src/cli/config.ts";
import { parseNatsUrl, sharedSettings } from "../../src/cluster/servers.ts";
import {
  checkFrames,
  forEachFrame,
  HEADER_BYTES,
  nodeIdText,
  parseNodeId,
  randomNodeId,
  readHeader,
  sourceKey,
  sourceText,
  splitFrames,
  writeHeader,
} from "../../src/cluster/wire.ts";
import { encodeSubmit } from "../../src/protocol/frame-codec.ts";
import { concat } from "../support/harness.ts";

function batch(nodeId: string, before: number, payloads: string[]): Uint8Array {
  const frames = concat(payloads.map((p, i) => encodeSubmit(String(i).padStart(8, "0"), p)));
  const out = new Uint8Array(HEADER_BYTES + frames.length);
  out.set(frames, HEADER_BYTES);
  writeHeader(out, parseNodeId(nodeId), before, payloads.length);
  return out;
}

describe("version 1 batches", () => {
  test("the header, byte by byte, as docs/cluster.md shows it", () => {
    const out = batch("0123456789abcdef", 5, ["hi"]);
    expect(Buffer.from(out).toString("hex")).toBe(
      [
        "01", // version
        "00", // flags
        "0123456789abcdef", // node id
        "0000000000000005", // before
        "00000001", // count
        "0000000f02303030303030303068 69".replace(" ", ""), // Submit("00000000", "hi")
      ].join(""),
    );
    expect(readHeader(out)).toEqual({
      source: sourceKey(parseNodeId("0123456789abcdef")),
      before: 5,
      count: 1,
    });
  });

  test("counts past 2^32 survive the u64", () => {
    const before = 2 ** 40 + 12345;
    const header = readHeader(batch("ffffffffffffffff", before, ["a", "b"]));
    expect(header).toMatchObject({ before, count: 2 });
    if (typeof header === "string") throw new Error(header);
    expect(sourceText(header.source)).toBe("ffffffffffffffff");
  });

  test("what is not a batch is refused with a reason", () => {
    const good = batch("0000000000000001", 0, ["x", "yz"]);
    expect(readHeader(good.subarray(0, 10))).toBe("short");
    expect(readHeader(Uint8Array.of(2, ...good.subarray(1)))).toBe("version");
    expect(readHeader(Uint8Array.of(1, 1, ...good.subarray(2)))).toBe("flags");
    expect(checkFrames(good, 2)).toBeUndefined();
    expect(checkFrames(good, 3)).toBe("frame_count");
    expect(checkFrames(good.subarray(0, good.length - 1), 2)).toBe("frame_length");
    const wrongCommand = good.slice();
    wrongCommand[HEADER_BYTES + 4] = 0x01;
    expect(checkFrames(wrongCommand, 2)).toBe("frame_command");
    const empty = batch("0000000000000001", 0, []);
    expect(readHeader(empty)).toBe("empty");
  });

  test("forEachFrame walks the frames; splitFrames cuts at frame boundaries under max_payload", () => {
    const payloads = Array.from({ length: 10 }, (_, i) => "p".repeat(10 * i));
    const out = batch("0000000000000001", 0, payloads);
    const seen: string[] = [];
    forEachFrame(out, (start, end) => {
      seen.push(new TextDecoder().decode(out.subarray(start + 13, end)));
    });
    expect(seen).toEqual(payloads);
    const length = out.length - HEADER_BYTES;
    const pieces = splitFrames(out, HEADER_BYTES, length, HEADER_BYTES + 120);
    expect(pieces.reduce((n, p) => n + p.frames, 0)).toBe(10);
    expect(pieces[0]?.start).toBe(HEADER_BYTES);
    expect(pieces.at(-1)?.end).toBe(out.length);
    for (const piece of pieces) {
      if (piece.fits) expect(piece.end - piece.start).toBeLessThanOrEqual(120);
      else expect(piece.frames).toBe(1);
    }
    // Payloads of 90 B make 103 B frames: fits in 120; nothing is "too large" here.
    expect(pieces.every((p) => p.fits)).toBe(true);
    const tight = splitFrames(out, HEADER_BYTES, length, HEADER_BYTES + 50);
    expect(tight.filter((p) => !p.fits).length).toBe(6); // payloads 40..90: frames over 50 B
  });

  test("node ids: 16 hex digits, random by default", () => {
    expect(nodeIdText(parseNodeId("00FF00ff00ff00ff"), 0)).toBe("00ff00ff00ff00ff");
    expect(() => parseNodeId("node-a")).toThrow(/16 hex digits/);
    expect(randomNodeId()).toMatch(/^[0-9a-f]{16}$/);
    expect(randomNodeId()).not.toBe(randomNodeId());
  });
});

describe("--cluster options", () => {
  const run = (argv: string[], env: Record<string, string> = {}): RelayConfig => {
    const command = parseCommandLine(argv, env);
    if (command.kind !== "run") throw new Error(command.kind);
    return command.config;
  };

  test("flags and environment", () => {
    expect(
      run([
        "--cluster",
        "nats://10.0.0.1:4222",
        "--cluster=nats://10.0.0.2",
        "--cluster-subject",
        "prod.relay",
        "--node-id",
        "ABCDEF0123456789",
        "--reuse-port",
      ]),
    ).toMatchObject({
      cluster: ["nats://10.0.0.1:4222", "nats://10.0.0.2"],
      clusterSubject: "prod.relay",
      nodeId: "abcdef0123456789",
      reusePort: true,
    });
    expect(
      run([], {
        RELAY_CLUSTER: "nats://a:1,nats://b:2",
        RELAY_REUSE_PORT: "1",
        RELAY_NODE_ID: "0000000000000001",
      }),
    ).toMatchObject({
      cluster: ["nats://a:1", "nats://b:2"],
      reusePort: true,
      nodeId: "0000000000000001",
    });
    expect(run([])).toMatchObject({
      cluster: [],
      clusterSubject: undefined,
      nodeId: undefined,
      reusePort: false,
    });
  });

  test("bad values are one-line errors", () => {
    const error = (argv: string[]) => {
      try {
        run(argv);
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    expect(error(["--cluster", "http://x:4222"])).toMatch(/--cluster: .*nats:\/\/ or tls:\/\//);
    expect(error(["--cluster", "nats://x:4222/path"])).toMatch(/no path/);
    expect(error(["--node-id", "xyz"])).toMatch(/--node-id: .*16 hex digits/);
    expect(error(["--cluster-subject", "a.*"])).toMatch(/not a NATS subject/);
    expect(error(["--cluster-subject", "a..b"])).toMatch(/not a NATS subject/);
    expect(error(["--cluster", "nats://u:p@a:1", "--cluster", "nats://b:2"])).toMatch(
      /different credentials/,
    );
  });

  test("URLs: credentials, token, TLS, default port", () => {
    expect(parseNatsUrl("nats://alice:s%40cret@host:4333")).toEqual({
      hostport: "host:4333",
      display: "nats://host:4333",
      user: "alice",
      pass: "s@cret",
      tls: false,
    });
    expect(parseNatsUrl("tls://tok@host")).toEqual({
      hostport: "host:4222",
      display: "tls://host:4222",
      token: "tok",
      tls: true,
    });
    expect(parseNatsUrl("127.0.0.1:5000").hostport).toBe("127.0.0.1:5000");
    expect(sharedSettings([parseNatsUrl("nats://t@a"), parseNatsUrl("nats://t@b")])).toEqual({
      tls: false,
      token: "t",
    });
  });

  test("--help lists them, with the derived default subject", () => {
    const help = helpText();
    for (const flag of [
      "--cluster URL",
      "--cluster-subject NAME",
      "--node-id HEX16",
      "--reuse-port",
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain("bun-relay.PUB_PORT.SUB_PORT");
  });
});
