/**
 * `colormoment`: a colour-moment hash after OpenCV's `ColorMomentHash`. The
 * frame (32×32 RGB) is lightly blurred, converted to HSV and YCrCb, and the
 * seven Hu moment invariants of each of those six channels form a 42-float
 * feature; two frames are compared by the L2 distance of their features.
 *
 * Hu moments describe how each channel's mass is spread (spread, elongation,
 * skew, ...) and are invariant to rotation and mirroring, so the feature
 * summarises a frame's colour layout in a way no gray hash does; it complements
 * them on colour-distinct but structurally similar footage.
 *
 * Two departures from OpenCV, both for comparability:
 * - Moments are taken in resolution-independent units (coordinates in the
 *   unit square, intensities in [0, 1], pixel area 1/N²), so the feature does
 *   not depend on the thumbnail size.
 * - Each Hu moment h is stored log-scaled, as sign(h)·log10(1 + |h|/ε): the
 *   seven invariants span ~15 orders of magnitude, and raw L2 would only ever
 *   see the first. This is the common sign·log10|h| shifted by log10 ε and
 *   made continuous at 0, so a near-zero higher moment whose sign noise flips
 *   moves the feature a little instead of jumping between ±|log10 ε|.
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

/** Options of the `colormoment` fingerprinter. */
export interface ColormomentOptions {
  /** Side of the square RGB input frame, 8..128. */
  size: number;
  /**
   * Floor of the log scale: Hu moments much smaller than this count as 0.
   * Smaller values let the tiny higher-order moments (mostly noise on real
   * frames) weigh in; see `colormomentDefaults`.
   */
  epsilon: number;
  /**
   * The L2 feature distance d is mapped to d / (d + scale), so `scale` is the
   * raw distance reported as 0.5; see `colormomentDefaults`.
   */
  scale: number;
}

/**
 * Default `colormoment` options.
 *
 * `epsilon` 1e-5: h1..h4 of natural frames lie around 1e-1..1e-5 and carry
 * the signal; h5..h7 are mostly below 1e-8, i.e. noise and quantisation. On
 * synthetic natural-like frames (smooth colour fields, blobs and texture, as
 * in the unit test) 1e-5 separated unrelated frames from copies with ±3
 * levels of noise best: the 5th percentile of unrelated distances is ~17× the
 * 95th percentile of noisy ones (1e-4: similar but coarser; 1e-6: 12×; 1e-8:
 * 10× with far worse outliers).
 *
 * `scale` 4: with that epsilon the raw L2 distance between unrelated frames
 * has a median of about 4 (5th–95th percentile 2.7–5.9), so `scale` 4 puts
 * them mid-range (≈ 0.4–0.6) and leaves room on both sides, while noisy
 * copies (median raw distance 0.03) land below ~0.05. The worst noisy copies
 * are frames of low-saturation or red colour, where hue is unstable (it wraps
 * at red and is undefined for gray), as in OpenCV's original.
 */
export const colormomentDefaults: Readonly<ColormomentOptions> = {
  size: 32,
  epsilon: 1e-5,
  scale: 4,
};

/** Channels: H, S, V, Y, Cr, Cb. */
const CHANNELS = 6;
/** Hu invariants per channel. */
const HU = 7;
/** Floats per feature. */
const LENGTH = CHANNELS * HU;

