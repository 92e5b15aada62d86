/**
 * Finds or starts the relay under test. If something already accepts on the
 * publisher port it is used as is; otherwise the bench starts this project's
 * relay (or `--relay-cmd`) on the chosen ports, waits until both ports accept,
 * and stops it afterwards. Everything it says goes to stderr, so stdout keeps
 * the article's block first (and `--json` keeps exactly one object).
 *
 * A relay it starts has its stdout read line by line as it is written (the relay's log:
 * our relay's CLOSE, STALL and BYE lines are kept, see relay-log.ts); reading it all the
 * time also keeps a chatty relay from blocking on a full pipe.
 */
import path from "node:path";
import { RelayLogReader } from "./relay-log.ts";

/** Root of this repository (bench/lib -> ../..). */
export const REPO_ROOT = path.resolve(import.meta.dir, "../..");

export const OUR_RELAY_CMD = `${shellQuote(process.execPath)} run src/main.ts --pub-port {pub} --sub-port {sub} --quiet`;
/**
 * Our relay with only its NATS port under test (issue 20): `--nats-port` on the bench's port,
 * its line ports on free ones (port 0) nobody uses.
 */
export const OUR_NATS_RELAY_CMD = `${shellQuote(process.execPath)} run src/main.ts --nats-port {port} --pub-port 0 --sub-port 0 --quiet`;

const START_TIMEOUT_MS = 10_000;

export interface RelayHandle {
  /** What is being measured, for the report. */
  description: string;
  spawned: boolean;
  /** The relay's process id when the bench started it (the shell execs it). */
  pid?: number;
  /** The spawned relay's log as read so far (complete once stop() resolved); null when not spawned. */
  log: RelayLogReader | null;
  stop(): Promise<void>;
}

export interface RelayRequest {
  pubHost: string;
  pubPort: number;
  subHost: string;
  subPort: number;
  noSpawn: boolean;
  relayCmd: string | undefined;
  /** Issue 12: `frame` adds `--framing frame --frame-codes C` to our relay's command. */
  framing?: "line" | "frame";
  frameCodes?: "spec" | "article";
  /** `nats`: the bench speaks NATS on one port, so our relay is started with its NATS port there. */
  protocol?: "line" | "nats";
  /**
   * Wait only for the publisher port (a server with one port, like seed 003's Go server);
   * `{sub}` is still filled in for a relay that has both.
   */
  pubPortOnly?: boolean;
}

/**
 * The flags our relay needs for the bench's framing: none for lines, `--framing frame
 * --frame-codes C` for frames (so `bun run bench --framing frame` needs nothing else).
 */
export function framingFlags(request: Pick<RelayRequest, "framing" | "frameCodes">): string[] {
  if (request.framing !== "frame") return [];
  return ["--framing", "frame", "--frame-codes", request.frameCodes ?? "spec"];
}

/**
 * The command template the bench starts: `--relay-cmd` as given, our relay's NATS port for
 * `--protocol nats`, or our relay's line ports with the framing's flags.
 */
export function relayTemplate(request: RelayRequest): string {
  if (request.relayCmd !== undefined) return request.relayCmd;
  if (request.protocol === "nats") return OUR_NATS_RELAY_CMD;
  return [OUR_RELAY_CMD, ...framingFlags(request)].join(" ");
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Fills `{pub}` and `{sub}` in a relay command template, and `{port}`, the same as `{pub}`:
 * the one port of a NATS server (`nats-server -p {port}`, `--nats-port {port}`).
 */
export function relayCommand(template: string, pubPort: number, subPort: number): string {
  return template
    .replaceAll("{pub}", String(pubPort))
    .replaceAll("{port}", String(pubPort))
    .replaceAll("{sub}", String(subPort));
}

/** True when a TCP connection to host:port succeeds (it is closed again at once). */
export async function isListening(host: string, port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export async function ensureRelay(
  request: RelayRequest,
  say: (line: string) => void,
): Promise<RelayHandle> {
  const where = `${request.pubHost}:${request.pubPort}`;
  const listening = await isListening(request.pubHost, request.pubPort);
  if (listening) {
    if (request.relayCmd !== undefined) {
      throw new Error(`${where} is already in use, so --relay-cmd cannot start a relay there`);
    }
    say(`bench: using the relay already listening on ${where}`);
    return {
      description: `existing relay on ${where}`,
      spawned: false,
      log: null,
      stop: async () => {},
    };
  }
  if (request.noSpawn) throw new Error(`nothing listens on ${where} (and --no-spawn is set)`);

  const template = relayTemplate(request);
  if (
    request.relayCmd !== undefined &&
    request.framing === "frame" &&
    !request.relayCmd.includes("--framing") &&
    request.relayCmd.includes("src/main.ts")
  ) {
    say("bench: --relay-cmd starts our relay without --framing: it will speak lines, not frames");
  }
  if (
    request.relayCmd?.includes("src/main.ts") &&
    request.protocol === "nats" &&
    !request.relayCmd.includes("--nats-port")
  ) {
    say("bench: --relay-cmd starts our relay without --nats-port: NATS will reach a line port");
  }
  if (
    request.relayCmd === undefined &&
    !(await Bun.file(path.join(REPO_ROOT, "src/main.ts")).exists())
  ) {
    throw new Error(
      `nothing listens on ${where} and this project's relay (src/main.ts) does not exist yet; ` +
        `pass --relay-cmd "<command with {pub} {sub}>"`,
    );
  }
  const command = relayCommand(template, request.pubPort, request.subPort);
  say(`bench: nothing listens on ${where}; starting: ${command}`);
  // `exec` makes the relay the shell's process, so our signals reach it directly.
  const child = Bun.spawn(["sh", "-c", `exec ${command}`], {
    cwd: REPO_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderrText = new Response(child.stderr).text();
  const log = new RelayLogReader();
  const logRead = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) log.push(decoder.decode(chunk, { stream: true }));
    log.push(decoder.decode());
    log.end();
  })().catch(() => {});
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const exited = await Promise.race([
        child.exited.then(() => true),
        Bun.sleep(2000).then(() => false),
      ]);
      if (!exited) child.kill("SIGKILL");
      await child.exited;
    }
    // The BYE line is written just before the relay exits; a child that inherited the pipe
    // could keep it open, so the wait is bounded.
    await Promise.race([logRead, Bun.sleep(1000)]);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = (await stderrText).trim().split("\n").slice(-10).join("\n");
      throw new Error(
        `the relay exited (${child.exitCode ?? child.signalCode}) before listening:\n${tail}`,
      );
    }
    const up =
      (await isListening(request.pubHost, request.pubPort)) &&
      (request.pubPortOnly === true || (await isListening(request.subHost, request.subPort)));
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the relay did not listen on ${where} within ${START_TIMEOUT_MS / 1000} s`);
    }
    await Bun.sleep(50);
  }
  return { description: command, spawned: true, pid: child.pid, log, stop };
}
