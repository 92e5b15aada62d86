/**
 * Command-line flags. The first nine are the article's Go client's, with its
 * defaults, so a command line written for one client works with the other;
 * the rest are ours. Parsing is pure (argv in, options or an error out) so it
 * is tested without a process.
 */
import { parseArgs } from "node:util";
import { parseSize } from "../../src/cli/units.ts";
import { MIN_MSG_SIZE } from "./message.ts";

export interface BenchOptions {
  pubHost: string;
  pubPort: number;
  subHost: string;
  subPort: number;
  pubs: number;
  subs: number;
  /** Messages per second per publisher; 0 = as fast as the socket accepts. */
  rate: number;
  /** Bytes per message including the newline. */
  msgSize: number;
  /** Measured seconds. */
  duration: number;
  /** Seconds of sending before the measured window opens. */
  warmup: number;
  /** Seconds to wait after the window for in-flight messages. */
  drain: number;
  /** Worker threads for the client; undefined = one per core (at least 2). */
  threads: number | undefined;
  json: boolean;
  hgrm: string | undefined;
  plot: string | undefined;
  noSpawn: boolean;
  relayCmd: string | undefined;
  allowLoss: boolean;
  /** Light subscribers: count with indexOf only, decode one message in N; undefined = decode all. */
  sample: number | undefined;
  /** Messages per publisher write at saturation; undefined = about 64 KiB of them. */
  msgsPerWrite: number | undefined;
  /** Wire protocol: the relay's newline lines, or NATS (PUB/SUB/MSG, one port). */
  protocol: "line" | "nats";
  /**
   * The relay's wire format on both ports (issue 12): `line`, or `frame` (seed 003's frames:
   * publishers send Submit frames whose payload is the line message, newline included, and
   * read a SubmitAck per Submit; subscribers decode Submit frames).
   */
  framing: "line" | "frame";
  /** Frame mode: which SubmitAck code to expect (the relay's --frame-codes). */
  frameCodes: "spec" | "article";
  /** Extra subscribers that connect and never read (slow-consumer scenario). */
  stalled: number;
  /** Extra subscribers that read and discard, not counted (connection-count scenario). */
  idle: number;
  /** One extra subscriber that reads at most this many bytes/s; undefined = none. */
  slowReader: number | undefined;
  /** Extra subscribers that read normally but stop reading for 100 ms every second. */
  pausing: number;
  /**
   * Issue 21, NATS with the native client only: 0 = every subscriber on subject `b`; N = N
   * subscribers (--sub is N), subscriber i on its own subject `s.<i>`, publishers cycling
   * through them, so each message has one receiver.
   */
  subjects: number;
  help: boolean;
  /** Notes for stderr (e.g. a clamped value), never errors. */
  notes: string[];
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const USAGE = `Usage: bun run bench [flags]

Open-loop pub/sub load against a line relay (publishers -> pub port,
subscribers <- sub port). Prints the article's result block, then more.

Go client flags (same defaults):
  --pub-host HOST     publisher host (127.0.0.1)
  --pub-port N        publisher port (7001)
  --sub-host HOST     subscriber host (127.0.0.1)
  --sub-port N        subscriber port (7002)
  --pub N             publishers (1)
  --sub N             subscribers (1)
  --rate N            messages/s per publisher, 0 = saturate (1000)
  --msg-size N        bytes per message incl. newline, min 16 (64)
  --duration S        measured seconds (10)
Ours:
  --warmup S          seconds sent before measuring (1)
  --drain S           seconds to wait for in-flight messages after (2)
  --threads N         client worker threads (cores, at least 2)
  --json              print one JSON object instead of text
  --hgrm FILE         write the HdrHistogram percentile distribution
  --plot FILE.svg     write a latency-by-percentile chart
  --no-spawn          never start a relay; fail if none listens
  --relay-cmd CMD     start this relay instead of ours; {pub} {sub} = ports,
                      {port} = {pub} (a NATS server's one port)
  --allow-loss        exit 0 even if messages were lost
  --sample N          light subscribers: count messages with indexOf only and
                      decode one in N (latency and sequence checks on those)
  --msgs-per-write N  saturation: messages per publisher write (~64 KiB of them)
  --protocol P        line (default) or nats: PUB/SUB to a NATS server on the
                      pub port (sub port = pub port); implies --sample 1. A
                      relay the bench starts is ours with only its NATS port
                      there (--nats-port {port} --pub-port 0 --sub-port 0)
  --framing F         line (default) or frame: seed 003's frames on both ports
                      (issue 12). Publishers send Submit(ID, message) with IDs
                      %08d counting from 1 per publisher and --msg-size bytes of
                      payload (the line message, its newline included);
                      subscribers decode Submit frames; every SubmitAck is
                      checked (ID order, result 0) and timed (submit-to-ack
                      latency, the "Acks:" line). A relay the bench starts gets
                      --framing frame --frame-codes C
  --frame-codes C     spec (default: SubmitAck 0x82) or article (0x81)
  --stalled N         N more subscribers that connect and never read
  --idle N            N more subscribers that read and discard (not counted)
  --slow-reader RATE  one more subscriber that reads at most RATE bytes/s (it
                      pauses after each chunk for chunk/RATE s); 1000000, 1mb
                      (decimal), 1m or 1mib (binary), 64k, 64kb
  --pausing N         N more subscribers that read normally but stop reading
                      for 100 ms every second
  --subjects N        NATS, native client (bench/native/main.ts): N subscribers
                      (--sub defaults to N), subscriber i on subject s.<i>;
                      publishers cycle PUB s.0 .. s.<N-1> (issue 21)
                      (extra subscribers are not counted in the results; when
                      the bench starts our relay, its log says which it cut)
  --help              this text

If nothing listens on the publisher port, the bench starts this project's
relay (bun run src/main.ts --pub-port {pub} --sub-port {sub} --quiet, plus
--framing frame --frame-codes C with --framing frame; with --protocol nats
bun run src/main.ts --nats-port {port} --pub-port 0 --sub-port 0 --quiet) and
stops it afterwards. nats-server alternately: --relay-cmd "nats-server -a
127.0.0.1 -p {port}"; both in turn: bun run bench:compare --only 20.`;

/** A whole-number flag from `min` (to `max`), or `fallback` when absent; throws UsageError. */
export function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min) throw new UsageError(`--${name} must be >= ${min}, got ${value}`);
  if (value > max) throw new UsageError(`--${name} must be <= ${max}, got ${value}`);
  return value;
}

