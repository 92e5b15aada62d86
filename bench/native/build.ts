/**
 * Builds bench/native/sat_client.c on demand into bench/out/native/sat_client
 * (gitignored), again only when the source is newer than the binary.
 *
 *   bun run bench/native/build.ts     # prints the binary's path
 */
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../lib/relay-launcher.ts";
import { needsBuild } from "./native-result.ts";

export const NATIVE_SOURCE = path.join(REPO_ROOT, "bench/native/sat_client.c");
export const NATIVE_BINARY = path.join(REPO_ROOT, "bench/out/native/sat_client");

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Returns the binary's path, compiling it first when needed; throws when cc fails. */
export function ensureNativeClient(say: (line: string) => void = () => {}): string {
  const source = mtimeMs(NATIVE_SOURCE);
  if (source === undefined) throw new Error(`${NATIVE_SOURCE} is missing`);
  if (!needsBuild(source, mtimeMs(NATIVE_BINARY))) return NATIVE_BINARY;
  mkdirSync(path.dirname(NATIVE_BINARY), { recursive: true });
  const argv = ["cc", "-O2", "-std=c99", "-o", NATIVE_BINARY, NATIVE_SOURCE, "-lpthread"];
  say(`native: ${argv.join(" ")}`);
  const built = Bun.spawnSync(argv, { cwd: REPO_ROOT, stdout: "inherit", stderr: "inherit" });
  if (built.exitCode !== 0)
    throw new Error(`building the native client failed (cc exit ${built.exitCode})`);
  return NATIVE_BINARY;
}

if (import.meta.main)
  process.stdout.write(`${ensureNativeClient((l) => process.stderr.write(`${l}\n`))}\n`);
