/**
 * NATS subjects: what a valid subject is, which are literal, and which subjects a pattern
 * matches. Pure functions over strings, ported from nats-server 2.9.10 `server/sublist.go`
 * (and `server/client.go` for where each rule applies); the NUL and UTF-8 checks of
 * `checkRunes` come from nats-server 2.10's `isValidSubject`.
 *
 * A subject is tokens separated by `.`; no token is empty. In a subscription's subject
 * (a pattern), a token that is exactly `*` matches any one token and a last token that is
 * exactly `>` matches one or more tokens. `*` or `>` inside a longer token (`foo*`, `>bar`)
 * is an ordinary character.
 *
 * Where nats-server applies each rule:
 * - SUB: the subject must pass `Sublist.Insert` (no empty token, nothing after `>`), or the
 *   server answers `-ERR 'Invalid Subject'` and keeps the connection (client.go processSubEx).
 *   Whitespace is never checked there: the protocol parser already split on it.
 * - PUB/HPUB: no check at all unless the client is pedantic. A pedantic client (and the
 *   server's default before CONNECT, `defaultOpts{Pedantic: true}`, which a CONNECT without
 *   a `pedantic` field leaves on) gets `-ERR 'Invalid Publish Subject'` when
 *   `IsValidLiteralSubject` fails; the connection stays open and the message is still
 *   delivered (client.go processPub: `sendErr`, then `return nil`).
 * - Matching: a published subject with an empty token matches nothing (sublist.go match
 *   returns `emptyResult`); a published `*` or `>` token is compared as a plain token, so
 *   `PUB foo.*` reaches `foo.*`, `foo.>`, `*.*` and `>` subscribers but not `foo.bar`.
 */

/** Separates the tokens of a subject. */
export const TOKEN_SEPARATOR = ".";
/** A token that is exactly this matches any one token (sublist.go `pwc`). */
export const PARTIAL_WILDCARD = "*";
/** A last token that is exactly this matches one or more tokens (sublist.go `fwc`). */
export const FULL_WILDCARD = ">";

/** The `-ERR` text nats-server sends a pedantic client for a PUB subject that is not literal. */
export const INVALID_PUBLISH_SUBJECT = "Invalid Publish Subject";
/** The `-ERR` text nats-server sends for a SUB whose subject `Sublist.Insert` refuses. */
export const INVALID_SUBJECT = "Invalid Subject";

const DOT = 0x2e;
const STAR = 0x2a;
const GREATER = 0x3e;

/** True for the whitespace nats-server refuses in a subject: space, \t, \n, \f, \r. */
function isSubjectWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

/**
 * True when `subject` is a valid subscription subject: not empty, no empty token, no token
 * containing whitespace (space, \t, \n, \f, \r), and `>` only as the last token. Wildcards are
 * allowed. With `checkRunes`, a NUL character or a U+FFFD replacement character (what invalid
 * UTF-8 decodes to) also makes it invalid.
 *
 * Source: nats-server sublist.go `IsValidSubject` (2.9) / `isValidSubject(subject, checkRunes)`
 * (2.10). Stricter than what a SUB needs (see {@link hasValidStructure}).
 */
export function isValidSubject(subject: string, checkRunes = false): boolean {
  if (subject.length === 0) return false;
  if (checkRunes && (subject.includes("\u0000") || subject.includes("\uFFFD"))) return false;
  let tokenStart = 0;
  let afterFullWildcard = false;
  for (let i = 0; i <= subject.length; i++) {
    const code = i === subject.length ? DOT : subject.charCodeAt(i);
    if (code === DOT) {
      if (i === tokenStart || afterFullWildcard) return false;
      if (i - tokenStart === 1 && subject.charCodeAt(tokenStart) === GREATER) {
        afterFullWildcard = true;
      }
      tokenStart = i + 1;
    } else if (isSubjectWhitespace(code)) {
      return false;
    }
  }
  return true;
}

/**
 * True when `subject` has the structure the subscription index accepts: not empty, no empty
 * token, and `>` only as the last token. Whitespace is not checked.
 *
 * Source: nats-server sublist.go `Insert`/`remove` (`ErrInvalidSubject` when
 * `len(t) == 0 || sfwc`); this is the whole check a SUB subject gets in nats-server.
 */
export function hasValidStructure(subject: string): boolean {
  let tokenStart = 0;
  let afterFullWildcard = false;
  for (let i = 0; i <= subject.length; i++) {
    if (i < subject.length && subject.charCodeAt(i) !== DOT) continue;
    if (i === tokenStart || afterFullWildcard) return false;
    if (i - tokenStart === 1 && subject.charCodeAt(tokenStart) === GREATER) {
      afterFullWildcard = true;
    }
    tokenStart = i + 1;
  }
  return true;
}

/**
 * True when `subject` has no empty token and no wildcard token (`*` or `>` alone). Whitespace
 * is NOT checked. This is the pedantic PUB check: when it fails, nats-server answers a
 * pedantic client `-ERR 'Invalid Publish Subject'` ({@link INVALID_PUBLISH_SUBJECT}).
 *
 * Source: nats-server sublist.go `IsValidLiteralSubject`; client.go processPub/processHeaderPub.
 */
export function isValidLiteralSubject(subject: string): boolean {
  let tokenStart = 0;
  for (let i = 0; i <= subject.length; i++) {
    if (i < subject.length && subject.charCodeAt(i) !== DOT) continue;
    const length = i - tokenStart;
    if (length === 0) return false;
    if (length === 1) {
      const code = subject.charCodeAt(tokenStart);
      if (code === STAR || code === GREATER) return false;
    }
    tokenStart = i + 1;
  }
  return true;
}

