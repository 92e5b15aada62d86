/**
 * `bun run bench:micro [filter]`: runs every bench/micro/*.bench.ts (or those
 * whose file name contains `filter`) with mitata. No sockets: these time the
 * hot paths on prebuilt bytes. Divide a per-chunk time by the messages per
 * chunk printed in each group title to get a per-message cost.
 */
import path from "node:path";
import { run } from "mitata";

const filter = Bun.argv[2] ?? "";
const dir = import.meta.dir;
const files = [...new Bun.Glob("*.bench.ts").scanSync(dir)]
  .filter((f) => f.includes(filter))
  .sort();
if (files.length === 0) {
  process.stderr.write(`bench:micro: no bench file matches "${filter}"\n`);
  process.exit(2);
}
for (const file of files) await import(path.join(dir, file));
await run();
