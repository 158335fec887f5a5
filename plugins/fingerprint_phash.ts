/**
 * `phash`: the DCT perceptual hash. The frame (32×32 gray) is taken to the
 * frequency domain with a 2-D DCT-II; the 8×8 lowest frequencies describe the
 * frame's coarse structure, and each becomes one bit: set when the
 * coefficient exceeds the median of the 63 AC coefficients.
 *
 * Thresholding at the median makes the hash independent of brightness and
 * contrast, and the low frequencies ignore noise, compression artefacts and
 * small misalignments, so it is the most robust of the three 64-bit hashes.
 * The DC term (mean brightness) is left out by default: it carries no
 * structure, and including it would let a brightness regrade flip its bit.
 *
 * Only the 64 wanted coefficients are computed, separably (32 rows × 8
 * frequencies, then 8 × 8 columns) with precomputed cosines and the even/odd
 * symmetry of the DCT basis (cos of mirrored samples differ only in sign for
 * odd frequencies), about 5,000 multiply-adds per frame.
 *
 * @module
 */

import { sameFormat } from "../core/frame.ts";
import type { Frame, FrameFormat } from "../core/frame.ts";
import { hashFingerprinter, storeHash } from "../core/hamming.ts";
import type {
  FeatureArray,
  Fingerprinter,
  PluginDefinition,
} from "../core/types.ts";

/** Options of the `phash` fingerprinter. */
export interface PhashOptions {
  /**
   * Let the DC coefficient take part like imagehash's phash does: the median
   * is then taken over all 64 coefficients and bit 0 is the DC's. Off by
   * default: the DC is the frame's mean brightness, which says nothing about
   * structure; without it bit 0 is always 0 and the hash is fully invariant
   * to brightness offsets.
   */
  includeDc: boolean;
}

/** Default `phash` options. */
export const phashDefaults: Readonly<PhashOptions> = { includeDc: false };

/** Side of the input frame. */
const N = 32;
/** Half of it: the symmetric/antisymmetric halves the butterflies produce. */
const H = N / 2;
/** Side of the kept low-frequency block. */
const K = 8;

/** Coefficients smaller than this are rounding error (see `compute`). */
const ZERO = 1e-7;

/**
 * `COS[u * H + x] = cos((2x + 1) u π / 2N)` for x < N/2. The other half of
 * the basis is the mirror image: cos at N-1-x is (-1)^u times cos at x.
 */
const COS = (() => {
  const t = new Float64Array(K * H);
  for (let u = 0; u < K; u++) {
    for (let x = 0; x < H; x++) {
      t[u * H + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
    }
  }
  return t;
})();

/**
 * Puts the `k`-th smallest of `v[0, n)` at `v[k]`, smaller ones before it and
 * larger ones after (Hoare quickselect with median-of-three pivots; linear on
 * average, in place, no allocation).
 */
function selectKth(v: Float64Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three as pivot, which also guards against sorted input.
    const a = v[lo], b = v[mid], c = v[hi];
    const pivot = a < b
      ? (b < c ? b : a < c ? c : a)
      : (a < c ? a : b < c ? c : b);
    let i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k];
}

/** Creates a `phash` fingerprinter: 32×32 gray in, 64-bit hash out. */
export function createPhash(
  options: Partial<PhashOptions> = {},
): Fingerprinter {
  const includeDc = options.includeDc ?? phashDefaults.includeDc;
  if (typeof includeDc !== "boolean") {
    throw new RangeError(`phash includeDc must be a boolean: ${includeDc}`);
  }
  const input: FrameFormat = { width: N, height: N, channels: 1 };
  // Scratch, reused by every call: the row transform (N rows × K
  // frequencies), one column's butterflies, the 8×8 block, and a copy of it
  // for the median search (which reorders its input).
  const rows = new Float64Array(N * K);
  const sum = new Float64Array(H);
  const dif = new Float64Array(H);
  const coef = new Float64Array(K * K);
  const sel = new Float64Array(K * K);
  const first = includeDc ? 0 : 1;
  const count = K * K - first;

  function transform(px: Uint8Array): void {
    // Rows: butterflies, then even frequencies from the sums and odd ones
    // from the differences (half the multiplies of a direct sum).
    for (let y = 0; y < N; y++) {
      const r = y * N;
      for (let x = 0; x < H; x++) {
        const a = px[r + x], b = px[r + N - 1 - x];
        sum[x] = a + b;
        dif[x] = a - b;
      }
      const out = y * K;
      for (let u = 0; u < K; u++) {
        const src = (u & 1) === 0 ? sum : dif;
        const c = u * H;
        let acc = 0;
        for (let x = 0; x < H; x++) acc += COS[c + x] * src[x];
        rows[out + u] = acc;
      }
    }
    // Columns: the same butterfly trick down each of the K kept columns.
    for (let u = 0; u < K; u++) {
      for (let y = 0; y < H; y++) {
        const a = rows[y * K + u], b = rows[(N - 1 - y) * K + u];
        sum[y] = a + b;
        dif[y] = a - b;
      }
      for (let v = 0; v < K; v++) {
        const src = (v & 1) === 0 ? sum : dif;
        const c = v * H;
        let acc = 0;
        for (let y = 0; y < H; y++) acc += COS[c + y] * src[y];
        coef[v * K + u] = acc;
      }
    }
  }

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `phash wants ${N}×${N} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    transform(frame.data);
    // Rounding leaves ~1e-11 where a coefficient is truly 0 (flat frames,
    // flat rows): snap those so such frames hash to stable bits instead of
    // rounding noise. Real coefficients of 8-bit pixels are far larger.
    for (let k = 1; k < K * K; k++) {
      if (coef[k] < ZERO && coef[k] > -ZERO) coef[k] = 0;
    }
    for (let k = 0; k < count; k++) sel[k] = coef[k + first];
    let median: number;
    if ((count & 1) === 1) {
      median = selectKth(sel, count, count >> 1);
    } else {
      // Even count: the mean of the two middle values, so exactly half the
      // (distinct) coefficients lie above it.
      const m = count >> 1;
      const lower = selectKth(sel, count, m - 1);
      let upper = sel[m];
      for (let k = m + 1; k < count; k++) if (sel[k] < upper) upper = sel[k];
      median = (lower + upper) / 2;
    }
    // Bit v*8+u is coefficient (v, u); bit 0 (the DC) stays 0 when excluded.
    let low = 0, high = 0;
    for (let k = first; k < 32; k++) if (coef[k] > median) low |= 1 << k;
    for (let k = 0; k < 32; k++) if (coef[k + 32] > median) high |= 1 << k;
    storeHash(table, index, low, high);
  }

  return hashFingerprinter("phash", input, compute);
}

/** Registry entry of `phash`. */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "phash",
  description:
    "DCT perceptual hash: 32×32 gray, 8×8 low frequencies vs median (64 bits, coarse)",
  create: (o) => createPhash(o as Partial<PhashOptions>),
};
