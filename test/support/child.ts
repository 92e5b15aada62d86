/**
 * Test support for the relay as users run it: `bun run src/main.ts …` in a child process,
 * with its stdout read line by line. Children are killed after each test.
 */
import { afterEach } from "bun:test";
import type { Subprocess } from "bun";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/**
 * Registers an afterEach that kills what the test started; returns `spawn`, which runs
 * `bun run src/main.ts ARGS` with stdout and stderr piped and no stdin.
 */
export function relayProcesses(): (
  args: string[],
  env?: Record<string, string>,
) => Subprocess<"ignore", "pipe", "pipe"> {
  const children: Subprocess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });
  return (args, env = {}) => {
    const child = Bun.spawn(["bun", "run", MAIN, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      env: { ...process.env, ...env },
    });
    children.push(child);
    return child;
  };
}

/** Runs `spawn(args, env)` to its end: its exit status and everything it wrote. */
export async function runToExit(
  spawn: ReturnType<typeof relayProcesses>,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  const child = spawn(args, env);
  const [status, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { status, stdout, stderr };
}

/** Reads a child's stdout as lines, waiting for lines that match. */
export class ChildLines {
  readonly lines: string[] = [];
  private buffered = "";
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  private readonly decoder = new TextDecoder();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The first line (seen or to come) matching `test`; throws if stdout ends first. */
  async waitFor(test: RegExp | ((line: string) => boolean)): Promise<string> {
    const matches = typeof test === "function" ? test : (line: string) => test.test(line);
    for (let seen = 0; ; ) {
      for (; seen < this.lines.length; seen++) {
        if (matches(this.lines[seen] as string)) return this.lines[seen] as string;
      }
      if (!(await this.readMore())) {
        throw new Error(`stdout ended before ${test}; got:\n${this.lines.join("\n")}`);
      }
    }
  }

  /** Like waitFor with a RegExp, returning its match (for capture groups). */
  async match(pattern: RegExp): Promise<RegExpExecArray> {
    return pattern.exec(await this.waitFor(pattern)) as RegExpExecArray;
  }

  /** Reads to the end of the stream. */
  async rest(): Promise<string[]> {
    while (await this.readMore()) {}
    if (this.buffered) this.lines.push(this.buffered);
    return this.lines;
  }

  private async readMore(): Promise<boolean> {
    const { value, done } = await this.reader.read();
    if (done || !value) return false;
    this.buffered += this.decoder.decode(value, { stream: true });
    const parts = this.buffered.split("\n");
    this.buffered = parts.pop() ?? "";
    this.lines.push(...parts);
    return true;
  }
}