/** Creates a `colormoment` fingerprinter: size×size RGB in, 42 floats out. */
export function createColormoment(
  options: Partial<ColormomentOptions> = {},
): Fingerprinter {
  const size = options.size ?? colormomentDefaults.size;
  const epsilon = options.epsilon ?? colormomentDefaults.epsilon;
  const scale = options.scale ?? colormomentDefaults.scale;
  if (!Number.isInteger(size) || size < 8 || size > 128) {
    throw new RangeError(
      `colormoment size must be an integer in 8..128: ${size}`,
    );
  }
  if (typeof epsilon !== "number" || !(epsilon > 0)) {
    throw new RangeError(
      `colormoment epsilon must be a number > 0: ${epsilon}`,
    );
  }
  if (typeof scale !== "number" || !(scale > 0)) {
    throw new RangeError(`colormoment scale must be a number > 0: ${scale}`);
  }
  const n = size * size;
  const input: FrameFormat = { width: size, height: size, channels: 3 };
  const invEps = 1 / epsilon;
  // Scratch: the blurred RGB (row pass, then column pass) and the six
  // channel planes, each in [0, 1].
  const tmp = new Float64Array(n * 3);
  const rgb = new Float64Array(n * 3);
  const planes = new Float64Array(n * CHANNELS);
  // Pixel-centre coordinates in the unit square, centred on 0.5 so the raw
  // moments are small and the central-moment formulas do not cancel.
  const coord = new Float64Array(size);
  for (let k = 0; k < size; k++) coord[k] = (k + 0.5) / size - 0.5;
  const hu = new Float64Array(HU);

  /** 3×3 binomial blur (OpenCV's 3×3 Gaussian), edges reflected like BORDER_REFLECT_101. */
  function blur(px: Uint8Array): void {
    const row = size * 3;
    for (let y = 0; y < size; y++) {
      const r = y * row;
      for (let x = 0; x < size; x++) {
        const l = x === 0 ? 1 : x - 1, rr = x === size - 1 ? size - 2 : x + 1;
        for (let c = 0; c < 3; c++) {
          tmp[r + x * 3 + c] = px[r + l * 3 + c] + 2 * px[r + x * 3 + c] +
            px[r + rr * 3 + c];
        }
      }
    }
    const norm = 1 / (16 * 255);
    for (let y = 0; y < size; y++) {
      const u = (y === 0 ? 1 : y - 1) * row,
        d = (y === size - 1 ? size - 2 : y + 1) * row;
      const r = y * row;
      for (let k = 0; k < row; k++) {
        rgb[r + k] = (tmp[u + k] + 2 * tmp[r + k] + tmp[d + k]) * norm;
      }
    }
  }

  /** HSV (H scaled to [0, 1) like OpenCV's 0..180 / 180) and YCrCb planes. */
  function convert(): void {
    for (let p = 0, q = 0; p < n; p++, q += 3) {
      const r = rgb[q], g = rgb[q + 1], b = rgb[q + 2];
      const max = r > g ? (r > b ? r : b) : (g > b ? g : b);
      const min = r < g ? (r < b ? r : b) : (g < b ? g : b);
      const span = max - min;
      let h = 0;
      if (span > 0) {
        if (max === r) h = (g - b) / span;
        else if (max === g) h = 2 + (b - r) / span;
        else h = 4 + (r - g) / span;
        h /= 6;
        if (h < 0) h += 1;
      }
      planes[p] = h;
      planes[n + p] = max > 0 ? span / max : 0;
      planes[2 * n + p] = max;
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      planes[3 * n + p] = y;
      planes[4 * n + p] = (r - y) * 0.713 + 0.5;
      planes[5 * n + p] = (b - y) * 0.564 + 0.5;
    }
  }

  /** The seven Hu invariants of plane `c` into `hu` (all 0 for an empty plane). */
  function huMoments(c: number): void {
    const base = c * n;
    let m00 = 0, m10 = 0, m01 = 0, m20 = 0, m11 = 0, m02 = 0;
    let m30 = 0, m21 = 0, m12 = 0, m03 = 0;
    for (let y = 0; y < size; y++) {
      // Row sums of I, xI, x²I, x³I, then weighted by powers of y.
      let r0 = 0, r1 = 0, r2 = 0, r3 = 0;
      const off = base + y * size;
      for (let x = 0; x < size; x++) {
        const v = planes[off + x], cx = coord[x];
        const vx = v * cx, vx2 = vx * cx;
        r0 += v;
        r1 += vx;
        r2 += vx2;
        r3 += vx2 * cx;
      }
      const cy = coord[y], cy2 = cy * cy;
      m00 += r0;
      m10 += r1;
      m01 += r0 * cy;
      m20 += r2;
      m11 += r1 * cy;
      m02 += r0 * cy2;
      m30 += r3;
      m21 += r2 * cy;
      m12 += r1 * cy2;
      m03 += r0 * cy2 * cy;
    }
    if (!(m00 > 1e-12)) {
      hu.fill(0);
      return;
    }
    // Pixel area 1/n turns the sums into moments of the unit square.
    const area = 1 / n;
    m00 *= area;
    m10 *= area;
    m01 *= area;
    m20 *= area;
    m11 *= area;
    m02 *= area;
    m30 *= area;
    m21 *= area;
    m12 *= area;
    m03 *= area;
    const xc = m10 / m00, yc = m01 / m00;
    const mu20 = m20 - xc * m10;
    const mu11 = m11 - xc * m01;
    const mu02 = m02 - yc * m01;
    const mu30 = m30 - 3 * xc * m20 + 2 * xc * xc * m10;
    const mu21 = m21 - 2 * xc * m11 - yc * m20 + 2 * xc * xc * m01;
    const mu12 = m12 - 2 * yc * m11 - xc * m02 + 2 * yc * yc * m10;
    const mu03 = m03 - 3 * yc * m02 + 2 * yc * yc * m01;
    const s2 = 1 / (m00 * m00), s3 = 1 / (m00 * m00 * Math.sqrt(m00));
    const n20 = mu20 * s2, n11 = mu11 * s2, n02 = mu02 * s2;
    const n30 = mu30 * s3, n21 = mu21 * s3, n12 = mu12 * s3, n03 = mu03 * s3;
    const t0 = n30 + n12, t1 = n21 + n03;
    const q0 = t0 * t0, q1 = t1 * t1;
    const a = n30 - 3 * n12, b = 3 * n21 - n03;
    const d = n20 - n02;
    hu[0] = n20 + n02;
    hu[1] = d * d + 4 * n11 * n11;
    hu[2] = a * a + b * b;
    hu[3] = q0 + q1;
    hu[4] = a * t0 * (q0 - 3 * q1) + b * t1 * (3 * q0 - q1);
    hu[5] = d * (q0 - q1) + 4 * n11 * t0 * t1;
    hu[6] = b * t0 * (q0 - 3 * q1) - a * t1 * (3 * q0 - q1);
  }

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `colormoment wants ${size}×${size} RGB, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    blur(frame.data);
    convert();
    const out = index * LENGTH;
    for (let c = 0; c < CHANNELS; c++) {
      huMoments(c);
      for (let k = 0; k < HU; k++) {
        const h = hu[k];
        const m = Math.log10(1 + Math.abs(h) * invEps);
        table[out + c * HU + k] = h < 0 ? -m : m;
      }
    }
  }

  function distance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const pa = i * LENGTH, pb = j * LENGTH;
    // Two accumulators halve the dependency chain of float adds (LENGTH is
    // even).
    let s0 = 0, s1 = 0;
    for (let k = 0; k < LENGTH; k += 2) {
      const d0 = a[pa + k] - b[pb + k], d1 = a[pa + k + 1] - b[pb + k + 1];
      s0 += d0 * d0;
      s1 += d1 * d1;
    }
    // d / (d + scale): monotonic, 0 at 0, tends to 1, never reaches it.
    const d = Math.sqrt(s0 + s1);
    return d / (d + scale);
  }

  return {
    name: "colormoment",
    input,
    featureLength: LENGTH,
    coarse: false,
    createTable: (count: number) => featureTable(Float32Array, count, LENGTH),
    compute,
    distance,
  };
}

/** Registry entry of `colormoment`. */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "colormoment",
  description:
    "Hu moments of HSV + YCrCb channels (42 floats, like OpenCV ColorMomentHash)",
  create: (o) => createColormoment(o as Partial<ColormomentOptions>),
};