/**
 * True when `subject` is a valid subject ({@link isValidSubject}) with no wildcard token.
 *
 * Source: nats-server sublist.go `IsValidPublishSubject`.
 */
export function isValidPublishSubject(subject: string): boolean {
  return isValidSubject(subject) && isLiteral(subject);
}

/**
 * True when no token of `subject` is exactly `*` or `>`. Does not validate anything else
 * (`foo..bar` is literal); `foo*` and `>bar` are literal.
 *
 * Source: nats-server sublist.go `subjectIsLiteral` (used by its cache layer).
 */
export function isLiteral(subject: string): boolean {
  const last = subject.length - 1;
  for (let i = 0; i <= last; i++) {
    const code = subject.charCodeAt(i);
    if (code !== STAR && code !== GREATER) continue;
    const startsToken = i === 0 || subject.charCodeAt(i - 1) === DOT;
    const endsToken = i === last || subject.charCodeAt(i + 1) === DOT;
    if (startsToken && endsToken) return false;
  }
  return true;
}

/**
 * True when the subscription subject `pattern` matches the published subject `subject`,
 * token by token: `*` matches any one token, a last `>` one or more remaining tokens, any
 * other token only itself. A `*` or `>` token in `subject` is compared as a plain token
 * (so `foo.*` matches `foo.*` but `foo.bar` does not). False when either has an empty token,
 * or `pattern` has a token after `>`.
 *
 * Walks both strings without splitting them. For tests and one-off checks: delivery goes
 * through SubscriptionIndex.match.
 *
 * Source: the semantics of nats-server sublist.go `Match` (`matchLevel`), as its cache layer
 * checks them with `matchLiteral(literal, subject)`.
 */
export function matches(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  for (;;) {
    const patternEnd = tokenEnd(pattern, p);
    const subjectEnd = tokenEnd(subject, s);
    if (patternEnd === p || subjectEnd === s) return false; // an empty token (or past the end)
    const isOneChar = patternEnd - p === 1;
    if (isOneChar && pattern.charCodeAt(p) === GREATER) {
      // `>` must be last; it takes the rest, which must have no empty token.
      return patternEnd === pattern.length && hasNoEmptyToken(subject, s);
    }
    const isStar = isOneChar && pattern.charCodeAt(p) === STAR;
    if (!isStar && !sameToken(pattern, p, patternEnd, subject, s, subjectEnd)) return false;
    const patternDone = patternEnd === pattern.length;
    const subjectDone = subjectEnd === subject.length;
    if (patternDone || subjectDone) return patternDone && subjectDone;
    p = patternEnd + 1;
    s = subjectEnd + 1;
  }
}

/**
 * True when every subject that `other` matches is also matched by `pattern` (both may hold
 * wildcards): `>` covers `foo.*`, `*.*` covers `foo.*`, `foo.*` covers `foo.bar`, but
 * `foo.bar` does not cover `foo.*` and `foo.*` does not cover `foo.>`. False when either
 * has an empty token or a token after `>`.
 *
 * Note the argument order: nats-server's `subjectIsSubsetMatch(subject, test)` asks whether
 * `subject` is a subset of `test`, so this is `subjectIsSubsetMatch(other, pattern)`. Unlike
 * upstream's `isSubsetMatchTokenized`, a `pattern` token that merely starts with `*` (`*bar`)
 * is a plain token here, as it is everywhere else.
 *
 * Source: nats-server sublist.go `subjectIsSubsetMatch` / `isSubsetMatchTokenized`; used by
 * permissions (a subscription is allowed when an allow pattern covers it).
 */
export function isSubsetMatch(pattern: string, other: string): boolean {
  if (!hasValidStructure(pattern) || !hasValidStructure(other)) return false;
  const patternTokens = pattern.split(TOKEN_SEPARATOR);
  const otherTokens = other.split(TOKEN_SEPARATOR);
  for (let i = 0; i < patternTokens.length; i++) {
    const covering = patternTokens[i];
    if (covering === FULL_WILDCARD) return i < otherTokens.length;
    const covered = otherTokens[i];
    if (covered === undefined || covered === FULL_WILDCARD) return false;
    if (covering === PARTIAL_WILDCARD) continue;
    if (covered !== covering) return false; // a `*` in `other` is only covered by `*` or `>`
  }
  return patternTokens.length === otherTokens.length;
}

/** The index just past the token that starts at `start`: the next `.`, or the end. */
function tokenEnd(subject: string, start: number): number {
  if (start > subject.length) return start;
  const dot = subject.indexOf(TOKEN_SEPARATOR, start);
  return dot === -1 ? subject.length : dot;
}

function sameToken(
  a: string,
  aStart: number,
  aEnd: number,
  b: string,
  bStart: number,
  bEnd: number,
) {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) {
    if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  }
  return true;
}

/** True when `subject` from `start` on is one or more tokens, none of them empty. */
function hasNoEmptyToken(subject: string, start: number): boolean {
  if (start >= subject.length) return false;
  let tokenStart = start;
  for (let i = start; i <= subject.length; i++) {
    if (i < subject.length && subject.charCodeAt(i) !== DOT) continue;
    if (i === tokenStart) return false;
    tokenStart = i + 1;
  }
  return true;
}
