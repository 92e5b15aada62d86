/**
 * Runs a native bench client that says "window-start" and "window-end" on stderr as its
 * measured window opens and closes (sat_client.c, nats_reqrep.c, nats_hold.c), and samples the
 * server's and the client's /proc figures right then, so CPU is measured over the window only.
 */
import { type ProcSample, readProcSample } from "../lib/proc-stats.ts";

export interface WindowedRun {
  stdout: string;
  /** Exit code, or the signal's name when it was killed (e.g. past the time limit). */
  exit: number | string;
  /** What the client said on stderr besides the window markers, trimmed. */
  said: string;
  /** Epoch ms at which the window opened, when it did. */
  windowStartMs: number | undefined;
  /** The server's samples (from `sampleServer`) and the client's, at the window's edges. */
  server: { start?: ProcSample; end?: ProcSample };
  client: { start?: ProcSample; end?: ProcSample };
}

/** Runs `argv` to completion, killing it after `limitSec` s (then `onKill` is told). */
export async function runWindowedClient(
  argv: string[],
  limitSec: number,
  sampleServer: () => ProcSample | undefined,
  onKill: () => void = () => {},
): Promise<WindowedRun> {
  const child = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => {
    onKill();
    child.kill("SIGKILL");
  }, limitSec * 1000);
  const run: WindowedRun = {
    stdout: "",
    exit: 0,
    said: "",
    windowStartMs: undefined,
    server: {},
    client: {},
  };
  let stderr = "";
  const readStderr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      if (text.includes("window-start")) {
        run.windowStartMs = Date.now();
        run.server.start = sampleServer();
        run.client.start = readProcSample(child.pid, run.windowStartMs);
      }
      if (text.includes("window-end")) {
        run.server.end = sampleServer();
        run.client.end = readProcSample(child.pid, Date.now());
      }
      stderr += text;
    }
  })();
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  await readStderr;
  clearTimeout(timer);
  run.stdout = stdout;
  run.exit = code ?? child.signalCode ?? "unknown";
  run.said = stderr.replace(/window-(start|end)\n/g, "").trim();
  return run;
}
