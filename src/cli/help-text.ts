/**
 * The relay's --help text, built from its option table (src/cli/config.ts OPTIONS) so it
 * always matches what is parsed. README's usage block is this text (test/docs.test.ts).
 */
import { DEFAULT_CONFIG, OPTIONS } from "./config.ts";
import { builtInRows, optionRows } from "./option-table.ts";
import { programName } from "./program.ts";

/**
 * The --help text, built from the option table so it always matches what is parsed.
 * `program`: how the usage lines start (programName: `bun-relay` or `bun run src/main.ts`).
 */
export function helpText(program: string = programName()): string {
  const rows = optionRows(OPTIONS, DEFAULT_CONFIG, 28);
  return [
    "bun-relay: a TCP pub/sub relay. Publishers send newline-terminated messages to one port;",
    "every message is delivered to every subscriber connected to the other port. With",
    "--framing frame, a port speaks seed 003's length-prefixed frames instead, and publishers",
    'get a SubmitAck for every message (README, "Framed protocol"). With --nats-port, any',
    "NATS client publishes and subscribes by subject on a third port (docs/nats.md).",
    "",
    `Usage: ${program} [PUB_PORT [SUB_PORT]] [options]`,
    `       ${program} forward|proxy --help   (TCP forwarding, HTTP CONNECT proxy)`,
    `       ${program} tunnel client|server --help   (TCP over smux sessions)`,
    "",
    "Options:",
    ...rows,
    ...builtInRows(28, "RELAY_CONFIG"),
    "",
    "Sizes take k/KiB, m/MiB, g/GiB (binary) or kb/mb/gb (decimal); durations take ms, s, m, h.",
    "Signals: SIGINT/SIGTERM stop accepting, flush queued data (up to --shutdown-timeout), exit 0.",
    "SIGHUP reads --tls-cert, --tls-key, --tls-client-ca, --allow-from-file and --users-file again,",
    "and the --config file: what can change live does, one RELOAD line says what needs a restart;",
    "connections stay (NATS clients keep the rights they were admitted with).",
    "Exit status: 0 after a clean shutdown, 1 when the relay cannot start, 2 on a bad argument.",
  ].join("\n");
}
