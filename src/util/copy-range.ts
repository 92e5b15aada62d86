/**
 * Copies `source[sourceStart, sourceEnd)` into `target` at `targetStart` without making a
 * view of either: Node's `Buffer.prototype.copy`, which Bun implements natively and which
 * works on any Uint8Array. For small copies on a hot path it is several times cheaper than
 * `target.set(source.subarray(...), at)`, whose view is an allocation per call (measured:
 * `bun run bench:micro copy-range`). Returns the bytes copied.
 */
export const copyRange = Buffer.prototype.copy as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  sourceStart: number,
  sourceEnd: number,
) => number;
