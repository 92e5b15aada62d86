import { describe, expect, test } from "bun:test";
import { sumAccounts } from "../../soak/accounting.ts";
import { judge, type SoakFindings } from "../../soak/report.ts";
import { rssTrend } from "../../soak/rss-trend.ts";

const flat = rssTrend(Array.from({ length: 60 }, (_, t) => ({ atSec: t, rssKiB: 50 * 1024 })));
const rising = rssTrend(
  Array.from({ length: 60 }, (_, t) => ({ atSec: t, rssKiB: (50 + t) * 1024 })),
);

function findings(overrides: Partial<SoakFindings> = {}): SoakFindings {
  return {
    accounts: [],
    totals: sumAccounts([]),
    published: 1000,
    relayReceived: 1000,
    relayExit: 0,
    relayDiedEarly: false,
    publisherCloseProblems: [],
    scenarioProblems: [],
    trend: flat,
    ...overrides,
  };
}

describe("judge", () => {
  test("a clean run passes", () => {
    expect(judge(findings())).toEqual([]);
  });

  test("each failure is one reason", () => {
    expect(judge(findings({ totals: { ...sumAccounts([]), unaccounted: 3 } }))).toEqual([
      "3 messages lost without a logged cause",
    ]);
    expect(judge(findings({ relayReceived: 990 }))).toEqual([
      "the relay received 990 messages; the publishers sent 1000",
    ]);
    expect(judge(findings({ relayReceived: undefined }))).toEqual([
      "the relay logged no BYE line with its totals",
    ]);
    expect(judge(findings({ relayDiedEarly: true, relayExit: "SIGSEGV" }))).toEqual([
      "the relay exited during the run (SIGSEGV)",
    ]);
    expect(judge(findings({ relayExit: 1 }))).toEqual([
      "the relay exited with 1 after SIGTERM, not 0",
    ]);
    expect(
      judge(findings({ publisherCloseProblems: ["publisher x closed with reason=peer_reset"] })),
    ).toEqual(["publisher x closed with reason=peer_reset"]);
    expect(judge(findings({ scenarioProblems: ["churn: ECONNREFUSED"] }))).toEqual([
      "the load failed: churn: ECONNREFUSED",
    ]);
    const [growth] = judge(findings({ trend: rising }));
    expect(growth).toStartWith("RSS keeps growing");
  });
});
