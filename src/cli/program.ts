/**
 * How the program was started and what it calls itself (issue 23): every usage line and hint
 * names the command a user can type again. `bun-relay …` when run through bin/bun-relay (the
 * package's bin: node_modules/.bin, `bunx bun-relay`; the image's entrypoint) or as a
 * compiled binary (`bun build --compile`), `bun run src/main.ts …` from a checkout.
 */
import pkg from "../../package.json" with { type: "json" };

/**
 * `bun-relay` or `bun run src/main.ts`. A compiled binary's entry lives in Bun's embedded
 * file system (`/$bunfs/…`, `B:/~BUN/…` on Windows); bin/bun-relay (or a symlink to it, or a
 * path through node_modules) is the installed command; anything else is a checkout's
 * src/main.ts.
 */
export function programName(
  main: string = Bun.main,
  script: string | undefined = process.argv[1],
): string {
  if (main.startsWith("/$bunfs/") || main.includes("~BUN")) return "bun-relay";
  const path = script ?? main;
  if (path.includes("/node_modules/") || /(^|\/)bun-relay$/.test(path)) return "bun-relay";
  return "bun run src/main.ts";
}

/** `bun-relay 0.1.0 (Bun 1.4.5)`: what --version prints in every mode. */
export function versionText(): string {
  return `bun-relay ${pkg.version} (Bun ${Bun.version})`;
}

/** Levenshtein distance of two short words (flags, keys, modes). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitute,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The closest of `candidates` to `word` when it is a near miss (at most 2 edits, and fewer
 * than half the word's length), else undefined.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.min(2, Math.ceil(word.length / 2) - 1) || bestDistance === 1
    ? best
    : undefined;
}

/** ` (did you mean 'x'?)` for a near miss, else the empty string. */
export function didYouMean(word: string, candidates: Iterable<string>, prefix = ""): string {
  const match = closest(word, candidates);
  return match === undefined ? "" : ` (did you mean '${prefix}${match}'?)`;
}
