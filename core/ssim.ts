/**
 * Structural similarity (SSIM, Wang et al. 2004) of two equal-size gray
 * images, and its multi-scale variant (MS-SSIM, Wang et al. 2003) with
 * optional coarse-to-fine early rejection.
 *
 * Local statistics come from a separable window (Gaussian σ = 1.5 over
 * 11 × 11 by default, or a box) over the "valid" positions only (the window
 * never hangs over an edge), with the standard constants C1 = (0.01·L)² and
 * C2 = (0.03·L)², L = 255.
 *
 * An image's own moments (local mean and local mean of squares) do not
 * depend on the image it is compared with, so they can be computed once and
 * stored ({@link packSsim}): a comparison then filters only the cross
 * product. Fingerprints store exactly this packed form; one-off comparisons
 * pack into scratch buffers.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";
import { downscale2 } from "./ncc.ts";

/** The shape of the local window. */
export type SsimWindow = "gaussian" | "box";

/** Window and constants of SSIM. */
export interface SsimOptions {
  /** Gaussian (standard) or box (uniform) weights. */
  readonly window: SsimWindow;
  /** Gaussian standard deviation in pixels (ignored for a box). */
  readonly sigma: number;
  /**
   * Window radius: the window spans `2·radius + 1` pixels per side. Shrunk
   * automatically when an image is too small to hold it.
   */
  readonly radius: number;
  /** Luminance stabiliser K1 (C1 = (K1·L)²). */
  readonly k1: number;
  /** Contrast stabiliser K2 (C2 = (K2·L)²). */
  readonly k2: number;
  /** Dynamic range L of the pixel values. */
  readonly dynamicRange: number;
}

/** The standard parameters: Gaussian σ = 1.5, 11 × 11, K1 = 0.01, K2 = 0.03, L = 255. */
export const ssimDefaults: Readonly<SsimOptions> = Object.freeze({
  window: "gaussian",
  sigma: 1.5,
  radius: 5,
  k1: 0.01,
  k2: 0.03,
  dynamicRange: 255,
});

/** Means over the window positions of the SSIM map and of its contrast-structure part. */
export interface SsimComponents {
  /** Mean SSIM (luminance × contrast-structure), in [-1, 1]. */
  readonly ssim: number;
  /** Mean contrast-structure term alone, in [-1, 1] (MS-SSIM's finer scales). */
  readonly cs: number;
}

/**
 * Everything a comparison of images of one size needs: the window taps, the
 * packed layout and scratch rows. Reuse one per size; not shareable between
 * concurrent callers (the scratch is shared), which a single JS thread never
 * has.
 *
 * Packed layout of one image (`length` elements): its pixels (`width ·
 * height`), then the local means (`validWidth · validHeight`), then the local
 * means of squares (same size).
 */
export interface SsimLayout {
  /** Image width. */
  readonly width: number;
  /** Image height. */
  readonly height: number;
  /** Window radius actually used (≤ the requested one). */
  readonly radius: number;
  /** Window positions per row: `width − 2·radius`. */
  readonly validWidth: number;
  /** Window positions per column: `height − 2·radius`. */
  readonly validHeight: number;
  /** Elements of one packed image. */
  readonly length: number;
  /** Normalised window taps (`2·radius + 1`). */
  readonly taps: Float64Array;
  /** C1. */
  readonly c1: number;
  /** C2. */
  readonly c2: number;
  /** Scratch: one horizontally filtered plane. */
  readonly rows: Float64Array;
}

/** A packed image: pixels and local moments (see {@link SsimLayout}). */
export type SsimPacked = Float32Array | Float64Array;

function resolveOptions(options: Partial<SsimOptions>): SsimOptions {
  const o = { ...ssimDefaults, ...options };
  if (o.window !== "gaussian" && o.window !== "box") {
    throw new RangeError(`SSIM window must be gaussian or box: ${o.window}`);
  }
  if (!Number.isInteger(o.radius) || o.radius < 0) {
    throw new RangeError(`SSIM radius must be an integer ≥ 0: ${o.radius}`);
  }
  if (!(o.sigma > 0) || !(o.dynamicRange > 0) || !(o.k1 > 0) || !(o.k2 > 0)) {
    throw new RangeError("SSIM sigma, k1, k2 and dynamicRange must be > 0");
  }
  return o;
}

