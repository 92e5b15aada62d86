/**
 * The soak's command line. Parsing is pure (argv in, options or a UsageError out) so it is
 * tested without a process. Sizes and durations use the relay's own parsers, so `256k` and
 * `3s` mean here what they mean on the relay's command line.
 */
import { parseArgs } from "node:util";
import { MIN_MSG_SIZE } from "../bench/lib/message.ts";
import { parseSeconds, parseSize } from "../src/cli/units.ts";
import { SLOW_CONSUMER_POLICIES, type SlowConsumerPolicy } from "../src/relay/options.ts";

export interface SoakOptions {
  /** Seconds of load (churn and slow subscribers included); the wind-down comes after. */
  duration: number;
  /** The relay's --slow-consumer policy for this run. */
  policy: SlowConsumerPolicy;
  publishers: number;
  /** Messages per second per publisher. */
  rate: number;
  /** Bytes per message, newline included. */
  msgSize: number;
  /** Regular subscribers kept connected; one joins and one leaves every second. */
  subscribers: number;
  /** Seconds between two slow subscribers; 0: none. */
  slowEvery: number;
  /** The relay's --max-pending, in bytes. Small, so a paused reader passes it in seconds. */
  maxPending: number;
  /** The relay's --write-timeout, in seconds. */
  writeTimeout: number;
  /** Where to copy the relay's log, if anywhere. */
  relayLog: string | undefined;
  help: boolean;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const DEFAULT_SOAK_OPTIONS: Readonly<SoakOptions> = {
  duration: 60,
  policy: "stall",
  publishers: 4,
  rate: 2000,
  msgSize: 128,
  subscribers: 6,
  slowEvery: 10,
  maxPending: 256 * 1024,
  writeTimeout: 3,
  relayLog: undefined,
  help: false,
};

export const USAGE = `Usage: bun run soak [flags]

Starts this project's relay as a child process and holds a steady load on it: publishers
send numbered messages at a fixed rate, one subscriber joins and one leaves every second,
and now and then a slow subscriber stops reading until the relay cuts it or drops for it.
Reports messages in and out per subscriber, losses by cause, and the relay's RSS each
second. Exits 1 if any loss is unaccounted for or the RSS keeps growing.

  --duration S        seconds of load (${DEFAULT_SOAK_OPTIONS.duration})
  --policy P          relay --slow-consumer: ${SLOW_CONSUMER_POLICIES.join(" | ")} (${DEFAULT_SOAK_OPTIONS.policy})
  --publishers N      publishers (${DEFAULT_SOAK_OPTIONS.publishers})
  --rate N            messages/s per publisher (${DEFAULT_SOAK_OPTIONS.rate})
  --msg-size B        bytes per message incl. newline, min ${MIN_MSG_SIZE} (${DEFAULT_SOAK_OPTIONS.msgSize})
  --subscribers N     regular subscribers kept connected (${DEFAULT_SOAK_OPTIONS.subscribers})
  --slow-every S      seconds between slow subscribers, 0 = none (${DEFAULT_SOAK_OPTIONS.slowEvery})
  --max-pending SIZE  relay --max-pending (256k)
  --write-timeout S   relay --write-timeout (${DEFAULT_SOAK_OPTIONS.writeTimeout})
  --relay-log FILE    also write the relay's log lines to FILE
  -h, --help          this text`;

function parseWith<T>(
  name: string,
  raw: string | undefined,
  fallback: T,
  parse: (t: string) => T,
): T {
  if (raw === undefined) return fallback;
  try {
    return parse(raw);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

function wholeNumber(min: number): (text: string) => number {
  return (text) => {
    if (!/^\d+$/.test(text)) throw new Error(`'${text}' is not a whole number`);
    const value = Number(text);
    if (value < min) throw new Error(`must be at least ${min}, got ${value}`);
    return value;
  };
}

function secondsAtLeast(min: number): (text: string) => number {
  return (text) => {
    const value = parseSeconds(text);
    if (value < min) throw new Error(`must be at least ${min}s, got ${value}s`);
    return value;
  };
}

function policy(text: string): SlowConsumerPolicy {
  if ((SLOW_CONSUMER_POLICIES as readonly string[]).includes(text)) {
    return text as SlowConsumerPolicy;
  }
  throw new Error(`'${text}' is not one of: ${SLOW_CONSUMER_POLICIES.join(", ")}`);
}

export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  let values: ReturnType<typeof parseWithNode>["values"];
  try {
    values = parseWithNode(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const d = DEFAULT_SOAK_OPTIONS;
  const options: SoakOptions = {
    // Below 10 s there is no second half worth fitting a memory trend to.
    duration: parseWith("duration", values.duration, d.duration, secondsAtLeast(10)),
    policy: parseWith("policy", values.policy, d.policy, policy),
    publishers: parseWith("publishers", values.publishers, d.publishers, wholeNumber(1)),
    rate: parseWith("rate", values.rate, d.rate, wholeNumber(1)),
    msgSize: parseWith("msg-size", values["msg-size"], d.msgSize, wholeNumber(MIN_MSG_SIZE)),
    subscribers: parseWith("subscribers", values.subscribers, d.subscribers, wholeNumber(1)),
    slowEvery: parseWith("slow-every", values["slow-every"], d.slowEvery, secondsAtLeast(0)),
    maxPending: parseWith("max-pending", values["max-pending"], d.maxPending, parseSize),
    writeTimeout: parseWith(
      "write-timeout",
      values["write-timeout"],
      d.writeTimeout,
      secondsAtLeast(1),
    ),
    relayLog: values["relay-log"],
    help: values.help ?? false,
  };
  if (options.maxPending < 1024) {
    throw new UsageError(`--max-pending must be at least 1 KiB, got ${options.maxPending} B`);
  }
  return options;
}

function parseWithNode(argv: readonly string[]) {
  const text = { type: "string" } as const;
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: text,
      policy: text,
      publishers: text,
      rate: text,
      "msg-size": text,
      subscribers: text,
      "slow-every": text,
      "max-pending": text,
      "write-timeout": text,
      "relay-log": text,
      help: { type: "boolean", short: "h" },
    },
  });
}
