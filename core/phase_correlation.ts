/**
 * Phase correlation: the translation between two images from the phase of
 * their cross-power spectrum.
 *
 * It is the spatial locator's second, independent method: NCC scores
 * candidate positions one by one, phase correlation reads the shift off the
 * whole window at once from the Fourier shift theorem (a translation only
 * rotates phases). Normalising the cross-power spectrum to unit magnitude
 * whitens it, so every frequency votes equally and the result is a sharp
 * peak whose height (≈ 1 for a pure shift, ≈ 0 for unrelated images) says
 * how much of the two windows moved together. Gain and offset regrades do
 * not change phases, so it is as invariant to them as NCC.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";
import { subpixelPeak } from "./subpixel.ts";

/**
 * In-place iterative radix-2 complex FFT of `re` + i·`im` (length a power of
 * two). The inverse transform divides by the length, so a round trip is the
 * identity.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n || (n & (n - 1)) !== 0) {
    throw new RangeError(`fft: length ${n} is not a power of two`);
  }
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const angle = (sign * 2 * Math.PI) / len;
    const wr = Math.cos(angle), wi = Math.sin(angle);
    for (let start = 0; start < n; start += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < half; k++) {
        const a = start + k, b = a + half;
        const xr = re[b] * cr - im[b] * ci;
        const xi = re[b] * ci + im[b] * cr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] /= n;
      im[i] /= n;
    }
  }
}

/** 2-D FFT of a row-major `width × height` complex image (both powers of two). */
export function fft2d(
  re: Float64Array,
  im: Float64Array,
  width: number,
  height: number,
  inverse = false,
): void {
  const rowRe = new Float64Array(width), rowIm = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    rowRe.set(re.subarray(o, o + width));
    rowIm.set(im.subarray(o, o + width));
    fft(rowRe, rowIm, inverse);
    re.set(rowRe, o);
    im.set(rowIm, o);
  }
  const colRe = new Float64Array(height), colIm = new Float64Array(height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      colRe[y] = re[y * width + x];
      colIm[y] = im[y * width + x];
    }
    fft(colRe, colIm, inverse);
    for (let y = 0; y < height; y++) {
      re[y * width + x] = colRe[y];
      im[y * width + x] = colIm[y];
    }
  }
}

/** The translation phase correlation found. */
export interface PhaseShift {
  /**
   * Horizontal shift, sub-pixel: the content of `a` at column u appears in `b`
   * at column u + dx.
   */
  readonly dx: number;
  /** Vertical shift, sub-pixel (same convention). */
  readonly dy: number;
  /**
   * Height of the correlation peak: ≈ 1 when the windows are shifted copies,
   * near 0 (≲ 0.05 on 128² windows) when they are unrelated.
   */
  readonly peak: number;
}

/** Largest power of two ≤ n (n ≥ 1). */
function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * Zero-mean, Hann-windowed copy of the `w × h` window of `g` at (x0, y0):
 * the window keeps the image edges (which do not wrap around) from forming a
 * cross of false energy in the spectrum.
 */
function windowed(
  g: GrayImage,
  x0: number,
  y0: number,
  w: number,
  h: number,
): Float64Array {
  const out = new Float64Array(w * h);
  let sum = 0;
  for (let y = 0; y < h; y++) {
    const src = (y0 + y) * g.width + x0;
    for (let x = 0; x < w; x++) sum += out[y * w + x] = g.data[src + x];
  }
  const mean = sum / (w * h);
  const hx = new Float64Array(w), hy = new Float64Array(h);
  for (let x = 0; x < w; x++) {
    hx[x] = 0.5 - 0.5 * Math.cos(2 * Math.PI * (x + 0.5) / w);
  }
  for (let y = 0; y < h; y++) {
    hy[y] = 0.5 - 0.5 * Math.cos(2 * Math.PI * (y + 0.5) / h);
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[y * w + x] = (out[y * w + x] - mean) * hx[x] * hy[y];
    }
  }
  return out;
}

/**
 * Phase correlation of two images of the same size, on their centred window
 * of power-of-two sides no larger than `maxSide` (default 256; larger windows
 * cost more and add nothing to a shift of a few pixels). Shifts are found
 * modulo the window, so only |shift| < side / 2 is meaningful, and a shift
 * near the window size leaves little overlap to correlate. The returned
 * shift is refined to sub-pixel precision by a parabola through the peak.
 */
export function phaseCorrelate(
  a: GrayImage,
  b: GrayImage,
  maxSide = 256,
): PhaseShift {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(
      `phaseCorrelate: sizes differ (${a.width}×${a.height} vs ${b.width}×${b.height})`,
    );
  }
  if (a.width < 2 || a.height < 2) {
    throw new RangeError(
      `phaseCorrelate: ${a.width}×${a.height} is too small`,
    );
  }
  const w = floorPow2(Math.min(a.width, maxSide));
  const h = floorPow2(Math.min(a.height, maxSide));
  const x0 = (a.width - w) >> 1, y0 = (a.height - h) >> 1;
  const ar = windowed(a, x0, y0, w, h), ai = new Float64Array(w * h);
  const br = windowed(b, x0, y0, w, h), bi = new Float64Array(w * h);
  fft2d(ar, ai, w, h);
  fft2d(br, bi, w, h);
  // conj(A)·B: its inverse peaks at +shift when b is a moved to +shift.
  for (let k = 0; k < ar.length; k++) {
    const re = ar[k] * br[k] + ai[k] * bi[k];
    const im = ar[k] * bi[k] - ai[k] * br[k];
    const mag = Math.hypot(re, im);
    // Frequencies with no energy in either window carry no phase: drop them.
    if (mag > 1e-9) {
      ar[k] = re / mag;
      ai[k] = im / mag;
    } else {
      ar[k] = 0;
      ai[k] = 0;
    }
  }
  fft2d(ar, ai, w, h, true);
  let best = 0;
  for (let k = 1; k < ar.length; k++) if (ar[k] > ar[best]) best = k;
  const px = best % w, py = Math.floor(best / w);
  const fine = subpixelPeak(ar, w, h, px, py, true);
  const unwrap = (v: number, n: number) => (v >= n / 2 ? v - n : v);
  return { dx: unwrap(fine.x, w), dy: unwrap(fine.y, h), peak: ar[best] };
}