/** A number of seconds of at least `min`, or `fallback` when absent; throws UsageError. */
export function seconds(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a number of seconds, got "${raw}"`);
  }
  if (value < min) throw new UsageError(`--${name} must be >= ${min}, got ${value}`);
  return value;
}

/** Bytes (per second): `1000000`, `1mb` (decimal), `1m` / `1mib` (binary), `64k`, as the relay reads sizes. */
export function parseByteRate(name: string, raw: string): number {
  let value: number;
  try {
    value = parseSize(raw.trim().replace(/\/s$/i, ""));
  } catch {
    throw new UsageError(
      `--${name} must be bytes per second (1000000, 1mb, 1m, 64k), got "${raw}"`,
    );
  }
  if (value < 1) throw new UsageError(`--${name} must be at least 1 byte/s, got "${raw}"`);
  return value;
}

function port(name: string, raw: string | undefined, fallback: number): number {
  const value = integer(name, raw, fallback, 1);
  if (value > 65535) throw new UsageError(`--${name} must be a TCP port (1-65535), got ${value}`);
  return value;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const notes: string[] = [];
  let msgSize = integer("msg-size", v["msg-size"], 64, 1);
  if (msgSize < MIN_MSG_SIZE) {
    notes.push(
      `--msg-size ${msgSize} raised to the minimum, ${MIN_MSG_SIZE} (as the Go client does)`,
    );
    msgSize = MIN_MSG_SIZE;
  }
  const relayCmd = v["relay-cmd"];
  if (relayCmd !== undefined && v["no-spawn"]) {
    throw new UsageError("--relay-cmd and --no-spawn contradict each other");
  }
  const pubHost = v["pub-host"] ?? "127.0.0.1";
  const protocol = v.protocol ?? "line";
  if (protocol !== "line" && protocol !== "nats") {
    throw new UsageError(`--protocol must be line or nats, got "${protocol}"`);
  }
  const framing = v.framing ?? "line";
  if (framing !== "line" && framing !== "frame") {
    throw new UsageError(`--framing must be line or frame, got "${framing}"`);
  }
  const frameCodes = v["frame-codes"] ?? "spec";
  if (frameCodes !== "spec" && frameCodes !== "article") {
    throw new UsageError(`--frame-codes must be spec or article, got "${frameCodes}"`);
  }
  if (framing === "frame" && protocol === "nats") {
    throw new UsageError("--framing frame is the relay's format; NATS has its own (--protocol)");
  }
  if (v["frame-codes"] !== undefined && framing !== "frame") {
    notes.push("--frame-codes only matters with --framing frame; ignored");
  }
  const subjects = integer("subjects", v.subjects, 0, 0);
  if (subjects > 0 && protocol !== "nats") {
    throw new UsageError("--subjects is NATS subjects: it needs --protocol nats");
  }
  if (subjects > 0 && v.sub !== undefined && Number(v.sub) !== subjects) {
    throw new UsageError(
      `--subjects ${subjects} means one subscriber per subject: --sub must be ${subjects}`,
    );
  }
  let sample = v.sample === undefined ? undefined : integer("sample", v.sample, 1, 1);
  if (protocol === "nats") sample ??= 1;
  const pubPort = port("pub-port", v["pub-port"], 7001);
  return {
    pubHost,
    pubPort,
    subHost: v["sub-host"] ?? "127.0.0.1",
    // NATS has one port for both sides.
    subPort:
      protocol === "nats" && v["sub-port"] === undefined
        ? pubPort
        : port("sub-port", v["sub-port"], 7002),
    pubs: integer("pub", v.pub, 1, 1),
    subs: subjects > 0 ? subjects : integer("sub", v.sub, 1, 1),
    rate: integer("rate", v.rate, 1000, 0),
    msgSize,
    duration: seconds("duration", v.duration, 10, 0.1),
    warmup: seconds("warmup", v.warmup, 1, 0),
    drain: seconds("drain", v.drain, 2, 0.1),
    threads: v.threads === undefined ? undefined : integer("threads", v.threads, 2, 1),
    json: v.json ?? false,
    hgrm: v.hgrm,
    plot: v.plot,
    noSpawn: v["no-spawn"] ?? false,
    relayCmd,
    allowLoss: v["allow-loss"] ?? false,
    sample,
    msgsPerWrite:
      v["msgs-per-write"] === undefined
        ? undefined
        : integer("msgs-per-write", v["msgs-per-write"], 1, 1),
    protocol,
    framing,
    frameCodes,
    stalled: integer("stalled", v.stalled, 0, 0),
    idle: integer("idle", v.idle, 0, 0),
    slowReader:
      v["slow-reader"] === undefined ? undefined : parseByteRate("slow-reader", v["slow-reader"]),
    pausing: integer("pausing", v.pausing, 0, 0),
    subjects,
    help: v.help ?? false,
    notes,
  };
}

function parseWithNode(argv: string[]) {
  const text = { type: "string" } as const;
  const flag = { type: "boolean" } as const;
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      "pub-host": text,
      "pub-port": text,
      "sub-host": text,
      "sub-port": text,
      pub: text,
      sub: text,
      rate: text,
      "msg-size": text,
      duration: text,
      warmup: text,
      drain: text,
      threads: text,
      json: flag,
      hgrm: text,
      plot: text,
      "no-spawn": flag,
      "relay-cmd": text,
      "allow-loss": flag,
      sample: text,
      "msgs-per-write": text,
      protocol: text,
      framing: text,
      "frame-codes": text,
      stalled: text,
      idle: text,
      "slow-reader": text,
      pausing: text,
      subjects: text,
      help: { type: "boolean", short: "h" },
    },
  });
}
