/**
 * Argument reading for the NatsParser: splitting a control line's arguments into fields,
 * reading sizes, and the field rules of PUB, HPUB, SUB and UNSUB, over bytes, with no string
 * made on the good path. Mirrors nats-server 2.9.10 (server/client.go processPub,
 * processHeaderPub, parseSub, processUnsub, splitArg; server/util.go parseSize). A rule
 * broken here closes the connection without an `-ERR`, as the error those functions return
 * reaches readLoop, which closes with ProtocolViolation.
 */

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const ZERO = 0x30;
const utf8 = new TextDecoder();
const NINE = 0x39;

/** The most fields any client operation has (HPUB: subject, reply, hdr_len, total_len). */
export const MAX_FIELDS = 4;

/**
 * Field bounds found by splitFields: field i is `[starts[i], ends[i])`. One per parser, reused
 * for every line.
 */
export class Fields {
  readonly starts = new Int32Array(MAX_FIELDS);
  readonly ends = new Int32Array(MAX_FIELDS);
  /** How many fields the last split found (MAX_FIELDS + 1: more than fit). */
  count = 0;
  /** After readPubArgs: the size (PUB) or total_len (HPUB). */
  size = 0;
  /** After readPubArgs: HPUB's hdr_len, -1 for PUB. */
  headerSize = -1;
  /** After readPubArgs: the index of the reply field, or -1 when there is none. */
  reply = -1;
}

/**
 * Splits `bytes[start, end)` into fields separated by runs of blanks, as nats-server does:
 * space and tab for PUB and HPUB (processPub's unrolled loop), and also CR and LF for SUB and
 * UNSUB (splitArg). Fills `fields` with the first MAX_FIELDS and returns how many there are,
 * or MAX_FIELDS + 1 when there are more (every operation refuses that many).
 */
export function splitFields(
  bytes: Uint8Array,
  start: number,
  end: number,
  lineBreaksSeparate: boolean,
  fields: Fields,
): number {
  let count = 0;
  let fieldStart = -1;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    const blank = b === SPACE || b === TAB || (lineBreaksSeparate && (b === CR || b === LF));
    if (blank) {
      if (fieldStart >= 0) {
        if (count === MAX_FIELDS) return tooMany(fields);
        fields.starts[count] = fieldStart;
        fields.ends[count] = i;
        count++;
        fieldStart = -1;
      }
    } else if (fieldStart < 0) {
      fieldStart = i;
    }
  }
  if (fieldStart >= 0) {
    if (count === MAX_FIELDS) return tooMany(fields);
    fields.starts[count] = fieldStart;
    fields.ends[count] = end;
    count++;
  }
  fields.count = count;
  return count;
}

/**
 * Reads `bytes[start, end)` as a size: 1 to 9 decimal digits and nothing else, as
 * nats-server's parseSize (server/util.go: `maxParseSizeLen = 9`). Returns the value, or -1
 * when the field is empty, longer than 9 bytes, or has a byte that is not a digit.
 */
export function parseSize(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 0 || length > 9) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b < ZERO || b > NINE) return -1;
    value = value * 10 + (b - ZERO);
  }
  return value;
}

function tooMany(fields: Fields): number {
  fields.count = MAX_FIELDS + 1;
  return fields.count;
}

/**
 * PUB `<subject> [reply] <size>` or, with `headers`, HPUB `<subject> [reply] <hdr_len>
 * <total_len>`, from `bytes[start, end)`: fields separated by spaces and tabs only (CR and LF
 * are field bytes, as in processPub); each size 1 to 9 digits; hdr_len at most total_len.
 * Fills `fields` (size, headerSize, reply) and returns undefined, or returns why not.
 * The max_payload check is the caller's, as it sends an `-ERR`.
 */
export function readPubArgs(
  bytes: Uint8Array,
  start: number,
  end: number,
  headers: boolean,
  fields: Fields,
): string | undefined {
  const count = splitFields(bytes, start, end, false, fields);
  const least = headers ? 3 : 2;
  const op = headers ? "HPUB" : "PUB";
  if (count !== least && count !== least + 1) {
    return `${op} arguments ${quote(bytes, start, end)} need ${least} or ${least + 1} fields`;
  }
  fields.reply = count === least + 1 ? 1 : -1;
  fields.size = parseSize(
    bytes,
    fields.starts[count - 1] as number,
    fields.ends[count - 1] as number,
  );
  fields.headerSize = headers
    ? parseSize(bytes, fields.starts[count - 2] as number, fields.ends[count - 2] as number)
    : -1;
  if (fields.size < 0 || (headers && fields.headerSize < 0)) {
    return `${op} arguments ${quote(bytes, start, end)}: a size is not 1 to 9 digits`;
  }
  if (fields.headerSize > fields.size) {
    return `HPUB arguments ${quote(bytes, start, end)}: hdr_len above total_len`;
  }
  return undefined;
}

/**
 * SUB `<subject> [queue] <sid>` (parseSub) or UNSUB `<sid> [max]` (processUnsub), from
 * `bytes[start, end)`: fields separated by spaces, tabs, CRs and LFs (splitArg). Fills
 * `fields` and returns undefined, or returns why not. For UNSUB, `fields.size` is the max
 * when it is a positive size, else -1 (nats-server then removes the subscription at once).
 */
export function readSubArgs(
  bytes: Uint8Array,
  start: number,
  end: number,
  unsub: boolean,
  fields: Fields,
): string | undefined {
  const count = splitFields(bytes, start, end, true, fields);
  const least = unsub ? 1 : 2;
  if (count !== least && count !== least + 1) {
    const op = unsub ? "UNSUB" : "SUB";
    return `${op} arguments ${quote(bytes, start, end)} need ${least} or ${least + 1} fields`;
  }
  if (unsub) {
    const max =
      count === 2 ? parseSize(bytes, fields.starts[1] as number, fields.ends[1] as number) : -1;
    fields.size = max > 0 ? max : -1;
  }
  return undefined;
}

/** Field `index` of the last split of `bytes`, decoded as UTF-8. */
export function fieldText(bytes: Uint8Array, fields: Fields, index: number): string {
  return utf8.decode(bytes.subarray(fields.starts[index] as number, fields.ends[index] as number));
}

/** Up to 64 bytes of an argument list, JSON-quoted, for error reasons. */
export function quote(bytes: Uint8Array, start: number, end: number): string {
  const shown = utf8.decode(bytes.subarray(start, Math.min(end, start + 64)));
  return JSON.stringify(end - start > 64 ? `${shown}...` : shown);
}

/**
 * INFO's argument as nats-server's processInfo accepts it (json.Unmarshal into its Info
 * struct), near enough: a JSON object,
 * or `null` (a no-op for Go).
 */
export function isJsonObject(bytes: Uint8Array, start: number, end: number): boolean {
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes.subarray(start, end)));
    return typeof value === "object" && !Array.isArray(value);
  } catch {
    return false;
  }
}
