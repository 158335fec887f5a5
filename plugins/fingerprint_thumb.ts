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
 * Storage (Int16Array, `size² + 3` elements per frame, plus `g² + 2` for the
 * coarse part below; 2,186 bytes at 32×32):
 * - `size²` slots: the zero-mean pixels scaled so the vector's L2 norm is
 *   `NORM` (32,000), rounded. A fixed norm uses the whole int16 range
 *   whatever the frame's contrast (no element of a zero-mean vector can
 *   exceed its norm, so nothing overflows), which keeps rounding error near
 *   1e-5 in NCC, far below the 1e-3..1e-2 a 0.25 px shift of smooth footage
 *   causes; and it turns the comparison into one integer dot product.
 * - slot `size²`: the mean × 128 (flat frames are compared by mean).
 * - slots `size² + 1`, `size² + 2`: the exact squared norm of the rounded
 *   vector (high and low 16 bits), 0 for a flat frame. Dividing by the exact
 *   norm rather than `NORM²` makes identical frames exactly 0 apart, and the
 *   0 doubles as the "flat" flag.
 * - when `size` is a multiple of 8: an 8×8 (g×g) pooling of the stored
 *   pixels, stored the same way (zero-mean, scaled to `NORM`, then its exact
 *   squared norm in two slots). `coarseDistance` compares these 64 values
 *   instead of `size²`: the aligner's offset search compares a few dozen fg
 *   frames with every bg frame at every offset (600k comparisons on a
 *   5-minute bg), and only its best candidates are re-scored with the full
 *   thumbnail.
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
  /** Side of the square gray thumbnail, 4..128 (memory is `2·size²` bytes per frame). */
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

/** L2 norm every non-flat feature is scaled to (fits int16, see the module doc). */
const NORM = 32000;
/** Fixed-point scale of the stored mean: 255 × 128 still fits int16. */
const MEAN_SCALE = 128;
/** Mean difference (gray levels) at which two flat frames count as unrelated. */
const FLAT_MEAN_RANGE = 64;

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
  const length = n + 3 + (g ? gn + 2 : 0);
  const cBase = n + 3;
  const pooled = new Float64Array(gn);
  const input: FrameFormat = { width: size, height: size, channels: 1 };
  const invFlatRange = 1 / (MEAN_SCALE * FLAT_MEAN_RANGE);

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `thumb wants ${size}×${size} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    const px = frame.data;
    const base = index * length;
    let sum = 0;
    for (let k = 0; k < n; k++) sum += px[k];
    const mean = sum / n;
    let ss = 0;
    for (let k = 0; k < n; k++) {
      const d = px[k] - mean;
      ss += d * d;
    }
    table[base + n] = Math.round(mean * MEAN_SCALE);
    if (ss < flatStd * flatStd * n || ss === 0) {
      // Flat: pixels are not needed, and a zero norm marks the frame.
      table.fill(0, base, base + n);
      table.fill(0, base + n + 1, base + length);
      return;
    }
    store(px, n, mean, ss, table, base, base + n + 1);
    if (g) pool(table, base);
  }

  /**
   * `values[0..count)` minus `mean`, scaled to the L2 norm `NORM` (`ss`:
   * their sum of squared deviations, > 0) and rounded, at `at`; the exact
   * squared norm of what was stored at `normAt` (two slots).
   */
  function store(
    values: ArrayLike<number>,
    count: number,
    mean: number,
    ss: number,
    table: FeatureArray,
    at: number,
    normAt: number,
  ): void {
    const scale = NORM / Math.sqrt(ss);
    let q2 = 0;
    for (let k = 0; k < count; k++) {
      const q = Math.round((values[k] - mean) * scale);
      table[at + k] = q;
      q2 += q * q;
    }
    // q2 ≈ NORM² < 2^30, so the high half fits int16; the low half is read
    // back unsigned.
    table[normAt] = Math.floor(q2 / 65536);
    table[normAt + 1] = q2 & 0xffff;
  }

  /** The coarse part of the feature at `base` (its pixels are stored). */
  function pool(table: FeatureArray, base: number): void {
    pooled.fill(0);
    for (let y = 0; y < size; y++) {
      const row = base + y * size, out = ((y / b) | 0) * g;
      for (let x = 0; x < size; x++) {
        pooled[out + ((x / b) | 0)] += table[row + x];
      }
    }
    let sum = 0;
    for (let k = 0; k < gn; k++) sum += pooled[k];
    const mean = sum / gn;
    let ss = 0;
    for (let k = 0; k < gn; k++) ss += (pooled[k] - mean) ** 2;
    const c = base + cBase;
    if (ss === 0) {
      // No contrast left at this scale: coarseDistance uses the pixels.
      table.fill(0, c, c + gn + 2);
      return;
    }
    store(pooled, gn, mean, ss, table, c, c + gn);
  }

  /** Like `distance`, on the g×g coarse parts (flat frames alike). */
  function coarseDistance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const ca = i * length + cBase, cb = j * length + cBase;
    const qa = normAt(a, ca + gn), qb = normAt(b, cb + gn);
    if (qa === 0 || qb === 0) return distance(a, i, b, j);
    return nccDistance(a, ca, b, cb, gn, qa, qb);
  }

  function distance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const pa = i * length, pb = j * length;
    const qa = normAt(a, pa + n + 1), qb = normAt(b, pb + n + 1);
    if (qa === 0 || qb === 0) {
      if (qa !== qb) return 1;
      const d = Math.abs(a[pa + n] - b[pb + n]) * invFlatRange;
      return d < 1 ? d : 1;
    }
    return nccDistance(a, pa, b, pb, n, qa, qb);
  }

  return {
    name: "thumb",
    input,
    featureLength: length,
    coarse: false,
    createTable: (count: number) => featureTable(Int16Array, count, length),
    compute,
    distance,
    ...(g ? { coarseDistance } : {}),
  };
}

/** A squared norm stored in two slots at `at` (see the module doc). */
function normAt(t: FeatureArray, at: number): number {
  return t[at] * 65536 + (t[at + 1] & 0xffff);
}

/**
 * 1 − NCC of `count` stored values at `pa` in `a` and `pb` in `b`, whose
 * squared norms `qa`, `qb` are not 0; clamped to [0, 1].
 */
function nccDistance(
  a: FeatureArray,
  pa: number,
  b: FeatureArray,
  pb: number,
  count: number,
  qa: number,
  qb: number,
): number {
  // Four accumulators break the add dependency chain; every partial sum is
  // bounded by NORM² (Cauchy–Schwarz), so they stay small integers.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (const end = count & ~3; k < end; k += 4) {
    s0 += a[pa + k] * b[pb + k];
    s1 += a[pa + k + 1] * b[pb + k + 1];
    s2 += a[pa + k + 2] * b[pb + k + 2];
    s3 += a[pa + k + 3] * b[pb + k + 3];
  }
  for (; k < count; k++) s0 += a[pa + k] * b[pb + k];
  // sqrt(q·q) is exactly q in IEEE arithmetic, so identical frames give 0.
  const d = 1 - (s0 + s1 + s2 + s3) / Math.sqrt(qa * qb);
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
