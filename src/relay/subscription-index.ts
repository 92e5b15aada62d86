/**
 * The subscription index: which subscriptions a published subject reaches. A trie of subject
 * tokens with a front cache of results per published subject, after nats-server 2.9.10
 * `server/sublist.go` (`Sublist`). Pure: no socket, no timer, no protocol; the hub owns the
 * subscriptions (`S` is whatever it uses for one) and picks one member per queue group.
 *
 * ```
 * level: literals Map(token -> node) | partial `*` node | full `>` node
 * node:  plain Map(sub -> seq) | queues Map(name -> Map(sub -> seq)) | next level
 * ```
 *
 * The cache (at most {@link MATCH_CACHE_MAX} subjects) is kept right on every change, as
 * nats-server keeps its own: an insert adds the new subscription to every cached result its
 * subject matches (a copy: results already handed out never change); a remove drops every
 * cached result its subject matches. Past the maximum, the oldest-cached entries are dropped
 * down to {@link MATCH_CACHE_SWEEP_TO} (nats-server drops arbitrary ones, in a goroutine).
 */
import { ErrorCode, RelayError } from "../errors.ts";
import { hasValidStructure, isLiteral, matches, TOKEN_SEPARATOR } from "./subjects.ts";

/** Most published subjects whose match result is cached (sublist.go `slCacheMax`). */
export const MATCH_CACHE_MAX = 1024;
/** A cache past its maximum is swept down to this many entries (sublist.go `slCacheSweep`). */
export const MATCH_CACHE_SWEEP_TO = 512;

/**
 * The subscriptions a published subject reaches. The same object is returned for the same
 * subject while it stays cached (the hub may keep per-result state in a WeakMap), and the
 * index never changes a result it has handed out. Callers must not mutate it either: it is
 * shared through the cache. It is readonly in its type but not frozen, because
 * `Object.freeze` on the four objects cost ~500 ns per uncached match in Bun 1.4.5, more than
 * the trie walk (bench/micro/subscription-index.bench.ts). Only the shared empty result is
 * frozen.
 *
 * - `plain`: every subscription without a queue group, in insertion order (guaranteed: each
 *   (subscription, subject, queue) entry carries an insertion sequence number). A subscription
 *   inserted under two subjects that both match appears twice, as in nats-server.
 * - `queues[i]`: the members of queue group `queueNames[i]`, in insertion order. Groups are
 *   sorted by name (code units), so results are deterministic. Deliver to ONE member of each
 *   group (see queue-pick.ts). A group is never empty.
 */
export interface MatchResult<S> {
  readonly plain: readonly S[];
  readonly queues: readonly (readonly S[])[];
  readonly queueNames: readonly string[];
}

type Members<S> = Map<S, number>; // subscription -> insertion sequence number

interface TrieNode<S> {
  plain: Members<S> | undefined;
  queues: Map<string, Members<S>> | undefined;
  next: TrieLevel<S> | undefined;
}

interface TrieLevel<S> {
  readonly literals: Map<string, TrieNode<S>>;
  partial: TrieNode<S> | undefined;
  full: TrieNode<S> | undefined;
}

const EMPTY_MATCH: MatchResult<never> = Object.freeze({
  plain: Object.freeze([]),
  queues: Object.freeze([]),
  queueNames: Object.freeze([]),
});

/** Which subscriptions each published subject reaches; see the module comment. */
export class SubscriptionIndex<S> {
  private readonly root: TrieLevel<S> = newLevel();
  private readonly cache = new Map<string, MatchResult<S>>();
  private readonly caching: boolean;
  private entries = 0;
  private lastSequence = 0;

  /**
   * `cache: false` stores no match result (nats-server `NewSublistNoCache`, for interest that
   * changes faster than it is matched); every match then walks the trie.
   */
  constructor(options: { readonly cache?: boolean } = {}) {
    this.caching = options.cache ?? true;
  }

  /** Subscriptions held: one per successful insert not yet removed. */
  get count(): number {
    return this.entries;
  }

  /** Published subjects whose result is cached now (at most MATCH_CACHE_MAX). */
  get cacheSize(): number {
    return this.cache.size;
  }

  /**
   * Adds `sub` under the subscription subject `subject` (wildcards allowed), in queue group
   * `queue` if given. Returns false, changing nothing, when `sub` is already there under the
   * same subject and queue.
   *
   * Throws RelayError RELAY_ERR_INVALID_SUBJECT when `subject` has an empty token or a token
   * after `>` (nats-server `Insert`: `ErrInvalidSubject`), or `queue` is the empty string.
   * Whitespace is not checked: validate with isValidSubject first where the protocol wants it.
   */
  insert(sub: S, subject: string, queue?: string): boolean {
    if (!hasValidStructure(subject)) {
      throw new RelayError(ErrorCode.InvalidSubject, `invalid subject "${subject}"`);
    }
    if (queue === "") throw new RelayError(ErrorCode.InvalidSubject, "empty queue group name");
    const tokens = subject.split(TOKEN_SEPARATOR);
    let level = this.root;
    let node = childOrNew(level, tokens[0] as string);
    for (let i = 1; i < tokens.length; i++) {
      level = node.next ??= newLevel();
      node = childOrNew(level, tokens[i] as string);
    }
    const members = membersOf(node, queue);
    if (members.has(sub)) return false;
    members.set(sub, ++this.lastSequence);
    this.entries++;
    this.addToCache(subject, sub, queue);
    return true;
  }

