/**
 * Counts the messages in a run of complete lines in one pass, without a call per message.
 *
 * The relay counts every message exactly, and finding each `\n` with its own `indexOf` call
 * was the largest piece of JavaScript in the relay's profile at saturation (about 11 ns per
 * 80-byte message, most of it the call). A few dozen bytes of WebAssembly SIMD count a
 * 64 KiB read in about a third of that time, including the copy into its memory
 * (`bun run bench:micro`). The same pass tells whether any line ends in `\r\n`, so the
 * splitter knows whether it may forward the run untouched.
 *
 * Where WebAssembly SIMD is missing, the same contract is met with `indexOf`.
 */

/** Newlines in `bytes[start, end)`, or -1 if a `\r` directly precedes any of them there. */
export type NewlineCounter = (bytes: Uint8Array, start: number, end: number) => number;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/** The portable counter: one `indexOf` per line. Also the reference in the tests. */
export const countNewlinesByIndexOf: NewlineCounter = (bytes, start, end) => {
  let count = 0;
  let newline = bytes.indexOf(NEWLINE, start);
  while (newline !== -1 && newline < end) {
    if (newline > start && bytes[newline - 1] === CARRIAGE_RETURN) return -1;
    count++;
    newline = bytes.indexOf(NEWLINE, newline + 1);
  }
  return count;
};

/**
 * The kernel, `count(len)`: newlines in memory `[0, len)`, or -1 if there is any `\r` there.
 * Line ends are rarely `\r\n`, so the kernel only notes that a `\r` exists; the caller then
 * checks the pairs exactly with `indexOf`.
 *
 *   i = 0; end64 = len rounded down to 64
 *   while i < end64:                            ; 64 bytes at a time
 *     stop = min(i + 63 * 64, end64); acc = 0   ; a byte lane counts up to 255 = 63 x 4 (+3)
 *     while i < stop:
 *       for each 16 bytes v at i, i+16, i+32, i+48:
 *         acc -= i8x16.eq(v, splat 10)          ; the compare gives -1 where a newline is
 *         crs |= i8x16.eq(v, splat 13)
 *       i += 64
 *     n += sum of acc's 16 lanes
 *   while i < len:                              ; the last 0-63 bytes
 *     n += mem[i] == 10; tailCr |= mem[i] == 13
 *     i += 1
 *   return any_true(crs) | tailCr ? -1 : n
 */
/**
 * Bytes counted per call: small enough that the copy into the kernel's memory stays in the
 * L1 cache, and a multiple of 64 so only a range's last piece has a tail.
 */
const WINDOW = 16 * 1024;
/**
 * `countNewlines` counts shorter ranges with indexOf: one 80-byte message costs 24 ns that way
 * and 73 ns through the kernel; four cost about the same either way (`bench:micro`).
 */
const SHORT_RANGE_BYTES = 256;

// Locals: 0 len (param); i32: 1 i, 2 end64, 3 n, 4 stop, 5 tailCr, 6 byte; v128: 7 splat10,
// 8 splat13, 9 crs, 10 acc, 11 v.
const get = 0x20;
const set = 0x21;
const i32Const = 0x41;
const i32Add = 0x6a;
const i32And = 0x71;
const i32Or = 0x72;
const i32Eq = 0x46;
const i32GtU = 0x4b;
const i32GeU = 0x4f;
const i32Load8U = [0x2d, 0, 0];
const simd = (op: number) => [0xfd, op];
const v128Load = (offset: number) => [...simd(0x00), 0, offset];
const v128Zero = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const i8x16Splat = simd(0x0f);
const i32x4ExtractLane = (lane: number) => [...simd(0x1b), lane];
const i8x16Eq = simd(0x23);
const v128Or = simd(0x50);
const v128AnyTrue = simd(0x53);
const i8x16Sub = simd(0x71);
const i16x8ExtaddPairwiseU = simd(0x7d);
const i32x4ExtaddPairwiseU = simd(0x7f);
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const br = 0x0c;
const brIf = 0x0d;
const endOp = 0x0b;
const select = 0x1b;
// Signed LEB128 immediates above 63.
const MINUS_64 = [0x40];
const PLUS_64 = [0xc0, 0x00];
const STRETCH = [0xc0, 0x1f]; // 4032 = 63 iterations of 64 bytes

/** One 16-byte vector at `offset` from i: count its newlines into acc, note any \r in crs. */
const vector = (offset: number) => [
  ...[get, 1, ...v128Load(offset), set, 11],
  ...[get, 10, get, 11, get, 7, ...i8x16Eq, ...i8x16Sub, set, 10],
  ...[get, 9, get, 11, get, 8, ...i8x16Eq, ...v128Or, set, 9],
];

