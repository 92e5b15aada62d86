import { describe, expect, test } from "bun:test";
import { summarizeProfile } from "../../bench/report/cpu-profile.ts";

const frame = (id: number, functionName: string, url = "", lineNumber = 0) => ({
  id,
  callFrame: { functionName, url, lineNumber },
});

describe("cpu profile summary", () => {
  test("sums self time per function across nodes, weighted by time deltas", () => {
    const profile = {
      nodes: [
        frame(1, "(root)"),
        frame(2, "write"),
        frame(3, "push", "file:///work/main/src/protocol/line-splitter.ts", 59),
        frame(4, "write"), // the same function reached through another caller
      ],
      samples: [2, 3, 4, 2, 1],
      timeDeltas: [100, 50, 100, 100, 650],
    };
    const rows = summarizeProfile(profile, 3);
    expect(rows.map((r) => r.name)).toEqual([
      "(root)",
      "write",
      "push (protocol/line-splitter.ts:60)",
    ]);
    expect(rows[1]?.selfUs).toBe(300);
    expect(rows[1]?.share).toBeCloseTo(0.3);
  });

  test("without time deltas every sample counts once", () => {
    const rows = summarizeProfile({ nodes: [frame(1, "")], samples: [1, 1] }, 5);
    expect(rows).toEqual([{ name: "(anonymous)", selfUs: 2, share: 1 }]);
  });
});
