/**
 * `thumb`: the fine fingerprint. The frame is shrunk to a small gray
 * thumbnail (32×32 by default) and two frames are compared by normalised
 * cross-correlation (NCC) of their pixels: distance = 1 − NCC, clamped to
 * [0, 1].
 *
 * The hashes only say "roughly the same picture"; this one has to tell
 * neighbouring frames of slow footage apart (a pan of a fraction of a pixel
 * per frame at thumbnail scale), so it keeps the pixels themselves. NCC
 * subtracts each frame's mean and divides by its contrast, so a brightness
 * or contrast regrade of one video does not move the distance.
 *
 * Storage (Uint8Array, 1,170 bytes a frame at 32×32; a 20-minute pair holds
 * 63,000 of them, so one byte per pixel matters):
 * - `size²` bytes: the thumbnail's pixels as they are.
 * - 6 bytes: S, the pixel sum; 6 bytes: V = n·Σp² − S² (n² times the
 *   variance), 0 for a flat frame (the 0 doubles as the "flat" flag).
 *   Then NCC(a, b) = (n·Σab − Sa·Sb) / √(Va·Vb), where every term is an
 *   integer below 2^53: the comparison is exact, with no rounding beyond
 *   the thumbnail's own gray levels, and identical frames are exactly 0
 *   apart.
 * - when `size` is a multiple of 8: an 8×8 (g×g) pooling, its g² block sums
 *   as 16-bit values and its own V (6 bytes; 0 when nothing varies at that
 *   scale). `coarseDistance` compares these 64 values instead of `size²`:
 *   the aligner's offset search compares a few dozen fg frames with every
 *   bg frame at every offset (600k comparisons on a 5-minute bg), and only
 *   its best candidates are re-scored with the full thumbnail.
 *
 * @module
 */

import { sameFormat } from "../core/frame.ts";
import type { Frame, FrameFormat } from "../core/frame.ts";
import type {
  FeatureArray,
  Fingerprinter,
  PluginDefinition,
} from "../core/types.ts";
import { featureTable } from "../core/feature_table.ts";

/** Options of the `thumb` fingerprinter. */
export interface ThumbOptions {
  /** Side of the square gray thumbnail, 4..128 (memory is about `size²` bytes per frame). */
  size: number;
  /**
   * Frames whose pixel standard deviation is below this many gray levels are
   * "flat" (fades, black or white frames): their NCC would only correlate
   * noise, so flat frames are compared by mean brightness instead.
   */
  flatStd: number;
}

/** Default `thumb` options. */
export const thumbDefaults: Readonly<ThumbOptions> = { size: 32, flatStd: 2 };

/** Mean difference (gray levels) at which two flat frames count as unrelated. */
const FLAT_MEAN_RANGE = 64;
/** Bytes of one stored sum (see {@link put48}). */
const SUM_BYTES = 6;

