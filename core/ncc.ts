/**
 * Normalised cross-correlation (NCC) kernels for template matching, plus the
 * 2× area-average pyramid the coarse-to-fine searches run on.
 *
 * The template is made zero-mean once ({@link prepareTemplate}); the image
 * window statistics (sum and sum of squares) come from integral images, so
 * every candidate position costs exactly one dot product. Scores are Pearson
 * correlations in [-1, 1]; a flat (zero-variance) template or window scores 0,
 * because "no structure" must never look like a match.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";

/**
 * Summed-area tables of an image region: `sum` and `sumSq` hold the sums of
 * pixel values and squared values above and left of each grid point. The
 * table covers image pixels `[x, x + width) × [y, y + height)` with
 * `(x, y)` = (`originX`, `originY`); entry `(i, j)` (stride `width + 1`) is the
 * sum over the rectangle from the origin to (but excluding) pixel
 * `(originX + i, originY + j)`.
 */
export interface IntegralImages {
  /** Image column of the region's left edge. */
  readonly originX: number;
  /** Image row of the region's top edge. */
  readonly originY: number;
  /** Region width in pixels (the table has `width + 1` columns). */
  readonly width: number;
  /** Region height in pixels (the table has `height + 1` rows). */
  readonly height: number;
  /** Sums of pixel values. Float64 keeps them exact up to 2^53. */
  readonly sum: Float64Array;
  /** Sums of squared pixel values. */
  readonly sumSq: Float64Array;
}

let scratchSum = new Float64Array(0);
let scratchSq = new Float64Array(0);

/**
 * Builds the integral images of `image`, or of the region
 * `[x, x + width) × [y, y + height)` when given (clamped to the image).
 * Cost is one pass over the region.
 */
export function integralImages(
  image: GrayImage,
  x = 0,
  y = 0,
  width: number = image.width - x,
  height: number = image.height - y,
  scratch = false,
): IntegralImages {
  const ox = Math.max(0, x), oy = Math.max(0, y);
  const w = Math.max(0, Math.min(image.width, x + width) - ox);
  const h = Math.max(0, Math.min(image.height, y + height) - oy);
  const stride = w + 1;
  const size = stride * (h + 1);
  let sum: Float64Array, sumSq: Float64Array;
  if (scratch) {
    // Short-lived tables (one nccMap call) reuse one buffer pair: allocating
    // megabytes per call left hundreds of MB of garbage between collections.
    if (scratchSum.length < size) {
      scratchSum = new Float64Array(size);
      scratchSq = new Float64Array(size);
    }
    sum = scratchSum.subarray(0, size);
    sumSq = scratchSq.subarray(0, size);
    // Row 0 and column 0 must be zero; the loop below writes the rest.
    sum.fill(0, 0, stride);
    sumSq.fill(0, 0, stride);
    for (let j = 1; j <= h; j++) {
      sum[j * stride] = 0;
      sumSq[j * stride] = 0;
    }
  } else {
    sum = new Float64Array(size);
    sumSq = new Float64Array(size);
  }
  const src = image.data;
  const iw = image.width;
  for (let j = 0; j < h; j++) {
    let rowSum = 0, rowSq = 0;
    const p = (oy + j) * iw + ox;
    const above = j * stride;
    const here = above + stride;
    for (let i = 0; i < w; i++) {
      const v = src[p + i];
      rowSum += v;
      rowSq += v * v;
      sum[here + i + 1] = sum[above + i + 1] + rowSum;
      sumSq[here + i + 1] = sumSq[above + i + 1] + rowSq;
    }
  }
  return { originX: ox, originY: oy, width: w, height: h, sum, sumSq };
}

/**
 * A template ready for matching: its pixels minus their mean, and the
 * Euclidean norm of that zero-mean signal.
 */
export interface PreparedTemplate {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Zero-mean pixels, row-major. */
  readonly data: Float32Array;
  /**
   * Sum of `data` after Float32 rounding (≈ 0); subtracted (times the window
   * mean) so rounding of the stored template cannot bias the score.
   */
  readonly residual: number;
  /** √Σ data²; 0 for a flat template. */
  readonly norm: number;
}

/** Makes `template` zero-mean and measures its norm (one pass). */
export function prepareTemplate(template: GrayImage): PreparedTemplate {
  const n = template.width * template.height;
  const src = template.data;
  let total = 0;
  for (let i = 0; i < n; i++) total += src[i];
  const mean = n > 0 ? total / n : 0;
  const data = new Float32Array(n);
  let residual = 0, sq = 0;
  for (let i = 0; i < n; i++) {
    data[i] = src[i] - mean;
    const v = data[i];
    residual += v;
    sq += v * v;
  }
  return {
    width: template.width,
    height: template.height,
    data,
    residual,
    norm: Math.sqrt(sq),
  };
}

/** A template given raw or already prepared. */
export type TemplateInput = GrayImage | PreparedTemplate;

function prepared(t: TemplateInput): PreparedTemplate {
  return t.data instanceof Float32Array
    ? t as PreparedTemplate
    : prepareTemplate(t as GrayImage);
}