const COUNT_BODY = [
  ...[2, 6, 0x7f, 5, 0x7b], // locals: 6 x i32, 5 x v128
  ...[i32Const, NEWLINE, ...i8x16Splat, set, 7],
  ...[i32Const, CARRIAGE_RETURN, ...i8x16Splat, set, 8],
  ...[get, 0, i32Const, ...MINUS_64, i32And, set, 2],
  ...block,
  ...loop, // outer: one stretch of up to 63 iterations
  ...[get, 1, get, 2, i32GeU, brIf, 1],
  ...[get, 1, i32Const, ...STRETCH, i32Add, set, 4],
  ...[get, 2, get, 4, get, 4, get, 2, i32GtU, select, set, 4],
  ...[...v128Zero, set, 10],
  ...block,
  ...loop, // inner: 64 bytes
  ...[get, 1, get, 4, i32GeU, brIf, 1],
  ...vector(0),
  ...vector(16),
  ...vector(32),
  ...vector(48),
  ...[get, 1, i32Const, ...PLUS_64, i32Add, set, 1, br, 0],
  ...[endOp, endOp],
  ...[get, 10, ...i16x8ExtaddPairwiseU, ...i32x4ExtaddPairwiseU, set, 11],
  ...[get, 3, get, 11, ...i32x4ExtractLane(0), i32Add, get, 11, ...i32x4ExtractLane(1), i32Add],
  ...[get, 11, ...i32x4ExtractLane(2), i32Add, get, 11, ...i32x4ExtractLane(3), i32Add, set, 3],
  ...[br, 0],
  ...[endOp, endOp],
  ...block,
  ...loop, // the last 0-63 bytes
  ...[get, 1, get, 0, i32GeU, brIf, 1],
  ...[get, 1, ...i32Load8U, set, 6],
  ...[get, 3, get, 6, i32Const, NEWLINE, i32Eq, i32Add, set, 3],
  ...[get, 5, get, 6, i32Const, CARRIAGE_RETURN, i32Eq, i32Or, set, 5],
  ...[get, 1, i32Const, 1, i32Add, set, 1, br, 0],
  ...[endOp, endOp],
  ...[i32Const, 0x7f /* -1 */, get, 3, get, 9, ...v128AnyTrue, get, 5, i32Or, select],
  endOp,
];

function section(id: number, body: number[]): number[] {
  return [id, ...leb128(body.length), ...body];
}

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
}

const MODULE = Uint8Array.from([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), // one type: (i32) -> i32
  ...section(3, [1, 0]), // one function of that type
  ...section(5, [1, 0, 1]), // one memory of one 64 KiB page: room for a WINDOW
  ...section(7, [2, ...name("count"), 0, 0, ...name("memory"), 2, 0]),
  ...section(10, [1, ...leb128(COUNT_BODY.length), ...COUNT_BODY]),
]);

/** The SIMD counter, or undefined where this runtime cannot compile WebAssembly SIMD. */
export function createSimdNewlineCounter(): NewlineCounter | undefined {
  let exports: WebAssembly.Instance["exports"];
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(MODULE)).exports;
  } catch {
    return undefined;
  }
  const count = exports.count as (length: number) => number;
  const view = new Uint8Array((exports.memory as WebAssembly.Memory).buffer);
  return (bytes, start, end) => {
    // Piece by piece through one small window, so the copy stays in the CPU's nearest cache
    // instead of streaming a whole read (up to 512 KiB) through a second buffer.
    let total = 0;
    for (let at = start; at < end; at += WINDOW) {
      const pieceEnd = Math.min(at + WINDOW, end);
      view.set(bytes.subarray(at, pieceEnd));
      const found = count(pieceEnd - at);
      // A \r somewhere (maybe a \r\n across pieces): let indexOf check the pairs exactly.
      if (found < 0) return countNewlinesByIndexOf(bytes, start, end);
      total += found;
    }
    return total;
  };
}

/** The counter the relay uses: SIMD when available. */
/** The SIMD counter once created; null if this runtime has none. */
let simdCounter: NewlineCounter | null | undefined;

/**
 * The counter the relay uses. Short ranges go to indexOf; the SIMD counter is created on the
 * first long one, so a relay that only ever sees a few messages per read never compiles it
 * (about 1 MB of RSS, which counts with 10,000 idle subscribers).
 */
export const countNewlines: NewlineCounter = (bytes, start, end) => {
  if (end - start >= SHORT_RANGE_BYTES) {
    simdCounter ??= createSimdNewlineCounter() ?? null;
    if (simdCounter !== null) return simdCounter(bytes, start, end);
  }
  return countNewlinesByIndexOf(bytes, start, end);
};
