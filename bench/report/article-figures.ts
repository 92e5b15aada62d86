/**
 * The source article's published results (its machine, 16 threads): 1 pub,
 * 3 subs, 10,000 msg/s per publisher, 80-byte messages, 15 s. Its C++ figures
 * were printed with more digits; they are rounded here like the Go client's.
 */
export interface PublishedFigures {
  label: string;
  sentRate: number;
  recvRate: number;
  avgMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export const ARTICLE_SCENARIO = {
  pubs: 1,
  subs: 3,
  rate: 10_000,
  msgSize: 80,
  duration: 15,
} as const;

export const ARTICLE_FIGURES: readonly PublishedFigures[] = [
  {
    label: "article Go",
    sentRate: 7707.53,
    recvRate: 23122.6,
    avgMs: 0.171,
    p50Ms: 0.169,
    p90Ms: 0.22,
    p99Ms: 0.296,
  },
  {
    label: "article C++",
    sentRate: 3650.27,
    recvRate: 10950.8,
    avgMs: 0.258,
    p50Ms: 0.25,
    p90Ms: 0.331,
    p99Ms: 0.437,
  },
];

/** Whether a run used the article's scenario (the duration may differ: rates are per second). */
export function isArticleScenario(o: {
  pubs: number;
  subs: number;
  rate: number;
  msgSize: number;
}): boolean {
  const a = ARTICLE_SCENARIO;
  return o.pubs === a.pubs && o.subs === a.subs && o.rate === a.rate && o.msgSize === a.msgSize;
}