/** The layout for images of `width × height` (the window shrinks to fit). */
export function ssimLayout(
  width: number,
  height: number,
  options: Partial<SsimOptions> = {},
): SsimLayout {
  const o = resolveOptions(options);
  if (!Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RangeError(
      `SSIM image size must be integers: ${width}×${height}`,
    );
  }
  if (width < 1 || height < 1) {
    throw new RangeError(`SSIM image is empty: ${width}×${height}`);
  }
  const radius = Math.min(
    o.radius,
    Math.floor((width - 1) / 2),
    Math.floor((height - 1) / 2),
  );
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const v = o.window === "box"
      ? 1
      : Math.exp(-(k * k) / (2 * o.sigma * o.sigma));
    taps[k + radius] = v;
    sum += v;
  }
  for (let k = 0; k < taps.length; k++) taps[k] /= sum;
  const validWidth = width - 2 * radius;
  const validHeight = height - 2 * radius;
  const valid = validWidth * validHeight;
  return {
    width,
    height,
    radius,
    validWidth,
    validHeight,
    length: width * height + 2 * valid,
    taps,
    c1: (o.k1 * o.dynamicRange) ** 2,
    c2: (o.k2 * o.dynamicRange) ** 2,
    rows: new Float64Array(height * validWidth),
  };
}

/**
 * Horizontal pass of the window over `x · y` (or `x` alone when `b` is
 * undefined): row y, position x of the valid width lands in `layout.rows`.
 */
function filterRows(
  layout: SsimLayout,
  a: SsimPacked | Uint8Array,
  aOff: number,
  b: SsimPacked | Uint8Array | undefined,
  bOff: number,
): void {
  const { width, height, validWidth, taps, rows } = layout;
  const t = taps.length;
  for (let y = 0; y < height; y++) {
    const ra = aOff + y * width, rb = bOff + y * width, ro = y * validWidth;
    for (let x = 0; x < validWidth; x++) {
      let s = 0;
      if (b === undefined) {
        for (let k = 0; k < t; k++) s += taps[k] * a[ra + x + k];
      } else {
        for (let k = 0; k < t; k++) {
          s += taps[k] * (a[ra + x + k] * b[rb + x + k]);
        }
      }
      rows[ro + x] = s;
    }
  }
}

/** Vertical pass of `layout.rows` into `out` at `outOff` (valid positions). */
function filterColumns(
  layout: SsimLayout,
  out: SsimPacked,
  outOff: number,
): void {
  const { validWidth, validHeight, taps, rows } = layout;
  const t = taps.length;
  for (let y = 0; y < validHeight; y++) {
    const o = outOff + y * validWidth;
    for (let x = 0; x < validWidth; x++) {
      let s = 0;
      for (let k = 0, p = y * validWidth + x; k < t; k++, p += validWidth) {
        s += taps[k] * rows[p];
      }
      out[o + x] = s;
    }
  }
}

/**
 * Packs `image` (of the layout's size) into `out` at `offset`: pixels, local
 * means, local means of squares. `out` may be a slot of a feature table.
 */
export function packSsim(
  layout: SsimLayout,
  image: GrayImage,
  out: SsimPacked,
  offset = 0,
): void {
  const { width, height } = layout;
  if (image.width !== width || image.height !== height) {
    throw new RangeError(
      `SSIM layout is ${width}×${height}, image is ${image.width}×${image.height}`,
    );
  }
  const n = width * height;
  out.set(image.data, offset);
  const valid = layout.validWidth * layout.validHeight;
  filterRows(layout, out, offset, undefined, 0);
  filterColumns(layout, out, offset + n);
  // The squares are filtered exactly as a cross product with itself is in
  // compareSsim (same source array, same operations), so an image compared
  // with itself gives σxy = σx² bit for bit and an SSIM of exactly 1.
  filterRows(layout, out, offset, out, offset);
  filterColumns(layout, out, offset + n + valid);
}

/** A packed image in a new Float64Array. */
export function packedSsim(layout: SsimLayout, image: GrayImage): Float64Array {
  const out = new Float64Array(layout.length);
  packSsim(layout, image, out);
  return out;
}

/**
 * SSIM of two packed images (slots `aOff` and `bOff` of `a` and `b`). Both
 * must have been packed with the same layout into arrays of the same element
 * type (the cross moments are rounded like the stored ones, which keeps an
 * identical pair at exactly 1).
 */
