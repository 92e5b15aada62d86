/**
 * The relay under soak, as a child process: this project's `src/main.ts` on 127.0.0.1 with
 * ephemeral ports (the LISTEN lines say which), a stats line every second, and its log read
 * line by line into a RelayLedger as it is written. Its RSS is read from /proc each second.
 *
 * A child process, not a Relay in this process, so the RSS measured is the relay's alone and
 * the log lines attributed are the ones an operator would read.
 */
import type { Subprocess } from "bun";
import { REPO_ROOT } from "../bench/lib/relay-launcher.ts";
import type { SlowConsumerPolicy } from "../src/relay/options.ts";
import { parseRelayLine, RelayLedger } from "./relay-log.ts";
import type { RssSample } from "./rss-trend.ts";

const START_TIMEOUT_MS = 10_000;
/** After SIGTERM the relay flushes for up to --shutdown-timeout (5 s); then it is killed. */
const STOP_TIMEOUT_MS = 10_000;

export interface RelaySettings {
  policy: SlowConsumerPolicy;
  maxPending: number;
  writeTimeout: number;
  /** Each log line is also handed here (e.g. to copy it to a file). */
  onLine?: (line: string) => void;
}

export function relayArgs(settings: RelaySettings): string[] {
  return [
    "run",
    "src/main.ts",
    "--host",
    "127.0.0.1",
    "--pub-port",
    "0",
    "--sub-port",
    "0",
    "--stats-interval",
    "1",
    "--slow-consumer",
    settings.policy,
    "--max-pending",
    String(settings.maxPending),
    "--write-timeout",
    String(settings.writeTimeout),
  ];
}

/** VmRSS of a process in KiB, or undefined once it is gone. */
export async function readRssKiB(pid: number): Promise<number | undefined> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text();
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class RelayProcess {
  readonly rss: RssSample[] = [];
  readonly pubPort: number;
  readonly subPort: number;
  private readonly startedAt = performance.now();
  private rssTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly child: Subprocess<"ignore", "pipe", "pipe">,
    private readonly logDone: Promise<void>,
    /** Everything the relay logged so far; it keeps filling until the relay exits. */
    readonly ledger: RelayLedger,
    ports: { pub: number; sub: number },
    readonly command: string,
  ) {
    this.pubPort = ports.pub;
    this.subPort = ports.sub;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Starts the relay and resolves once it logged both LISTEN lines. */
  static async start(settings: RelaySettings): Promise<RelayProcess> {
    const args = relayArgs(settings);
    const child = Bun.spawn([process.execPath, ...args], {
      cwd: REPO_ROOT,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const ledger = new RelayLedger();
    let onListening: () => void = () => {};
    const listening = new Promise<void>((resolve) => {
      onListening = resolve;
    });
    const logDone = readLines(child.stdout, (line) => {
      settings.onLine?.(line);
      const record = parseRelayLine(line);
      if (record === undefined) return;
      ledger.add(record);
      if (record.kind === "listen" && ledger.listening.size === 2) onListening();
    });
    const stderr = new Response(child.stderr).text();
    const outcome = await Promise.race([
      listening.then(() => "listening" as const),
      child.exited.then(() => "exited" as const),
      Bun.sleep(START_TIMEOUT_MS).then(() => "timeout" as const),
    ]);
    if (outcome !== "listening") {
      child.kill("SIGKILL");
      const tail = (await stderr).trim().split("\n").slice(-5).join("\n");
      throw new Error(`the relay did not start (${outcome}): ${tail}`);
    }
    const ports = {
      pub: ledger.listening.get("publisher") as number,
      sub: ledger.listening.get("subscriber") as number,
    };
    return new RelayProcess(child, logDone, ledger, ports, `bun ${args.join(" ")}`);
  }

  /** Stops reading VmRSS (the samples taken so far are kept). */
  stopSampling(): void {
    clearInterval(this.rssTimer);
  }

  /** Reads VmRSS once a second from now on, until stopSampling() or stop(). */
  sampleRss(): void {
    const sample = async () => {
      const rssKiB = await readRssKiB(this.pid);
      if (rssKiB === undefined) return;
      this.rss.push({ atSec: (performance.now() - this.startedAt) / 1000, rssKiB });
    };
    void sample();
    this.rssTimer = setInterval(() => void sample(), 1000);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * SIGTERM, then waits for the relay to flush and exit, and for the last log line (BYE).
   * Resolves with the exit code (or the signal name when it had to be killed).
   */
  async stop(): Promise<number | string> {
    clearInterval(this.rssTimer);
    if (!this.exited) this.child.kill("SIGTERM");
    const exited = await Promise.race([
      this.child.exited.then(() => true),
      Bun.sleep(STOP_TIMEOUT_MS).then(() => false),
    ]);
    if (!exited) {
      this.child.kill("SIGKILL");
      await this.child.exited;
    }
    await this.logDone;
    return this.child.exitCode ?? this.child.signalCode ?? "unknown";
  }
}

/** Calls `onLine` for each complete line of a byte stream; resolves at its end. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let newline = rest.indexOf("\n");
    while (newline >= 0) {
      onLine(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
      newline = rest.indexOf("\n");
    }
  }
  if (rest.length > 0) onLine(rest);
}
