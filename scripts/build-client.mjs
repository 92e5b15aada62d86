#!/usr/bin/env node
/**
 * Builds what Node and TypeScript users import as `bun-relay/client` (issue 23): the client's
 * JavaScript and declarations under dist/client/ (src/client/ and the protocol files it
 * shares, at their paths under src/), with tsconfig.client.json. Bun imports the .ts source
 * itself (package.json "exports", condition "bun").
 *
 * Plain Node so that `npm pack` (whose `prepack` runs this) needs no Bun. Run it as
 * `bun run build:client` or `node scripts/build-client.mjs`; exit status 1 when tsc fails.
 *
 * tsc rewrites `./x.ts` to `./x.js` in the JavaScript (`rewriteRelativeImportExtensions`) but
 * keeps `./x.ts` in the declarations, which TypeScript then resolves to files that are not
 * shipped and, before 5.0 or without `allowImportingTsExtensions`, refuses. So the relative
 * specifiers of the .d.ts files are rewritten to `.js` here, as the JavaScript has them.
 * `Uint8Array<ArrayBuffer>` becomes `Uint8Array` too: TypeScript before 5.7 has no generic
 * typed arrays and rejects the whole file ("Type 'Uint8Array' is not generic").
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "client");

rmSync(outDir, { recursive: true, force: true });
// typescript's "exports" hide bin/tsc from require.resolve: take it by path.
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.client.json")], {
    stdio: "inherit",
  });
} catch {
  process.exit(1);
}

/** `from "./x.ts"`, `import("../y.ts")`: relative specifiers ending in .ts. */
const RELATIVE_TS = /(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g;
/** A typed array's buffer parameter (TypeScript 5.7+). */
const TYPED_ARRAY_BUFFER = /\bUint8Array<ArrayBuffer(?:Like)?>/g;

let files = 0;
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const path = join(entry.parentPath, entry.name);
  const text = readFileSync(path, "utf8");
  const portable = text
    .replace(RELATIVE_TS, "$1$2$3.js$2")
    .replace(TYPED_ARRAY_BUFFER, "Uint8Array");
  writeFileSync(path, portable);
  files++;
}
console.log(`build-client: ${files} declaration files in ${outDir}`);
