import assert from "node:assert/strict";
import type { GrayImage } from "./frame.ts";
import { downscale2 } from "./ncc.ts";
import { fft, fft2d, phaseCorrelate } from "./phase_correlation.ts";
import { clampByte, rng } from "../plugins/_fingerprint_testing.ts";

/** Busy texture: random rectangles and blobs over grain (every frequency). */
function texture(width: number, height: number, seed: number): GrayImage {
  const r = rng(seed);
  const f = new Float32Array(width * height).fill(128);
  for (let i = 0; i < (width * height) / 300; i++) {
    const w = 2 + r() * width / 8, h = 2 + r() * height / 8;
    const x0 = Math.floor(r() * width), y0 = Math.floor(r() * height);
    const v = (r() - 0.5) * 80;
    for (let y = y0; y < Math.min(height, y0 + h); y++) {
      for (let x = x0; x < Math.min(width, x0 + w); x++) f[y * width + x] += v;
    }
  }
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    data[i] = clampByte(f[i] + (r() - 0.5) * 10);
  }
  return { width, height, data };
}

function window(
  g: GrayImage,
  x: number,
  y: number,
  w: number,
  h: number,
): GrayImage {
  const data = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    data.set(
      g.data.subarray((y + j) * g.width + x, (y + j) * g.width + x + w),
      j * w,
    );
  }
  return { width: w, height: h, data };
}

Deno.test("fft: matches a direct DFT and round-trips", () => {
  const r = rng(1);
  const n = 16;
  const re = Float64Array.from({ length: n }, () => r() - 0.5);
  const im = Float64Array.from({ length: n }, () => r() - 0.5);
  const [r0, i0] = [re.slice(), im.slice()];
  fft(re, im);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      sr += r0[t] * Math.cos(a) - i0[t] * Math.sin(a);
      si += r0[t] * Math.sin(a) + i0[t] * Math.cos(a);
    }
    assert.ok(Math.abs(sr - re[k]) < 1e-9 && Math.abs(si - im[k]) < 1e-9);
  }
  fft(re, im, true);
  for (let t = 0; t < n; t++) assert.ok(Math.abs(re[t] - r0[t]) < 1e-12);
  const re2 = Float64Array.from({ length: 32 }, (_, k) => k % 5);
  const keep = re2.slice();
  const im2 = new Float64Array(32);
  fft2d(re2, im2, 8, 4);
  fft2d(re2, im2, 8, 4, true);
  for (let k = 0; k < 32; k++) assert.ok(Math.abs(re2[k] - keep[k]) < 1e-12);
  assert.throws(
    () => fft(new Float64Array(12), new Float64Array(12)),
    RangeError,
  );
});

Deno.test("phaseCorrelate: integer shifts, both signs, regraded and noisy", () => {
  const big = texture(400, 300, 2);
  const a = window(big, 100, 80, 200, 150);
  for (const [dx, dy] of [[0, 0], [7, -3], [-12, 9], [1, 1]]) {
    // b shows a's content moved by (dx, dy): b(u) = a(u - d).
    const b0 = window(big, 100 - dx, 80 - dy, 200, 150);
    const r = rng(dx * 31 + dy);
    const b = {
      ...b0,
      data: b0.data.map((v) => clampByte(1.2 * v - 15 + (r() - 0.5) * 8)),
    };
    const pc = phaseCorrelate(a, b);
    assert.ok(
      Math.abs(pc.dx - dx) < 0.25 && Math.abs(pc.dy - dy) < 0.25,
      JSON.stringify(pc),
    );
    assert.ok(pc.peak > 0.3, `peak ${pc.peak}`);
  }
});

Deno.test("phaseCorrelate: half-pixel shift (area-halved from a 1 px shift)", () => {
  const big = texture(520, 400, 3);
  const a = downscale2(window(big, 100, 100, 256, 256));
  const b = downscale2(window(big, 99, 100, 256, 256)); // content 0.5 px right
  const pc = phaseCorrelate(a, b);
  assert.ok(Math.abs(pc.dx - 0.5) < 0.2, `dx ${pc.dx}`);
  assert.ok(Math.abs(pc.dy) < 0.2, `dy ${pc.dy}`);
});

Deno.test("phaseCorrelate: unrelated windows have a low peak; sizes must match", () => {
  const peaks = [];
  for (let s = 0; s < 4; s++) {
    peaks.push(
      phaseCorrelate(texture(160, 128, 10 + s), texture(160, 128, 20 + s)).peak,
    );
  }
  // Measured ≈ 0.04-0.05 on 128² windows (a true shift scores > 0.3).
  assert.ok(Math.max(...peaks) < 0.1, peaks.join(", "));
  assert.throws(
    () => phaseCorrelate(texture(64, 64, 1), texture(64, 32, 1)),
    RangeError,
  );
});