/** Creates a `thumb` fingerprinter: size×size gray in, NCC-ready thumbnail out. */
export function createThumb(
  options: Partial<ThumbOptions> = {},
): Fingerprinter {
  const size = options.size ?? thumbDefaults.size;
  const flatStd = options.flatStd ?? thumbDefaults.flatStd;
  if (!Number.isInteger(size) || size < 4 || size > 128) {
    throw new RangeError(`thumb size must be an integer in 4..128: ${size}`);
  }
  if (typeof flatStd !== "number" || !(flatStd >= 0)) {
    throw new RangeError(`thumb flatStd must be a number ≥ 0: ${flatStd}`);
  }
  const n = size * size;
  // The coarse part: g×g blocks of b×b pixels (none for odd sizes).
  const g = size % 8 === 0 && size >= 16 ? 8 : 0;
  const b = g ? size / g : 0, gn = g * g;
  // Offsets within a feature: S, V, then the block sums and their V.
  const sAt = n, vAt = n + SUM_BYTES, cBase = n + 2 * SUM_BYTES;
  const cvAt = cBase + 2 * gn;
  const length = cBase + (g ? 2 * gn + SUM_BYTES : 0);
  // V below this is a flat frame: std < flatStd ⇔ V < (flatStd·n)².
  const flatV = (flatStd * n) ** 2;
  const blocks = new Float64Array(gn);
  const input: FrameFormat = { width: size, height: size, channels: 1 };
  const invFlatRange = 1 / (n * FLAT_MEAN_RANGE);

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `thumb wants ${size}×${size} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    const px = frame.data;
    const base = index * length;
    let sum = 0, squares = 0;
    for (let k = 0; k < n; k++) {
      const v = px[k];
      table[base + k] = v;
      sum += v;
      squares += v * v;
    }
    const v = n * squares - sum * sum;
    const flat = v === 0 || v < flatV;
    put48(table, base + sAt, sum);
    put48(table, base + vAt, flat ? 0 : v);
    if (g) pool(px, table, base, sum, flat);
  }

  /** The coarse part of the feature at `base`: `px`'s block sums. */
  function pool(
    px: Uint8Array,
    table: FeatureArray,
    base: number,
    sum: number,
    flat: boolean,
  ): void {
    blocks.fill(0);
    if (!flat) {
      for (let y = 0; y < size; y++) {
        const row = y * size, out = ((y / b) | 0) * g;
        for (let x = 0; x < size; x++) {
          blocks[out + ((x / b) | 0)] += px[row + x];
        }
      }
    }
    let squares = 0;
    for (let k = 0, at = base + cBase; k < gn; k++, at += 2) {
      const s = blocks[k];
      table[at] = s & 0xff;
      table[at + 1] = s >>> 8;
      squares += s * s;
    }
    // 0 for a flat frame, or when no block differs from another: then
    // coarseDistance falls back to the pixels.
    put48(table, base + cvAt, flat ? 0 : gn * squares - sum * sum);
  }

  /** Like `distance`, on the g×g coarse parts (flat frames alike). */
  function coarseDistance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const pa = i * length, pb = j * length;
    const va = get48(a, pa + cvAt), vb = get48(b, pb + cvAt);
    if (va === 0 || vb === 0) return distance(a, i, b, j);
    const ca = pa + cBase, cb = pb + cBase;
    let s0 = 0, s1 = 0;
    for (let k = 0; k < 2 * gn; k += 4) {
      s0 += (a[ca + k] | (a[ca + k + 1] << 8)) *
        (b[cb + k] | (b[cb + k + 1] << 8));
      s1 += (a[ca + k + 2] | (a[ca + k + 3] << 8)) *
        (b[cb + k + 2] | (b[cb + k + 3] << 8));
    }
    return nccDistance(
      gn * (s0 + s1) - get48(a, pa + sAt) * get48(b, pb + sAt),
      va,
      vb,
    );
  }

  function distance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const pa = i * length, pb = j * length;
    const va = get48(a, pa + vAt), vb = get48(b, pb + vAt);
    const sa = get48(a, pa + sAt), sb = get48(b, pb + sAt);
    if (va === 0 || vb === 0) {
      if (va !== vb) return 1;
      const d = Math.abs(sa - sb) * invFlatRange;
      return d < 1 ? d : 1;
    }
    // Four accumulators break the add dependency chain; each stays below
    // n/4 · 255² < 2^30 (a small integer) for every allowed size.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let k = 0;
    for (const end = n & ~3; k < end; k += 4) {
      s0 += a[pa + k] * b[pb + k];
      s1 += a[pa + k + 1] * b[pb + k + 1];
      s2 += a[pa + k + 2] * b[pb + k + 2];
      s3 += a[pa + k + 3] * b[pb + k + 3];
    }
    for (; k < n; k++) s0 += a[pa + k] * b[pb + k];
    return nccDistance(n * (s0 + s1 + s2 + s3) - sa * sb, va, vb);
  }

  return {
    name: "thumb",
    input,
    featureLength: length,
    coarse: false,
    createTable: (count: number) => featureTable(Uint8Array, count, length),
    compute,
    distance,
    ...(g ? { coarseDistance } : {}),
  };
}

/**
 * Stores `value`, an integer in [0, 2^48), as 6 little-endian bytes: V
 * reaches n²·255²/4 ≈ 4.4·10^12 at the largest size.
 */
function put48(t: FeatureArray, at: number, value: number): void {
  const low = value % 4294967296, high = (value - low) / 4294967296;
  t[at] = low & 0xff;
  t[at + 1] = (low >>> 8) & 0xff;
  t[at + 2] = (low >>> 16) & 0xff;
  t[at + 3] = low >>> 24;
  t[at + 4] = high & 0xff;
  t[at + 5] = high >>> 8;
}

/** Reads what {@link put48} stored. */
function get48(t: FeatureArray, at: number): number {
  return t[at] + t[at + 1] * 256 + t[at + 2] * 65536 +
    t[at + 3] * 16777216 + (t[at + 4] + t[at + 5] * 256) * 4294967296;
}

/**
 * 1 − NCC from the covariance term `num` (n·Σab − Sa·Sb) and the two
 * frames' V (both > 0), clamped to [0, 1].
 */
function nccDistance(num: number, va: number, vb: number): number {
  // sqrt(v·v) is exactly v in IEEE arithmetic, so identical frames give 0.
  const d = 1 - num / Math.sqrt(va * vb);
  return d <= 0 ? 0 : d >= 1 ? 1 : d;
}

/** Registry entry of `thumb`. */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "thumb",
  description:
    "gray thumbnail compared by normalised cross-correlation (fine, regrade-proof)",
  create: (o) => createThumb(o as Partial<ThumbOptions>),
};
