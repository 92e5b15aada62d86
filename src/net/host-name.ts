/**
 * Whether a text can name a host for a listener or a dial: an IPv4 or IPv6 literal, or a DNS
 * name as RFC 1123 (section 2.1) allows it: dot-separated labels of letters, digits and
 * hyphens, 1 to 63 characters each, not starting or ending with a hyphen, at most 253 in
 * all. A name whose labels are all digits is read as an IPv4 address (RFC 1123 2.1: a valid
 * host name never looks like one), so `999.1.1.1` is refused rather than looked up. Checked
 * when the flag is parsed, so `--check` catches `--host 'not an addr'` instead of the start.
 */
import { isIP } from "node:net";

const LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** Why `text` cannot name a host, or undefined when it can. */
export function hostNameProblem(text: string): string | undefined {
  if (isIP(text) !== 0) return undefined;
  if (text.length === 0) return "is empty";
  if (text.length > 253) return "is longer than 253 characters";
  const labels = (text.endsWith(".") ? text.slice(0, -1) : text).split(".");
  if (labels.every((label) => /^\d+$/.test(label))) return "is not an IPv4 address";
  if (!labels.every((label) => LABEL.test(label))) {
    return "is not an IP address or a host name (letters, digits, '-' and '.')";
  }
  return undefined;
}

/** `text` as a host, or throws a plain Error saying why it cannot be one. */
export function parseHostName(text: string): string {
  const problem = hostNameProblem(text);
  if (problem !== undefined) throw new Error(`'${text}' ${problem}`);
  return text;
}
