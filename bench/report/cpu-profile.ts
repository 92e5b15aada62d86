/**
 * Top entries of a V8/Bun `.cpuprofile` (what `bun --cpu-prof` writes):
 *
 *   bun run bench/report/cpu-profile.ts FILE.cpuprofile [--top 10]
 *
 * Self time per function: every sample is charged to the node it hit, weighted
 * by its time delta, and nodes are summed by function name, file and line.
 * `summarizeProfile` is pure (JSON in, rows out).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas?: number[];
}

export interface ProfileRow {
  /** "name (file:line)", "(program)", "(garbage collector)", ... */
  name: string;
  selfUs: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === "" ? "(anonymous)" : functionName;
  if (url === "") return name;
  const file = url.split("/").slice(-2).join("/");
  return `${name} (${file}:${lineNumber + 1})`;
}

export function summarizeProfile(profile: CpuProfile, top: number): ProfileRow[] {
  const byId = new Map<number, string>();
  for (const node of profile.nodes) byId.set(node.id, frameName(node));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    // Without time deltas every sample counts the same (1 µs).
    const us = Math.max(0, profile.timeDeltas?.[i] ?? 1);
    const name = byId.get(id) ?? "(unknown)";
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfUs]) => ({ name, selfUs, share: total > 0 ? selfUs / total : 0 }));
}

if (import.meta.main) {
  const [file, flag, value] = Bun.argv.slice(2);
  if (file === undefined) {
    process.stderr.write("usage: bun run bench/report/cpu-profile.ts FILE.cpuprofile [--top N]\n");
    process.exit(2);
  }
  const top = flag === "--top" ? Number(value) : 10;
  const rows = summarizeProfile((await Bun.file(file).json()) as CpuProfile, top);
  process.stdout.write("| function | self % |\n|---|---|\n");
  for (const r of rows) process.stdout.write(`| ${r.name} | ${(r.share * 100).toFixed(1)} |\n`);
}