export function compareSsim(
  layout: SsimLayout,
  a: SsimPacked,
  aOff: number,
  b: SsimPacked,
  bOff: number,
): SsimComponents {
  const { width, height, validWidth, validHeight, taps, rows, c1, c2 } = layout;
  const n = width * height;
  const valid = validWidth * validHeight;
  filterRows(layout, a, aOff, b, bOff);
  const single = a instanceof Float32Array;
  const t = taps.length;
  const meanA = aOff + n, meanB = bOff + n;
  const sqA = meanA + valid, sqB = meanB + valid;
  let ssimSum = 0, csSum = 0;
  for (let y = 0; y < validHeight; y++) {
    for (let x = 0; x < validWidth; x++) {
      let s = 0;
      for (let k = 0, p = y * validWidth + x; k < t; k++, p += validWidth) {
        s += taps[k] * rows[p];
      }
      const exy = single ? Math.fround(s) : s;
      const q = y * validWidth + x;
      const ma = a[meanA + q], mb = b[meanB + q];
      const ma2 = ma * ma, mb2 = mb * mb, mab = ma * mb;
      const cs = (2 * (exy - mab) + c2) /
        ((a[sqA + q] - ma2) + (b[sqB + q] - mb2) + c2);
      csSum += cs;
      ssimSum += cs * (2 * mab + c1) / (ma2 + mb2 + c1);
    }
  }
  return { ssim: ssimSum / valid, cs: csSum / valid };
}

const layouts = new Map<string, SsimLayout>();

/** A cached layout for one-off comparisons (a few sizes recur: the pyramid levels). */
function cachedLayout(
  width: number,
  height: number,
  options: Partial<SsimOptions>,
): SsimLayout {
  const o = resolveOptions(options);
  const key =
    `${width}x${height}:${o.window}:${o.sigma}:${o.radius}:${o.k1}:${o.k2}:${o.dynamicRange}`;
  let layout = layouts.get(key);
  if (!layout) {
    if (layouts.size > 64) layouts.clear();
    layout = ssimLayout(width, height, o);
    layouts.set(key, layout);
  }
  return layout;
}

/** Scratch planes of the one-off path, grown as needed. */
let planes = new Float64Array(0);

/**
 * Mean SSIM and contrast-structure of two equal-size gray images.
 *
 * The one-off path: all five local moments (two means, two squares, the
 * cross product) in one fused horizontal pass and one fused vertical pass,
 * each pixel read once per pass, nothing packed. About twice as fast as
 * packing both images and comparing them.
 */
export function ssimComponents(
  a: GrayImage,
  b: GrayImage,
  options: Partial<SsimOptions> = {},
): SsimComponents {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(
      `SSIM needs equal sizes: ${a.width}×${a.height} vs ${b.width}×${b.height}`,
    );
  }
  const layout = cachedLayout(a.width, a.height, options);
  const { width, height, validWidth: vw, validHeight: vh, taps, c1, c2 } =
    layout;
  const t = taps.length;
  const plane = height * vw;
  if (planes.length < 5 * plane) planes = new Float64Array(5 * plane);
  const p = planes;
  const pa = a.data, pb = b.data;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < vw; x++) {
      let ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (let k = 0, q = row + x; k < t; k++, q++) {
        const w = taps[k], va = pa[q], vb = pb[q];
        ma += w * va;
        mb += w * vb;
        saa += w * (va * va);
        sbb += w * (vb * vb);
        sab += w * (va * vb);
      }
      const o = y * vw + x;
      p[o] = ma;
      p[plane + o] = mb;
      p[2 * plane + o] = saa;
      p[3 * plane + o] = sbb;
      p[4 * plane + o] = sab;
    }
  }
  let ssimSum = 0, csSum = 0;
  for (let y = 0; y < vh; y++) {
    for (let x = 0; x < vw; x++) {
      let ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (let k = 0, q = y * vw + x; k < t; k++, q += vw) {
        const w = taps[k];
        ma += w * p[q];
        mb += w * p[plane + q];
        saa += w * p[2 * plane + q];
        sbb += w * p[3 * plane + q];
        sab += w * p[4 * plane + q];
      }
      const ma2 = ma * ma, mb2 = mb * mb, mab = ma * mb;
      const cs = (2 * (sab - mab) + c2) / ((saa - ma2) + (sbb - mb2) + c2);
      csSum += cs;
      ssimSum += cs * (2 * mab + c1) / (ma2 + mb2 + c1);
    }
  }
  const valid = vw * vh;
  return { ssim: ssimSum / valid, cs: csSum / valid };
}

/**
 * Mean SSIM of two equal-size gray images, in [-1, 1] (1 = identical).
 *
 * @example
 * ```ts
 * import { ssim } from "./ssim.ts";
 * const img = { width: 16, height: 16, data: new Uint8Array(256).map((_, k) => k) };
 * ssim(img, img); // 1
 * ```
 */
