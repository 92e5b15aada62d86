/**
 * Builds the native bench clients on demand into bench/out/native/ (gitignored), again only
 * when the source is newer than the binary:
 * - bench/native/sat_client.c: the saturation client (lines, frames, NATS);
 * - bench/native/frame_load.c: the framed submit/ack load client (issue 12);
 * - bench/native/pipe_load.c and pipe_target.c: bench:tunnel's load generator and its echo
 *   and counted-sink targets (built by bench/tunnel/native-load.ts, not by this script's main).
 *
 *   bun run bench/native/build.ts     # builds both, prints their paths
 */
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../lib/relay-launcher.ts";
import { needsBuild } from "./native-result.ts";

export const NATIVE_SOURCE = path.join(REPO_ROOT, "bench/native/sat_client.c");
export const NATIVE_BINARY = path.join(REPO_ROOT, "bench/out/native/sat_client");
export const FRAME_LOAD_SOURCE = path.join(REPO_ROOT, "bench/native/frame_load.c");
export const FRAME_LOAD_BINARY = path.join(REPO_ROOT, "bench/out/native/frame_load");
export const PIPE_LOAD_SOURCE = path.join(REPO_ROOT, "bench/native/pipe_load.c");
export const PIPE_LOAD_BINARY = path.join(REPO_ROOT, "bench/out/native/pipe_load");
export const PIPE_TARGET_SOURCE = path.join(REPO_ROOT, "bench/native/pipe_target.c");
export const PIPE_TARGET_BINARY = path.join(REPO_ROOT, "bench/out/native/pipe_target");

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Compiles `source` into `binary` unless the binary is newer; returns its path, throws when cc fails. */
export function ensureNativeBinary(
  source: string,
  binary: string,
  say: (line: string) => void = () => {},
): string {
  const sourceTime = mtimeMs(source);
  if (sourceTime === undefined) throw new Error(`${source} is missing`);
  if (!needsBuild(sourceTime, mtimeMs(binary))) return binary;
  mkdirSync(path.dirname(binary), { recursive: true });
  // Built under a temporary name and renamed: a concurrent run never executes a half-written file.
  const partial = `${binary}.${process.pid}.tmp`;
  const argv = ["cc", "-O2", "-std=c99", "-o", partial, source, "-lpthread"];
  say(`native: ${argv.join(" ")}`);
  const built = Bun.spawnSync(argv, { cwd: REPO_ROOT, stdout: "inherit", stderr: "inherit" });
  if (built.exitCode !== 0) {
    throw new Error(`building ${path.basename(source)} failed (cc exit ${built.exitCode})`);
  }
  Bun.spawnSync(["mv", "-f", partial, binary]);
  return binary;
}

/** The saturation client (sat_client.c), built when needed. */
export function ensureNativeClient(say: (line: string) => void = () => {}): string {
  return ensureNativeBinary(NATIVE_SOURCE, NATIVE_BINARY, say);
}

/** The frame load client (frame_load.c), built when needed. */
export function ensureFrameLoad(say: (line: string) => void = () => {}): string {
  return ensureNativeBinary(FRAME_LOAD_SOURCE, FRAME_LOAD_BINARY, say);
}

/** The pipe benches' load generator (pipe_load.c), built when needed. */
export function ensurePipeLoad(say: (line: string) => void = () => {}): string {
  return ensureNativeBinary(PIPE_LOAD_SOURCE, PIPE_LOAD_BINARY, say);
}

/** The pipe benches' echo and counted-sink targets (pipe_target.c), built when needed. */
export function ensurePipeTarget(say: (line: string) => void = () => {}): string {
  return ensureNativeBinary(PIPE_TARGET_SOURCE, PIPE_TARGET_BINARY, say);
}

if (import.meta.main) {
  const say = (l: string) => process.stderr.write(`${l}\n`);
  process.stdout.write(`${ensureNativeClient(say)}\n${ensureFrameLoad(say)}\n`);
}
