/**
 * The one style of a failure on stderr: `bun-relay: <reason>` (lowercase, no final period),
 * then for a usage error a pointer to the help of the command as it was started.
 */
import { RelayError } from "../errors.ts";
import { programName } from "./program.ts";

/** The message of a failure: the RelayError's reason, or the error's message. */
export function failureText(error: unknown): string {
  return error instanceof RelayError ? error.reason : String((error as Error)?.message ?? error);
}

/**
 * Writes a failure to stderr and returns `status` for the process to exit with. Status 2 (a
 * usage error) adds `Try '<program> <command> --help'.` (programName).
 */
export function reportFailure(error: unknown, status: number, command = ""): number {
  process.stderr.write(`bun-relay: ${failureText(error)}\n`);
  // `tunnel` without a role passes "tunnel ": one space between words in the hint.
  const words = `${programName()} ${command}`.trim().replace(/\s+/g, " ");
  if (status === 2) process.stderr.write(`Try '${words} --help'.\n`);
  return status;
}

/** --check passed: one line on stdout; returns exit status 0. */
export function reportCheck(command: string, configFile: string | undefined): number {
  const what = configFile === undefined ? "flags and environment" : configFile;
  const mode = command.trim() === "" ? "" : ` (${command.trim()})`;
  process.stdout.write(`bun-relay: configuration OK${mode}: ${what}\n`);
  return 0;
}
