import assert from "node:assert/strict";
import type { GrayImage } from "./frame.ts";
import {
  compareSsim,
  msSsim,
  msSsimScales,
  packedSsim,
  packSsim,
  ssim,
  ssimComponents,
  ssimDefaults,
  ssimLayout,
  type SsimOptions,
} from "./ssim.ts";
import { rng } from "../plugins/_fingerprint_testing.ts";

/** A smooth random picture: Gaussian blobs on mid-gray, plus optional grain. */
function picture(w: number, h: number, seed: number, grain = 0): GrayImage {
  const r = rng(seed);
  const blobs = Array.from({ length: 12 }, () => ({
    x: r() * w,
    y: r() * h,
    s: 2 + r() * Math.min(w, h) / 4,
    a: r() * 160 - 80,
  }));
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 128 + (r() * 2 - 1) * grain;
      for (const b of blobs) {
        v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (b.s * b.s));
      }
      data[y * w + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: w, height: h, data };
}

function map(img: GrayImage, f: (v: number, k: number) => number): GrayImage {
  return {
    ...img,
    data: img.data.map((v, k) =>
      Math.max(0, Math.min(255, Math.round(f(v, k))))
    ),
  };
}

/** The definition, computed naively: a full 2-D window sum at every valid position. */
function referenceSsim(a: GrayImage, b: GrayImage, o: SsimOptions) {
  const { width: w, height: h } = a;
  const r = o.radius;
  const weight = (dx: number, dy: number) =>
    o.window === "box"
      ? 1
      : Math.exp(-(dx * dx + dy * dy) / (2 * o.sigma * o.sigma));
  let norm = 0;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) norm += weight(dx, dy);
  }
  const c1 = (o.k1 * o.dynamicRange) ** 2, c2 = (o.k2 * o.dynamicRange) ** 2;
  let sum = 0, csSum = 0, count = 0;
  for (let y = r; y < h - r; y++) {
    for (let x = r; x < w - r; x++) {
      let ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const g = weight(dx, dy) / norm;
          const va = a.data[(y + dy) * w + x + dx];
          const vb = b.data[(y + dy) * w + x + dx];
          ma += g * va;
          mb += g * vb;
          saa += g * va * va;
          sbb += g * vb * vb;
          sab += g * va * vb;
        }
      }
      const va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
      const cs = (2 * cov + c2) / (va + vb + c2);
      sum += cs * (2 * ma * mb + c1) / (ma * ma + mb * mb + c1);
      csSum += cs;
      count++;
    }
  }
  return { ssim: sum / count, cs: csSum / count };
}

Deno.test("ssim matches the naive definition for Gaussian and box windows", () => {
  const a = picture(40, 30, 1, 12);
  const cases: [GrayImage, GrayImage][] = [
    [a, map(a, (v) => v * 0.8 + 20)],
    [a, picture(40, 30, 2, 12)],
    [a, map(a, (v, k) => v + ((k * 7919) % 21) - 10)],
  ];
  for (const window of ["gaussian", "box"] as const) {
    for (const radius of [5, 3]) {
      const o = { ...ssimDefaults, window, radius };
      for (const [x, y] of cases) {
        const got = ssimComponents(x, y, o);
        const want = referenceSsim(x, y, o);
        assert.ok(
          Math.abs(got.ssim - want.ssim) < 1e-9,
          `${window} r=${radius}: ${got.ssim} vs ${want.ssim}`,
        );
        assert.ok(
          Math.abs(got.cs - want.cs) < 1e-9,
          `cs ${got.cs} vs ${want.cs}`,
        );
      }
    }
  }
});

Deno.test("ssim is exactly 1 for identical images, also packed in float32", () => {
  const a = picture(32, 32, 3, 20);
  assert.equal(ssim(a, a), 1);
  const layout = ssimLayout(32, 32);
  const table = new Float32Array(layout.length * 2);
  packSsim(layout, a, table, 0);
  packSsim(layout, a, table, layout.length);
  assert.equal(compareSsim(layout, table, 0, table, layout.length).ssim, 1);
  assert.equal(compareSsim(layout, table, 0, table, 0).cs, 1);
});

