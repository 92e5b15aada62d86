/**
 * bench:tunnel's native load (`--client native`, `--target native`, the defaults): the same
 * workloads as bench/forward/load.ts + bulk.ts and the same targets as targets.ts, done by
 * small C programs (bench/native/pipe_load.c, pipe_target.c) built on demand.
 *
 * Why: the box has 2 cores, and a Bun load generator plus Bun targets took most of them, so
 * a tunnel's own CPU saving barely showed. Both contenders get the same native load, so the
 * comparison stays fair; `--client bun --target bun` gives the old figures.
 */
import { ensurePipeLoad, ensurePipeTarget } from "../native/build.ts";

/** The figures of one round-trip or new-connection run (as load.ts's). */
export interface LatencyRun {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Runs pipe_load with `args` and parses its one JSON line; throws with its stderr on failure. */
async function pipeLoad<T>(args: string[]): Promise<T> {
  const child = Bun.spawn([ensurePipeLoad(say), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`pipe_load ${args[0]} exited ${code}: ${err.trim()}`);
  return JSON.parse(out.trim()) as T;
}

/** Sequential 64-byte round trips on one connection for `seconds`. */
export function nativeRoundTrips(port: number, seconds: number): Promise<LatencyRun> {
  return pipeLoad(["rtt", "--port", String(port), "--seconds", String(seconds)]);
}

/** `concurrency` loops of connect, 16-byte echo, close, for `seconds`. */
export function nativeNewConns(
  port: number,
  seconds: number,
  concurrency: number,
): Promise<LatencyRun> {
  return pipeLoad([
    "conns",
    "--port",
    String(port),
    "--seconds",
    String(seconds),
    "--concurrency",
    String(concurrency),
  ]);
}

/** MB/s (10^6 bytes per second) for `connections` parallel streams of `bytesEach` to the counted sink. */
export async function nativeCountedBulk(
  port: number,
  connections: number,
  bytesEach: number,
): Promise<number> {
  const result = await pipeLoad<{ mbps: number }>([
    "bulk",
    "--port",
    String(port),
    "--streams",
    String(connections),
    "--bytes",
    String(bytesEach),
  ]);
  return result.mbps;
}

/** Starts pipe_target; resolves with its echo and sink ports once both listen. */
export async function startNativeTargets(): Promise<{
  echo: number;
  sink: number;
  stop: () => void;
}> {
  const child = Bun.spawn([ensurePipeTarget(say)], { stdout: "pipe", stderr: "inherit" });
  const { value } = await child.stdout.getReader().read();
  const ports = JSON.parse(new TextDecoder().decode(value)) as { echo: number; sink: number };
  return { ...ports, stop: () => child.kill("SIGTERM") };
}
