/**
 * CIDR allow-lists (`--allow-from`): pure parsing and matching, no sockets.
 *
 * Every address and range is held as 128 bits (four 32-bit words, most significant first).
 * An IPv4 address a.b.c.d becomes the IPv4-mapped IPv6 address ::ffff:a.b.c.d and an IPv4
 * prefix /n becomes /(96 + n), so one comparison serves both families, and a peer that a
 * dual-stack listener (`--host ::`) reports as `::ffff:10.1.2.3` is matched by `10.0.0.0/8`
 * exactly as `10.1.2.3` is.
 *
 * Accepted forms: `10.0.0.0/8`, `192.168.1.7` (one host, /32), `2001:db8::/32`, `::1`
 * (/128), `::ffff:10.0.0.0/104`, `0.0.0.0/0` (every IPv4 peer), `::/0` (every peer, IPv4
 * ones included since they are mapped into it). Host bits under the prefix are ignored
 * (`10.1.2.3/8` is `10.0.0.0/8`). IPv4 parts must be plain decimal without leading zeros:
 * `010.0.0.1` is refused rather than guessed (some tools read it as octal).
 */

/** A 128-bit address: four big-endian 32-bit words. */
export type Address128 = readonly [number, number, number, number];

/** One range of an allow-list. */
export interface Cidr {
  /** As written by the user, for logs. */
  readonly text: string;
  /** The network address, host bits cleared. */
  readonly network: Address128;
  /** Prefix length in the 128-bit space (an IPv4 /8 is 104). */
  readonly prefix: number;
  /** The family the user wrote: 4 for a dotted quad, 6 otherwise. */
  readonly family: 4 | 6;
}

const IPV4_MAPPED_HIGH = 0x0000ffff; // word 2 of ::ffff:a.b.c.d

/** Parses a dotted-quad IPv4 address into a 32-bit number, or undefined. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** Parses an IPv6 address (with `::`, an embedded dotted quad) into 8 16-bit groups. */
function parseIpv6Groups(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const side = (half: string): number[] | undefined => {
    if (half === "") return [];
    const groups: number[] = [];
    const pieces = half.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (piece.includes(".")) {
        // A dotted quad is allowed only as the last piece (::ffff:1.2.3.4, 64:ff9b::1.2.3.4).
        if (i !== pieces.length - 1) return undefined;
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(v4 >>> 16, v4 & 0xffff);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
      groups.push(Number.parseInt(piece, 16));
    }
    return groups;
  };
  const head = side(halves[0] as string);
  if (head === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = side(halves[1] as string);
  if (tail === undefined) return undefined;
  // A dotted quad may only end the address, so it cannot be in the head before `::`.
  if ((halves[0] as string).includes(".")) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined; // `::` stands for at least one group
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/**
 * Parses an IPv4 or IPv6 address into 128 bits (IPv4 as ::ffff:a.b.c.d), or undefined when
 * it is not one. A zone (`fe80::1%eth0`) is dropped; brackets (`[::1]`) are accepted.
 */
export function parseAddress(text: string): Address128 | undefined {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  if (!address.includes(":")) {
    const v4 = parseIpv4(address);
    return v4 === undefined ? undefined : [0, 0, IPV4_MAPPED_HIGH, v4];
  }
  const groups = parseIpv6Groups(address);
  if (groups === undefined) return undefined;
  const word = (i: number) =>
    ((((groups[2 * i] as number) << 16) | (groups[2 * i + 1] as number)) >>> 0) as number;
  return [word(0), word(1), word(2), word(3)];
}

/** The mask of word `index` (0..3) for a prefix of `prefix` bits out of 128. */
function maskWord(prefix: number, index: number): number {
  const bits = Math.min(32, Math.max(0, prefix - index * 32));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Parses `ADDRESS[/PREFIX]`. Throws a plain Error whose message says what is wrong.
 */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  if (addressText.includes("%")) {
    throw new Error(`'${text}': a zone (%...) has no place in a range`);
  }
  const address = parseAddress(addressText);
  if (address === undefined) {
    throw new Error(`'${text}' is not an IPv4 or IPv6 address or CIDR range`);
  }
  const family: 4 | 6 = addressText.includes(":") ? 6 : 4;
  const max = family === 4 ? 32 : 128;
  let written = max;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
      throw new Error(`'${text}': the prefix length must be 0 to ${max}`);
    }
    written = Number(prefixText);
  }
  const prefix = family === 4 ? 96 + written : written;
  const network = address.map((word, i) => (word & maskWord(prefix, i)) >>> 0) as unknown;
  return { text: trimmed, network: network as Address128, prefix, family };
}

/** True when `address` (128 bits) is inside `range`. */
export function cidrContains(range: Cidr, address: Address128): boolean {
  for (let i = 0; i < 4; i++) {
    const mask = maskWord(range.prefix, i);
    if (mask === 0) return true;
    if (((address[i] as number) & mask) >>> 0 !== range.network[i]) return false;
  }
  return true;
}

/** Formats 128 bits back as text: a dotted quad for IPv4-mapped addresses, else IPv6. */
export function formatAddress(address: Address128): string {
  if (address[0] === 0 && address[1] === 0 && address[2] === IPV4_MAPPED_HIGH) {
    const v4 = address[3];
    return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  }
  const groups: number[] = [];
  for (const word of address) groups.push(word >>> 16, word & 0xffff);
  // The longest run of two or more zero groups becomes `::` (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

/**
 * An allow-list: a peer is allowed when its address is inside any range. An empty list
 * allows nobody; "no --allow-from" is represented by having no AllowList at all.
 */
export class AllowList {
  private constructor(readonly ranges: readonly Cidr[]) {}

  /** Parses every text; throws a plain Error naming the first bad one. */
  static parse(texts: readonly string[]): AllowList {
    return new AllowList(texts.map(parseCidr));
  }

  /**
   * True when `address` (as Bun reports a peer: `10.1.2.3`, `::1`, `::ffff:10.1.2.3`) is in
   * a range. An address that cannot be parsed is never allowed.
   */
  allows(address: string | undefined): boolean {
    if (address === undefined) return false;
    const parsed = parseAddress(address);
    if (parsed === undefined) return false;
    for (const range of this.ranges) {
      if (cidrContains(range, parsed)) return true;
    }
    return false;
  }

  /** The ranges as written, comma-separated, for logs. */
  toString(): string {
    return this.ranges.map((range) => range.text).join(",");
  }
}

/**
 * Parses the text of an allow-list file: one range per line; `#` starts a comment; blank
 * lines are skipped; commas and spaces also separate ranges. Throws a plain Error naming the
 * line of the first bad range.
 */
export function parseAllowListText(text: string): string[] {
  const ranges: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const content = (lines[i] as string).replace(/#.*$/, "");
    for (const item of content.split(/[\s,]+/)) {
      if (item === "") continue;
      try {
        parseCidr(item);
      } catch (error) {
        throw new Error(`line ${i + 1}: ${(error as Error).message}`);
      }
      ranges.push(item);
    }
  }
  return ranges;
}