export function ssim(
  a: GrayImage,
  b: GrayImage,
  options: Partial<SsimOptions> = {},
): number {
  return ssimComponents(a, b, options).ssim;
}

/** Wang et al.'s MS-SSIM exponents, finest scale first. */
export const MS_SSIM_WEIGHTS: readonly number[] = Object.freeze([
  0.0448,
  0.2856,
  0.3001,
  0.2363,
  0.1333,
]);

/** Options of {@link msSsim}. */
export interface MsSsimOptions extends SsimOptions {
  /**
   * Exponent of each scale, finest first; its length is the number of
   * scales wanted. Fewer are used when the image is too small to halve
   * (each kept side must stay ≥ 2·radius + 1); the used ones are
   * renormalised to sum 1, so the result stays in [0, 1].
   */
  readonly weights: readonly number[];
  /**
   * Early rejection, coarsest scale first: when a scale's own SSIM falls
   * below its threshold, finer scales are not computed and the result is
   * marked rejected. Empty (the default): every scale is computed.
   */
  readonly thresholds: readonly number[];
}

/** What {@link msSsim} found. */
export interface MsSsimResult {
  /**
   * The weighted geometric mean of the scales computed (negative terms
   * clamped to 0), in [0, 1]. For a rejected pair it is at most the SSIM of
   * the rejecting scale, so it never exceeds that scale's threshold.
   */
  readonly value: number;
  /** SSIM of each computed scale, coarsest first. */
  readonly scales: readonly number[];
  /** Scales available for this size. */
  readonly available: number;
  /** Index (coarsest first) of the scale that rejected the pair, or -1. */
  readonly rejectedAt: number;
}

/** The MS-SSIM pyramid depth usable for an image size and window radius. */
export function msSsimScales(
  width: number,
  height: number,
  wanted: number,
  radius = ssimDefaults.radius,
): number {
  const side = 2 * radius + 1;
  let w = width, h = height, k = 0;
  while (k < wanted && w >= side && h >= side) {
    k++;
    w >>= 1;
    h >>= 1;
  }
  return Math.max(1, k);
}

/**
 * Multi-scale SSIM computed coarse to fine: the pyramid (2×2 area halving)
 * is built first, then scales are compared from the coarsest, where a
 * mismatch is cheapest to see. Each scale contributes its contrast-structure
 * term, the coarsest its full SSIM (luminance is only judged there, as in
 * Wang's definition).
 */
export function msSsim(
  a: GrayImage,
  b: GrayImage,
  options: Partial<MsSsimOptions> = {},
): MsSsimResult {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(
      `MS-SSIM needs equal sizes: ${a.width}×${a.height} vs ${b.width}×${b.height}`,
    );
  }
  const weights = options.weights ?? MS_SSIM_WEIGHTS;
  if (weights.length === 0 || weights.some((w) => !(w >= 0))) {
    throw new RangeError("MS-SSIM weights must be a non-empty list of ≥ 0");
  }
  const thresholds = options.thresholds ?? [];
  const radius = options.radius ?? ssimDefaults.radius;
  const count = msSsimScales(a.width, a.height, weights.length, radius);
  const levelsA: GrayImage[] = [a], levelsB: GrayImage[] = [b];
  for (let k = 1; k < count; k++) {
    levelsA.push(downscale2(levelsA[k - 1]));
    levelsB.push(downscale2(levelsB[k - 1]));
  }
  let total = 0;
  for (let k = 0; k < count; k++) total += weights[k];
  const scales: number[] = [];
  let logSum = 0;
  let rejectedAt = -1;
  for (let c = 0; c < count; c++) {
    const level = count - 1 - c;
    const r = ssimComponents(levelsA[level], levelsB[level], options);
    scales.push(r.ssim);
    const term = c === 0 ? r.ssim : r.cs;
    const w = total > 0 ? weights[level] / total : 1 / count;
    logSum += w * Math.log(Math.max(0, term));
    if (c < thresholds.length && r.ssim < thresholds[c]) {
      rejectedAt = c;
      break;
    }
  }
  let value = Math.exp(logSum);
  if (!(value >= 0)) value = 0;
  if (value > 1) value = 1;
  if (rejectedAt >= 0) {
    value = Math.min(value, Math.max(0, scales[rejectedAt]));
  }
  return { value, scales, available: count, rejectedAt };
}
