/**
 * bun-relay's command line: `bun run src/main.ts [PUB_PORT [SUB_PORT]] [options]`.
 *
 * Exit status: 0 after a clean shutdown (or --help), 1 when the relay cannot start,
 * 2 on a bad argument. Errors are one line on stderr, never a stack trace.
 */
import pkg from "../package.json" with { type: "json" };
import { helpText, parseCommandLine } from "./cli/config.ts";
import { RelayError } from "./errors.ts";
import { textLogger } from "./log.ts";
import { Relay } from "./relay/server.ts";

function fail(error: unknown, status: number): never {
  const message =
    error instanceof RelayError ? error.reason : String((error as Error)?.message ?? error);
  process.stderr.write(`bun-relay: ${message}\n`);
  if (status === 2) process.stderr.write("Try 'bun run src/main.ts --help'.\n");
  process.exit(status);
}

function main(argv: string[]): void {
  if (argv[0] === "forward" || argv[0] === "proxy") {
    // The TCP forwarding modes (docs/forwarding.md) load only when asked for.
    import("./forward/forward-cli.ts").then(async (mode) =>
      process.exit(await mode.runForwardingMode(argv)),
    );
    return;
  }
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(argv, process.env);
  } catch (error) {
    fail(error, 2);
  }
  if (command.kind === "help") {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`bun-relay ${pkg.version} (Bun ${Bun.version})\n`);
    return;
  }

  const config = command.config;
  const log = textLogger({ quiet: config.quiet, write: (line) => console.log(line) });
  let relay: Relay;
  try {
    relay = new Relay(config, log);
  } catch (error) {
    fail(error, 1);
  }

  const stop = async (signal: string) => {
    console.log(`${new Date().toISOString()} SIGNAL ${signal} received, shutting down`);
    process.on(signal, () => process.exit(1)); // a second signal does not wait
    // Exit 0 either way: the final BYE line says whether anything could not be flushed.
    await relay.shutdown();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main(process.argv.slice(2));