  /**
   * Removes `sub` from `subject` (and `queue`), as given to insert. Returns false when it was
   * not there (including for a subject insert would refuse). Empty trie nodes are pruned.
   */
  remove(sub: S, subject: string, queue?: string): boolean {
    if (!hasValidStructure(subject)) return false;
    const tokens = subject.split(TOKEN_SEPARATOR);
    const path: TrieLevel<S>[] = [];
    let level: TrieLevel<S> | undefined = this.root;
    let node: TrieNode<S> | undefined;
    for (const token of tokens) {
      if (level === undefined) return false;
      node = childOf(level, token);
      if (node === undefined) return false;
      path.push(level);
      level = node.next;
    }
    if (node === undefined) return false;
    const members = queue === undefined ? node.plain : node.queues?.get(queue);
    if (members === undefined || !members.delete(sub)) return false;
    if (members.size === 0) {
      if (queue === undefined) node.plain = undefined;
      else if (node.queues?.delete(queue) && node.queues.size === 0) node.queues = undefined;
    }
    this.entries--;
    this.prune(path, tokens);
    this.removeFromCache(subject);
    return true;
  }

  /**
   * The subscriptions the published subject `subject` reaches. `subject` should be literal; a
   * `*` or `>` token in it is compared as a plain token (nats-server does the same for a
   * non-pedantic PUB). A subject with an empty token reaches nothing and is not cached.
   */
  match(subject: string): MatchResult<S> {
    const cached = this.cache.get(subject);
    if (cached !== undefined) return cached;
    const tokens = subject.split(TOKEN_SEPARATOR);
    if (tokens.includes("")) return EMPTY_MATCH;
    const found: TrieNode<S>[] = [];
    walk(this.root, tokens, 0, found);
    const result = found.length === 0 ? EMPTY_MATCH : buildResult(found);
    if (!this.caching) return result;
    this.cache.set(subject, result);
    if (this.cache.size > MATCH_CACHE_MAX) this.sweepCache();
    return result;
  }

  /**
   * True when `subject` reaches at least one subscription. Answers from the cache when it
   * can; otherwise walks the trie, stopping at the first subscription, and caches nothing.
   */
  hasInterest(subject: string): boolean {
    const cached = this.cache.get(subject);
    if (cached !== undefined) return cached.plain.length > 0 || cached.queues.length > 0;
    const tokens = subject.split(TOKEN_SEPARATOR);
    return !tokens.includes("") && walk(this.root, tokens, 0, undefined);
  }

  /** Drops empty nodes bottom-up along the path of a removed subscription (sublist.go). */
  private prune(path: TrieLevel<S>[], tokens: string[]): void {
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const level = path[depth] as TrieLevel<S>;
      const token = tokens[depth] as string;
      const node = childOf(level, token) as TrieNode<S>;
      if (node.next !== undefined && isEmptyLevel(node.next)) node.next = undefined;
      if (node.plain !== undefined || node.queues !== undefined || node.next !== undefined) return;
      if (token === "*") level.partial = undefined;
      else if (token === ">") level.full = undefined;
      else level.literals.delete(token);
    }
  }

  /** After an insert: every cached result `subject` matches gains `sub` (sublist.go addToCache). */
  private addToCache(subject: string, sub: S, queue: string | undefined): void {
    if (isLiteral(subject)) {
      const cached = this.cache.get(subject);
      if (cached !== undefined) this.cache.set(subject, withAdded(cached, sub, queue));
      return;
    }
    for (const [published, cached] of this.cache) {
      if (matches(subject, published)) this.cache.set(published, withAdded(cached, sub, queue));
    }
  }

  /** After a remove: every cached result `subject` matches is dropped (sublist.go removeFromCache). */
  private removeFromCache(subject: string): void {
    if (isLiteral(subject)) {
      this.cache.delete(subject);
      return;
    }
    for (const published of this.cache.keys()) {
      if (matches(subject, published)) this.cache.delete(published);
    }
  }

  /** Drops the oldest-cached results (a Map iterates in insertion order) down to SWEEP_TO. */
  private sweepCache(): void {
    for (const published of this.cache.keys()) {
      if (this.cache.size <= MATCH_CACHE_SWEEP_TO) return;
      this.cache.delete(published);
    }
  }
}

function newLevel<S>(): TrieLevel<S> {
  return { literals: new Map(), partial: undefined, full: undefined };
}

function childOf<S>(level: TrieLevel<S>, token: string): TrieNode<S> | undefined {
  if (token === "*") return level.partial;
  if (token === ">") return level.full;
  return level.literals.get(token);
}