Deno.test("ssim of flat images is the luminance term alone", () => {
  const flat = (v: number): GrayImage => ({
    width: 20,
    height: 20,
    data: new Uint8Array(400).fill(v),
  });
  const c1 = (0.01 * 255) ** 2;
  const got = ssimComponents(flat(100), flat(140));
  assert.ok(Math.abs(got.cs - 1) < 1e-12);
  const want = (2 * 100 * 140 + c1) / (100 * 100 + 140 * 140 + c1);
  assert.ok(Math.abs(got.ssim - want) < 1e-12, `${got.ssim} vs ${want}`);
});

Deno.test("ssim is symmetric, falls with noise, and is negative for an inverted image", () => {
  const a = picture(48, 27, 4, 16);
  let last = 1;
  for (const amp of [2, 8, 20, 50]) {
    const b = map(a, (v, k) => v + amp * Math.sin(k * 12.9898));
    const ab = ssim(a, b), ba = ssim(b, a);
    assert.ok(Math.abs(ab - ba) < 1e-12, `symmetric: ${ab} vs ${ba}`);
    assert.ok(ab < last, `noise ${amp}: ${ab} not below ${last}`);
    last = ab;
  }
  assert.ok(ssim(a, map(a, (v) => 255 - v)) < -0.5);
  assert.ok(Math.abs(ssim(a, picture(48, 27, 99, 16))) < 0.3);
});

Deno.test("ssim shrinks the window to fit small images and refuses mismatched sizes", () => {
  const layout = ssimLayout(7, 30);
  assert.equal(layout.radius, 3);
  assert.equal(layout.validWidth, 1);
  assert.equal(layout.validHeight, 24);
  const a = picture(7, 30, 5);
  assert.equal(ssim(a, a), 1);
  assert.throws(() => ssim(a, picture(8, 30, 5)), RangeError);
  assert.throws(() => ssimLayout(0, 4), RangeError);
  assert.throws(() => ssim(a, a, { radius: -1 }), RangeError);
  const packed = packedSsim(layout, a);
  assert.equal(packed.length, 7 * 30 + 2 * 24);
  assert.throws(() => packSsim(layout, picture(8, 30, 5), packed), RangeError);
});

Deno.test("msSsim is 1 for identical images and uses as many scales as fit", () => {
  const a = picture(240, 136, 6, 6);
  const r = msSsim(a, a);
  assert.equal(r.value, 1);
  // 240×136 → 120×68 → 60×34 → 30×17 → 15×8: 8 < 11, so four scales.
  assert.equal(r.available, 4);
  assert.equal(msSsimScales(240, 136, 5), 4);
  assert.equal(msSsimScales(240, 136, 2), 2);
  assert.equal(r.scales.length, 4);
  assert.equal(r.rejectedAt, -1);
});

Deno.test("msSsim orders a slightly noised copy, a shifted copy and another picture", () => {
  const a = picture(160, 90, 7, 4);
  const noised = map(a, (v, k) => v + 3 * Math.sin(k * 78.233));
  const shifted: GrayImage = {
    ...a,
    data: a.data.map((_, k) => a.data[Math.min(a.data.length - 1, k + 3)]),
  };
  const other = picture(160, 90, 8, 4);
  const vn = msSsim(a, noised).value;
  const vs = msSsim(a, shifted).value;
  const vo = msSsim(a, other).value;
  assert.ok(vn > 0.95, `noised ${vn}`);
  assert.ok(vs < vn - 0.05, `shifted ${vs} vs noised ${vn}`);
  assert.ok(vo < vs, `other ${vo} vs shifted ${vs}`);
  for (const v of [vn, vs, vo]) assert.ok(v >= 0 && v <= 1);
});

Deno.test("msSsim rejects early: a pair failing the coarsest threshold computes one scale", () => {
  const a = picture(160, 90, 9, 4);
  const other = picture(160, 90, 10, 4);
  const thresholds = [0.5, 0.6, 0.7, 0.8];
  const r = msSsim(a, other, { thresholds });
  assert.equal(r.rejectedAt, 0);
  assert.equal(r.scales.length, 1);
  assert.ok(r.value <= Math.max(0, r.scales[0]) && r.value < 0.5);
  const same = msSsim(a, map(a, (v) => v + 1), { thresholds });
  assert.equal(same.rejectedAt, -1);
  assert.equal(same.scales.length, same.available);
  assert.throws(() => msSsim(a, a, { weights: [] }), RangeError);
});