/** Best position found by {@link nccMap}. */
export interface NccPeak {
  /** Template left edge in image pixels (-1 when no position was valid). */
  readonly x: number;
  /** Template top edge in image pixels (-1 when no position was valid). */
  readonly y: number;
  /** NCC in [-1, 1]; `-Infinity` when no position was valid. */
  readonly score: number;
}

/** Optional inputs that let callers reuse work across calls. */
export interface NccMapOptions {
  /**
   * Integral images of the image (e.g. from {@link integralImages}); must
   * cover every window searched. Worth passing when the same image is
   * searched exhaustively several times; otherwise a table covering just the
   * searched region is built per call.
   */
  readonly integral?: IntegralImages;
  /**
   * Receives the score of every requested position, row-major over
   * `[x0, x1] × [y0, y1]` (`(x1 - x0 + 1) * (y1 - y0 + 1)` entries), `NaN`
   * where the template would leave the image.
   */
  readonly out?: Float32Array;
}

// Windows whose total variance is this small relative to Σv² are flat: the
// float sums cannot resolve anything finer, and such windows hold no structure.
const FLAT_EPS = 1e-9;

/**
 * Normalised cross-correlation of `template` against `image` at every integer
 * top-left position in `[x0, x1] × [y0, y1]` (inclusive). Positions where the
 * template would leave the image are skipped (clamped away), so callers may
 * pass a window larger than the valid range. Returns the best position, the
 * first in raster order on ties.
 */
export function nccMap(
  image: GrayImage,
  template: TemplateInput,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  options: NccMapOptions = {},
): NccPeak {
  const t = prepared(template);
  const tw = t.width, th = t.height, n = tw * th;
  const iw = image.width;
  const xa = Math.max(x0, 0), ya = Math.max(y0, 0);
  const xb = Math.min(x1, iw - tw), yb = Math.min(y1, image.height - th);
  const out = options.out;
  const mapW = x1 - x0 + 1;
  if (out) {
    const cells = mapW * (y1 - y0 + 1);
    if (mapW <= 0 || cells <= 0) {
      throw new RangeError("nccMap: empty position range");
    }
    if (out.length < cells) {
      throw new RangeError(
        `nccMap: out holds ${out.length} scores, ${cells} needed`,
      );
    }
    out.fill(NaN, 0, cells);
  }
  let bestX = -1, bestY = -1, best = -Infinity;
  if (xb < xa || yb < ya || n === 0) return { x: bestX, y: bestY, score: best };
  const positions = (xb - xa + 1) * (yb - ya + 1);
  if (!options.integral && positions <= DIRECT_POSITIONS) {
    return nccFew(image, t, x0, y0, mapW, xa, ya, xb, yb, out);
  }

  const ii = options.integral ??
    integralImages(image, xa, ya, xb - xa + tw, yb - ya + th, true);
  if (
    xa < ii.originX || ya < ii.originY ||
    xb + tw > ii.originX + ii.width || yb + th > ii.originY + ii.height
  ) {
    throw new RangeError("nccMap: integral images do not cover the search");
  }
  const stride = ii.width + 1;
  const S = ii.sum, Q = ii.sumSq;
  const td = t.data, tnorm = t.norm, residual = t.residual;
  const img = image.data;
  const flatTemplate = !(tnorm > 0);

  for (let y = ya; y <= yb; y++) {
    const top = (y - ii.originY) * stride;
    const bottom = top + th * stride;
    const rowOut = (y - y0) * mapW - x0;
    for (let x = xa; x <= xb; x++) {
      const l = x - ii.originX;
      const r = l + tw;
      const s = S[bottom + r] - S[bottom + l] - S[top + r] + S[top + l];
      const q = Q[bottom + r] - Q[bottom + l] - Q[top + r] + Q[top + l];
      const mean = s / n;
      const varN = q - s * mean;
      let score = 0;
      if (!flatTemplate && varN > FLAT_EPS * q) {
        // The template is zero-mean, so Σ t·I already equals Σ t·(I − mean);
        // only the rounding residual of t needs correcting.
        const dot = templateDot(img, iw, x, y, td, tw, th) - residual * mean;
        score = dot / (tnorm * Math.sqrt(varN));
        if (score > 1) score = 1;
        else if (score < -1) score = -1;
      }
      if (out) out[rowOut + x] = score;
      if (score > best) {
        best = score;
        bestX = x;
        bestY = y;
      }
    }
  }
  return { x: bestX, y: bestY, score: best };
}

/** Σ template · image over the `tw × th` window whose top-left is (x, y). */
function templateDot(
  img: Uint8Array,
  iw: number,
  x: number,
  y: number,
  td: Float32Array,
  tw: number,
  th: number,
): number {
  let dot = 0;
  let ip = y * iw + x, tp = 0;
  for (let row = 0; row < th; row++) {
    const end = tp + tw;
    let a = 0, b = 0, c = 0, d = 0;
    let i = ip;
    let k = tp;
    // Four accumulators break the add dependency chain (≈2× faster).
    for (; k + 3 < end; k += 4, i += 4) {
      a += td[k] * img[i];
      b += td[k + 1] * img[i + 1];
      c += td[k + 2] * img[i + 2];
      d += td[k + 3] * img[i + 3];
    }
    for (; k < end; k++, i++) a += td[k] * img[i];
    dot += (a + b) + (c + d);
    ip += iw;
    tp = end;
  }
  return dot;
}