function childOrNew<S>(level: TrieLevel<S>, token: string): TrieNode<S> {
  const existing = childOf(level, token);
  if (existing !== undefined) return existing;
  const node: TrieNode<S> = { plain: undefined, queues: undefined, next: undefined };
  if (token === "*") level.partial = node;
  else if (token === ">") level.full = node;
  else level.literals.set(token, node);
  return node;
}

function isEmptyLevel<S>(level: TrieLevel<S>): boolean {
  return level.literals.size === 0 && level.partial === undefined && level.full === undefined;
}

/** The member map `queue` (or the plain one) of `node`, created when missing. */
function membersOf<S>(node: TrieNode<S>, queue: string | undefined): Members<S> {
  if (queue === undefined) {
    node.plain ??= new Map();
    return node.plain;
  }
  node.queues ??= new Map();
  let members = node.queues.get(queue);
  if (members === undefined) {
    members = new Map();
    node.queues.set(queue, members);
  }
  return members;
}

/**
 * Descends the trie along the published `tokens` from `tokens[start]` (sublist.go
 * matchLevel). With `found`, pushes every node that matches (some may hold no subscription)
 * and returns false; without, returns true at the first node holding a subscription.
 */
function walk<S>(
  from: TrieLevel<S>,
  tokens: readonly string[],
  start: number,
  found: TrieNode<S>[] | undefined,
): boolean {
  let level: TrieLevel<S> | undefined = from;
  let node: TrieNode<S> | undefined;
  let partial: TrieNode<S> | undefined;
  for (let i = start; i < tokens.length; i++) {
    if (level === undefined) return false;
    if (level.full !== undefined && reached(level.full, found)) return true;
    partial = level.partial;
    if (partial?.next !== undefined && walk(partial.next, tokens, i + 1, found)) return true;
    node = level.literals.get(tokens[i] as string);
    level = node?.next;
  }
  if (node !== undefined && reached(node, found)) return true;
  return partial !== undefined && reached(partial, found);
}

function reached<S>(node: TrieNode<S>, found: TrieNode<S>[] | undefined): boolean {
  if (found === undefined) return node.plain !== undefined || node.queues !== undefined;
  found.push(node);
  return false;
}

/** Gathers the matched nodes' subscriptions, each list in insertion order, groups by name. */
function buildResult<S>(found: readonly TrieNode<S>[]): MatchResult<S> {
  const plainSets: Members<S>[] = [];
  let groups: Map<string, Members<S>[]> | undefined; // most subjects have no queue group
  for (const node of found) {
    if (node.plain !== undefined) plainSets.push(node.plain);
    if (node.queues === undefined) continue;
    groups ??= new Map();
    for (const [name, members] of node.queues) {
      const sets = groups.get(name);
      if (sets === undefined) groups.set(name, [members]);
      else sets.push(members);
    }
  }
  if (plainSets.length === 0 && groups === undefined) return EMPTY_MATCH;
  const plain = inInsertionOrder(plainSets);
  if (groups === undefined) return resultOf(plain, EMPTY_MATCH.queues, EMPTY_MATCH.queueNames);
  const queueNames = [...groups.keys()].sort(byCodeUnits);
  const queues = queueNames.map((name) => inInsertionOrder(groups.get(name) as Members<S>[]));
  return resultOf(plain, queues, queueNames);
}

/** The subscriptions of several member maps, ordered by their sequence numbers. */
function inInsertionOrder<S>(sets: readonly Members<S>[]): S[] {
  if (sets.length === 0) return [];
  const only = sets[0];
  if (sets.length === 1 && only !== undefined) return [...only.keys()]; // already in order
  const entries: [S, number][] = [];
  for (const set of sets) for (const entry of set) entries.push(entry);
  entries.sort((a, b) => a[1] - b[1]);
  return entries.map((entry) => entry[0]);
}

/** A copy of `result` with `sub` added last (its sequence number is the highest). */
function withAdded<S>(result: MatchResult<S>, sub: S, queue: string | undefined): MatchResult<S> {
  if (queue === undefined)
    return resultOf([...result.plain, sub], result.queues, result.queueNames);
  const at = result.queueNames.indexOf(queue);
  const queues = [...result.queues];
  const queueNames = [...result.queueNames];
  if (at >= 0) {
    queues[at] = [...(result.queues[at] as readonly S[]), sub];
  } else {
    let insertAt = queueNames.findIndex((name) => byCodeUnits(queue, name) < 0);
    if (insertAt < 0) insertAt = queueNames.length;
    queues.splice(insertAt, 0, [sub]);
    queueNames.splice(insertAt, 0, queue);
  }
  return resultOf(result.plain, queues, queueNames);
}

function resultOf<S>(
  plain: readonly S[],
  queues: readonly (readonly S[])[],
  queueNames: readonly string[],
): MatchResult<S> {
  return { plain, queues, queueNames };
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
