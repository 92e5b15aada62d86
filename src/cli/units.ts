/**
 * Parsers for the numeric values the command line takes: ports, byte sizes and durations.
 * Each returns the value or throws a plain Error whose message is the one-line reason;
 * the caller adds which flag it was.
 */

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A TCP port, 0 to 65535 (0 asks the kernel for an ephemeral port). */
export function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`'${text}' is not a port number`);
  const port = Number(text);
  if (port > 65535) throw new Error(`port ${port} is out of range (0-65535)`);
  return port;
}

/** A TCP port as parsePort, or `off` (undefined): a port the program does not open. */
export function parsePortOrOff(text: string): number | undefined {
  return text === "off" ? undefined : parsePort(text);
}

/** A whole number of things: `0`, `100`, `10000`. */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`'${text}' is not a whole number`);
  const count = Number(text.trim());
  if (!Number.isSafeInteger(count)) throw new Error(`'${text}' is too large`);
  return count;
}

/** A byte count: `1048576`, `64k`, `1MiB`, `8mb` (k/m/g are binary, kb/mb/gb decimal). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new Error(`'${text}' is not a size (examples: 65536, 64KiB, 8MiB)`);
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new Error(`'${text}' is too large`);
  return bytes;
}

/** A duration in seconds: `5`, `0.5`, `250ms`, `2s`, `1m`. Returns seconds. */
export function parseSeconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a duration (examples: 5, 0.5, 250ms, 1m)`);
  const value = Number(match[1]);
  switch ((match[2] ?? "s").toLowerCase()) {
    case "ms":
      return value / 1000;
    case "m":
      return value * 60;
    case "h":
      return value * 3600;
    default:
      return value;
  }
}

/** Formats a byte count the way the help text and logs show it: `8 MiB`, `512 KiB`, `100 B`. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