/**
 * Up to this many positions, window statistics are summed beside the dot
 * product instead of read from integral images: a full-resolution pin
 * searches ±2 px (25 positions) of a 1920×870 template, whose integral
 * images (two Float64 tables over the window) would take 27 MB.
 */
const DIRECT_POSITIONS = 64;

/**
 * {@link nccMap} for few positions. The window sums slide (column sums
 * over the template's rows, moved down a row at a time, summed along x
 * and moved a column at a time) instead of being summed at every position
 * beside the dot product, which took two thirds of the work. They are sums
 * of whole numbers, exact in any order, so the scores are the same.
 */
function nccFew(
  image: GrayImage,
  t: PreparedTemplate,
  x0: number,
  y0: number,
  mapW: number,
  xa: number,
  ya: number,
  xb: number,
  yb: number,
  out: Float32Array | undefined,
): NccPeak {
  const tw = t.width, th = t.height, n = tw * th;
  const iw = image.width, img = image.data;
  const td = t.data, tnorm = t.norm, residual = t.residual;
  const flatTemplate = !(tnorm > 0);
  // Column sums of the window's rows, for columns xa .. xb + tw - 1.
  const cols = xb - xa + tw;
  const colS = new Float64Array(cols), colQ = new Float64Array(cols);
  const addRow = (row: number, sign: number) => {
    const p = row * iw + xa;
    for (let c = 0; c < cols; c++) {
      const v = img[p + c];
      colS[c] += sign * v;
      colQ[c] += sign * v * v;
    }
  };
  for (let row = ya; row < ya + th; row++) addRow(row, 1);
  let bestX = -1, bestY = -1, best = -Infinity;
  for (let y = ya; y <= yb; y++) {
    if (y > ya) {
      addRow(y - 1, -1);
      addRow(y + th - 1, 1);
    }
    let s = 0, q = 0;
    for (let c = 0; c < tw; c++) {
      s += colS[c];
      q += colQ[c];
    }
    for (let x = xa; x <= xb; x++) {
      if (x > xa) {
        const gone = x - 1 - xa, come = x - xa + tw - 1;
        s += colS[come] - colS[gone];
        q += colQ[come] - colQ[gone];
      }
      const dot = templateDot(img, iw, x, y, td, tw, th);
      const mean = s / n;
      const varN = q - s * mean;
      let score = 0;
      if (!flatTemplate && varN > FLAT_EPS * q) {
        score = (dot - residual * mean) / (tnorm * Math.sqrt(varN));
        if (score > 1) score = 1;
        else if (score < -1) score = -1;
      }
      if (out) out[(y - y0) * mapW + x - x0] = score;
      if (score > best) {
        best = score;
        bestX = x;
        bestY = y;
      }
    }
  }
  return { x: bestX, y: bestY, score: best };
}

/**
 * NCC of `template` against `image` with its top-left at `(x, y)`; 0 when
 * either is flat. Throws a RangeError when the template does not fit there.
 */
export function nccAt(
  image: GrayImage,
  template: TemplateInput,
  x: number,
  y: number,
): number {
  const t = prepared(template);
  if (
    x < 0 || y < 0 || x + t.width > image.width ||
    y + t.height > image.height || !Number.isInteger(x) ||
    !Number.isInteger(y)
  ) {
    throw new RangeError(
      `nccAt: a ${t.width}×${t.height} template does not fit at (${x}, ${y}) in ${image.width}×${image.height}`,
    );
  }
  return nccMap(image, t, x, y, x, y).score;
}

/**
 * Halves an image by averaging 2×2 blocks (area averaging, rounded). An odd
 * last row/column is dropped, so pixel (x, y) covers exactly input pixels
 * [2x, 2x + 2) × [2y, 2y + 2) and coordinates scale by exactly 2 between
 * levels.
 */
export function downscale2(gray: GrayImage): GrayImage {
  const w = gray.width >> 1, h = gray.height >> 1;
  if (w === 0 || h === 0) {
    throw new RangeError(
      `downscale2: ${gray.width}×${gray.height} is too small to halve`,
    );
  }
  const src = gray.data;
  const sw = gray.width;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    let p = 2 * y * sw;
    let o = y * w;
    for (let x = 0; x < w; x++, p += 2, o++) {
      data[o] = (src[p] + src[p + 1] + src[p + sw] + src[p + sw + 1] + 2) >> 2;
    }
  }
  return { width: w, height: h, data };
}

/**
 * `[gray, gray/2, gray/4, …]` with up to `levels` halvings (`levels + 1`
 * images), stopping early when a side would drop to 0.
 */
export function pyramid(gray: GrayImage, levels: number): GrayImage[] {
  const out = [gray];
  let g = gray;
  for (let l = 0; l < levels && g.width >= 2 && g.height >= 2; l++) {
    g = downscale2(g);
    out.push(g);
  }
  return out;
}
