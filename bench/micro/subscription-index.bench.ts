/**
 * The NATS subject path: src/relay/subscription-index.ts answering which subscriptions a
 * published subject reaches. One `match` per published message, so these are per-message
 * costs: a cached subject (a Map lookup), an uncached literal among 1,000 literal
 * subscriptions, and an uncached subject against 1,000 wildcard subscriptions with queue
 * groups. Also: how a subject is cut into tokens, and what one subscribe/unsubscribe costs
 * while the cache is full.
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { SubscriptionIndex } from "../../src/relay/subscription-index.ts";

const SUBSCRIPTIONS = 1000;
const LITERAL_SUBJECTS = Array.from({ length: SUBSCRIPTIONS }, (_, i) => `orders.${i}.created`);
const CYCLING_SUBJECTS = Array.from({ length: 4096 }, (_, i) => `orders.${i}.created`);

/** 1,000 literal subscriptions `orders.<i>.created`, one per subject. */
function literalIndex(cache: boolean): SubscriptionIndex<number> {
  const index = new SubscriptionIndex<number>({ cache });
  for (let i = 0; i < SUBSCRIPTIONS; i++) index.insert(i, `orders.${i}.created`);
  return index;
}

/**
 * 1,000 subscriptions, mostly wildcards, a quarter in queue groups: `orders.<i>.*`,
 * `*.<i>.created`, `orders.<i>.>` (queue `q<i % 8>`) and literals. `orders.7.created`
 * reaches 4 of them plus the two catch-alls.
 */
function wildcardIndex(cache: boolean): SubscriptionIndex<number> {
  const index = new SubscriptionIndex<number>({ cache });
  const shapes = [
    (i: number) => [`orders.${i}.*`],
    (i: number) => [`*.${i}.created`],
    (i: number) => [`orders.${i}.>`, `q${i % 8}`],
    (i: number) => [`orders.${i}.created`],
  ];
  for (let n = 0; n < SUBSCRIPTIONS - 2; n++) {
    const [subject, queue] = (shapes[n % 4] as (i: number) => string[])(n >> 2);
    index.insert(n, subject as string, queue);
  }
  index.insert(SUBSCRIPTIONS - 2, "orders.>");
  index.insert(SUBSCRIPTIONS - 1, ">");
  return index;
}

group("SubscriptionIndex.match (one per published message)", () => {
  summary(() => {
    const cached = literalIndex(true);
    cached.match("orders.7.created");
    bench("cached subject (1,000 literal subscriptions)", () => {
      do_not_optimize(cached.match("orders.7.created"));
    });
    const literal = literalIndex(false);
    let n = 0;
    bench("uncached literal among 1,000 literal subscriptions", () => {
      n = (n + 1) % SUBSCRIPTIONS;
      do_not_optimize(literal.match(LITERAL_SUBJECTS[n] as string));
    });
    const wildcards = wildcardIndex(false);
    bench("uncached subject, 1,000 wildcard subscriptions (6 match, 1 queue group)", () => {
      n = (n + 1) % SUBSCRIPTIONS;
      do_not_optimize(wildcards.match(LITERAL_SUBJECTS[n] as string));
    });
    const cachedWildcards = wildcardIndex(true);
    cachedWildcards.match("orders.7.created");
    bench("cached subject, 1,000 wildcard subscriptions", () => {
      do_not_optimize(cachedWildcards.match("orders.7.created"));
    });
    const cycling = literalIndex(true);
    let c = 0;
    bench("cache on, 4,096 distinct subjects in turn (every match misses, sweeps included)", () => {
      c = (c + 1) & 4095;
      do_not_optimize(cycling.match(CYCLING_SUBJECTS[c] as string));
    });
  });
});

group("cutting a published subject into tokens (match uses split)", () => {
  summary(() => {
    const subject = "orders.eu-west.1234.created";
    bench('subject.split(".")', () => {
      do_not_optimize(subject.split("."));
    });
    const tokens: string[] = [];
    bench("indexOf + slice into a reused array", () => {
      tokens.length = 0;
      let start = 0;
      for (;;) {
        const dot = subject.indexOf(".", start);
        if (dot === -1) break;
        tokens.push(subject.slice(start, dot));
        start = dot + 1;
      }
      tokens.push(subject.slice(start));
      do_not_optimize(tokens);
    });
  });
});

group("subscribe + unsubscribe while 1,024 published subjects are cached", () => {
  summary(() => {
    // Subjects that match none of the cached ones (request/reply inboxes coming and going),
    // so the cache stays full: a literal touches one entry, a wildcard tests all 1,024.
    for (const subject of ["_INBOX.abc123.reply", "_INBOX.*.reply"]) {
      const index = literalIndex(true);
      for (let i = 0; i < 1024; i++) index.match(`orders.${i}.created`);
      bench(`insert + remove ${subject}`, () => {
        index.insert(-1, subject);
        index.remove(-1, subject);
      });
    }
  });
});
