/**
 * A user's publish and subscribe permissions, checked as nats-server 2.9.10 checks them
 * (server/client.go setPermissions, pubAllowedFullCheck, canSubscribe, queueMatches,
 * loadMsgDenyFilter, checkDenySub):
 *
 * - Publish: with a non-empty `allow` list, only subjects it matches; then any
 *   `deny` match refuses. The subject is matched as a literal (`matches`: a published `*` is
 *   an ordinary token). A reply subject is not checked (2.9 checks only reserved prefixes).
 * - Subscribe: with a non-empty `allow`, the subscription's subject must be matched by a rule
 *   without a queue; for a queue subscription, rules with a queue that match the subject
 *   decide instead (the queue must equal one, or fall under a wildcard one). `deny` works
 *   alike and wins. A wildcard subscription is checked as a subject, not as a set: `foo.*` is
 *   not refused by `deny = ["foo.bar"]`.
 * - Delivery: such a wildcard subscription, when some deny rule lies inside it
 *   (subjectIsSubsetMatch), turns on the connection's deny filter; from then on every message
 *   to that connection whose subject a subscribe-deny rule matches is dropped, on every
 *   subscription (queue members included: the group's next member gets it). Without that
 *   trigger nothing is filtered (`deny = ["foo.*"]` does not filter a `*.bar` subscription's
 *   `foo.bar`), exactly as nats-server.
 *
 * One instance per user, shared by its connections; the answers are cached per subject (the
 * cache is cleared when full, as a bound, not for speed).
 */
import type { NatsPermissions, SubjectRule } from "./nats-users.ts";
import { isSubsetMatch, matches } from "./subjects.ts";

/** Cached answers per subject at most (nats-server's maxPermCacheSize is 128; ours is larger). */
const CACHE_MAX = 4096;

function hasWildcard(subject: string): boolean {
  return subject.split(".").some((token) => token === "*" || token === ">");
}

/** Rules without a queue that match `subject`, and rules with one (a Sublist's psubs/qsubs). */
function matchRules(
  rules: readonly SubjectRule[],
  subject: string,
): { plain: boolean; queues: SubjectRule[] } {
  let plain = false;
  const queues: SubjectRule[] = [];
  for (const rule of rules) {
    if (!matches(rule.subject, subject)) continue;
    if (rule.queue === undefined) plain = true;
    else queues.push(rule);
  }
  return { plain, queues };
}

/** client.go queueMatches: the queue is named, or falls under a wildcard queue rule. */
function queueMatches(queue: string, rules: readonly SubjectRule[]): boolean {
  if (rules.length === 0) return true;
  return rules.some((rule) => {
    const name = rule.queue as string;
    return queue === name || (hasWildcard(name) && isSubsetMatch(name, queue));
  });
}

function cached(cache: Map<string, boolean>, subject: string, answer: boolean): boolean {
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(subject, answer);
  return answer;
}

export class UserPermissions {
  private readonly publishAllow: readonly SubjectRule[] | undefined;
  private readonly publishDeny: readonly SubjectRule[] | undefined;
  private readonly subscribeAllow: readonly SubjectRule[] | undefined;
  private readonly subscribeDeny: readonly SubjectRule[] | undefined;
  private readonly publishCache = new Map<string, boolean>();
  private readonly deliveryCache = new Map<string, boolean>();

  constructor(permissions: NatsPermissions) {
    // An empty list is no list: nats-server's config parser leaves an empty `allow` nil
    // (setPermissions then skips it), so `allow = []` allows everything there too.
    this.publishAllow = nonEmpty(permissions.publish?.allow);
    this.publishDeny = nonEmpty(permissions.publish?.deny);
    this.subscribeAllow = nonEmpty(permissions.subscribe?.allow);
    this.subscribeDeny = nonEmpty(permissions.subscribe?.deny);
  }

  /** pubAllowedFullCheck: may this user publish to `subject`? */
  canPublish(subject: string): boolean {
    const allow = this.publishAllow;
    const deny = this.publishDeny;
    if (allow === undefined && deny === undefined) return true;
    const known = this.publishCache.get(subject);
    if (known !== undefined) return known;
    let allowed = allow === undefined || allow.some((rule) => matches(rule.subject, subject));
    if (allowed && deny !== undefined)
      allowed = !deny.some((rule) => matches(rule.subject, subject));
    return cached(this.publishCache, subject, allowed);
  }

  /** canSubscribe: may this user subscribe to `subject` (in `queue`, if given)? */
  canSubscribe(subject: string, queue: string | undefined): boolean {
    let allowed = true;
    if (this.subscribeAllow !== undefined) {
      const found = matchRules(this.subscribeAllow, subject);
      allowed = found.plain;
      if (queue !== undefined && found.queues.length > 0)
        allowed = queueMatches(queue, found.queues);
    }
    if (allowed && this.subscribeDeny !== undefined) {
      const found = matchRules(this.subscribeDeny, subject);
      allowed = !found.plain;
      if (queue !== undefined && found.queues.length > 0)
        allowed = !queueMatches(queue, found.queues);
    }
    return allowed;
  }

  /**
   * True when an allowed subscription to `subject` must turn on the connection's deny filter:
   * it is a wildcard and some subscribe-deny rule lies inside it (canSubscribe's darray scan).
   */
  needsDenyFilter(subject: string): boolean {
    const deny = this.subscribeDeny;
    if (deny === undefined || !hasWildcard(subject)) return false;
    return deny.some((rule) => isSubsetMatch(subject, rule.text));
  }

  /** checkDenySub: with the filter on, is a message on `subject` kept from the connection? */
  deliveryDenied(subject: string): boolean {
    const deny = this.subscribeDeny;
    if (deny === undefined) return false;
    const known = this.deliveryCache.get(subject);
    if (known !== undefined) return known;
    return cached(
      this.deliveryCache,
      subject,
      deny.some((rule) => matches(rule.text, subject)),
    );
  }
}

function nonEmpty(rules: readonly SubjectRule[] | undefined): readonly SubjectRule[] | undefined {
  return rules !== undefined && rules.length > 0 ? rules : undefined;
}

const encoder = new TextEncoder();

/** client.go pubPermissionViolation (Go's %q quoting; subjects are printable ASCII). */
export function publishViolation(subject: string): Uint8Array {
  return encoder.encode(
    `-ERR 'Permissions Violation for Publish to ${JSON.stringify(subject)}'\r\n`,
  );
}

/** client.go subPermissionViolation: the queue is named for a queue subscription. */
export function subscribeViolation(subject: string, queue: string | undefined): Uint8Array {
  const using = queue === undefined ? "" : ` using queue ${JSON.stringify(queue)}`;
  return encoder.encode(
    `-ERR 'Permissions Violation for Subscription to ${JSON.stringify(subject)}${using}'\r\n`,
  );
}
