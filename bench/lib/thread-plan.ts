/**
 * How publishers and subscribers are spread over worker threads. Publishers
 * and subscribers never share a worker: a subscriber parsing a burst must not
 * delay a publisher's next scheduled send. Workers are split in proportion to
 * the connection counts, each side getting at least one, and connections are
 * dealt round-robin.
 */

export interface ThreadPlan {
  /** Worker count actually used (may be below the request when there are few connections). */
  threads: number;
  /** publisherIdsByWorker[w] lists the publisher ids (0-based) hosted by publisher worker w. */
  publisherIdsByWorker: number[][];
  /** subscriberIdsByWorker[w] lists the subscriber ids (0-based) hosted by subscriber worker w. */
  subscriberIdsByWorker: number[][];
}

/** The default --threads: every core, but at least one worker per side. */
export function defaultThreads(cores: number): number {
  return Math.max(2, cores);
}

export function planThreads(pubs: number, subs: number, threads: number): ThreadPlan {
  const wanted = Math.max(2, threads);
  let pubWorkers = Math.min(pubs, Math.max(1, Math.round((wanted * pubs) / (pubs + subs))));
  let subWorkers = Math.min(subs, Math.max(1, wanted - pubWorkers));
  if (pubs === 0) pubWorkers = 0;
  if (subs === 0) subWorkers = 0;
  return {
    threads: pubWorkers + subWorkers,
    publisherIdsByWorker: deal(pubs, pubWorkers),
    subscriberIdsByWorker: deal(subs, subWorkers),
  };
}

function deal(count: number, workers: number): number[][] {
  const out: number[][] = Array.from({ length: workers }, () => []);
  for (let id = 0; id < count; id++) out[id % workers]?.push(id);
  return out;
}
