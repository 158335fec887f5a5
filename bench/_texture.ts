/**
 * Synthetic gray images for the spatial-search benchmarks: a busy texture
 * and plain crops of it.
 *
 * @module
 */

import type { GrayImage } from "../core/frame.ts";
import { rng } from "../plugins/_fingerprint_testing.ts";

/** Blobs, rectangles and grain, quantised; `salt` adds moving objects. */
export function texture(
  width: number,
  height: number,
  seed: number,
  salt = 0,
): GrayImage {
  const r = rng(seed);
  const f = new Float32Array(width * height).fill(120);
  const blobs = Math.max(12, Math.round(width * height / 12000));
  for (let b = 0; b < blobs; b++) {
    const cx = r() * width, cy = r() * height;
    const s = 4 + r() * Math.min(60, width / 8), amp = (r() - 0.5) * 120;
    const k = -1 / (2 * s * s);
    for (
      let y = Math.max(0, Math.floor(cy - 3 * s));
      y < Math.min(height, cy + 3 * s);
      y++
    ) {
      for (
        let x = Math.max(0, Math.floor(cx - 3 * s));
        x < Math.min(width, cx + 3 * s);
        x++
      ) {
        f[y * width + x] += amp *
          Math.exp(((x - cx) ** 2 + (y - cy) ** 2) * k);
      }
    }
  }
  const rs = rng(salt * 7919 + 1);
  const rects = Math.max(10, Math.round(width * height / 15000));
  for (let i = 0; i < rects + (salt ? 8 : 0); i++) {
    const q = i < rects ? r : rs;
    const w = 3 + Math.floor(q() * 40), h = 3 + Math.floor(q() * 40);
    const x0 = Math.floor(q() * width), y0 = Math.floor(q() * height);
    const v = (q() - 0.5) * 90;
    for (let y = y0; y < Math.min(height, y0 + h); y++) {
      for (let x = x0; x < Math.min(width, x0 + w); x++) f[y * width + x] += v;
    }
  }
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(f[i] + (r() - 0.5) * 6);
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { width, height, data };
}

/** A copy of the w × h region of `g` at (x, y). */
export function crop(g: GrayImage, x: number, y: number, w: number, h: number) {
  const data = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    const s = (y + j) * g.width + x;
    data.set(g.data.subarray(s, s + w), j * w);
  }
  return { width: w, height: h, data };
}
