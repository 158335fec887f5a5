import assert from "node:assert/strict";
import { rng } from "../plugins/_fingerprint_testing.ts";
import {
  adaptFrame,
  cropFrame,
  type Frame,
  grayStdDev,
  resizeArea,
  toGray,
} from "./frame.ts";

function gray(
  width: number,
  height: number,
  f: (x: number, y: number) => number,
): Frame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  }
  return { width, height, channels: 1, data };
}

Deno.test("resizeArea halves by averaging 2×2 blocks", () => {
  const f = gray(4, 2, (x, y) => x * 10 + y * 100);
  const r = resizeArea(f, 2, 1);
  // Blocks: (0,10,100,110) → 55, (20,30,120,130) → 75.
  assert.deepEqual([...r.data], [55, 75]);
});

Deno.test("resizeArea keeps a flat image flat and the mean at odd ratios", () => {
  const flat = resizeArea(gray(37, 23, () => 77), 5, 3);
  assert.ok(flat.data.every((v) => v === 77));
  const ramp = gray(480, 218, (x) => Math.floor(x / 2));
  const small = resizeArea(ramp, 32, 32);
  const mean = (d: Uint8Array) => d.reduce((a, v) => a + v, 0) / d.length;
  assert.ok(Math.abs(mean(small.data) - mean(ramp.data)) < 0.6);
  // Horizontal ramp stays a ramp: each column brighter than the last.
  for (let x = 1; x < 32; x++) assert.ok(small.data[x] > small.data[x - 1]);
});

Deno.test("resizeArea handles RGB channels independently", () => {
  const data = new Uint8Array(4 * 1 * 3);
  for (let p = 0; p < 4; p++) data.set([10 * p, 100, 200 - 10 * p], p * 3);
  const r = resizeArea({ width: 4, height: 1, channels: 3, data }, 1, 1);
  assert.deepEqual([...r.data], [15, 100, 185]);
});

function randomFrame(
  width: number,
  height: number,
  channels: 1 | 3,
  next: () => number,
  lo = 0,
): Frame {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) {
    data[i] = lo + Math.floor(next() * (256 - lo));
  }
  return { width, height, channels, data };
}

/**
 * The definition, written plainly and exactly: output pixel (ox, oy) covers
 * input [ox·sx, (ox+1)·sx) × [oy·sy, (oy+1)·sy) with sx = inW / outW; every
 * input pixel counts with its overlap area and the sum is divided by the
 * covered area, rounded half up. Lengths are counted in units of 1/outW
 * (1/outH) so overlaps are integers: with float weights, the many exact
 * halves (x.5) would round either way on float noise.
 */
function referenceResize(f: Frame, width: number, height: number): Uint8Array {
  const c = f.channels, w = f.width, h = f.height;
  const out = new Uint8Array(width * height * c);
  const area = w * h;
  for (let oy = 0; oy < height; oy++) {
    const y0 = oy * h, y1 = y0 + h;
    for (let ox = 0; ox < width; ox++) {
      const x0 = ox * w, x1 = x0 + w;
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let y = Math.floor(y0 / height); y * height < y1; y++) {
          const ky = Math.min(y1, (y + 1) * height) - Math.max(y0, y * height);
          for (let x = Math.floor(x0 / width); x * width < x1; x++) {
            const kx = Math.min(x1, (x + 1) * width) - Math.max(x0, x * width);
            sum += kx * ky * f.data[(y * w + x) * c + ch];
          }
        }
        const q = Math.floor(sum / area);
        out[(oy * width + ox) * c + ch] = 2 * (sum - q * area) >= area
          ? q + 1
          : q;
      }
    }
  }
  return out;
}

Deno.test("resizeArea matches the plain area-weighted mean on random sizes", () => {
  const next = rng(20240611);
  const pick = (lo: number, hi: number) =>
    lo + Math.floor(next() * (hi - lo + 1));
  const cases: [number, number, 1 | 3, number, number][] = [
    // The hot case, its neighbours and typical fingerprint sizes.
    [360, 203, 1, 32, 32],
    [361, 203, 1, 32, 32],
    [359, 201, 3, 32, 32],
    [360, 203, 1, 16, 16],
    [360, 203, 1, 8, 8],
    [360, 203, 1, 64, 64],
    [360, 203, 1, 48, 27],
    [1920, 1080, 1, 32, 32],
    [1919, 1077, 1, 64, 36],
    [101, 99, 3, 9, 7],
    // Upscaling and one axis unchanged.
    [3, 2, 1, 7, 5],
    [5, 5, 3, 13, 4],
    [17, 9, 1, 17, 4],
    [17, 9, 1, 4, 9],
    [1, 1, 1, 3, 2],
    [64, 1, 1, 5, 1],
  ];
  for (let k = 0; k < 300; k++) {
    const big = next() < 0.1;
    const w = pick(1, big ? 1000 : 120), h = pick(1, big ? 600 : 120);
    const ow = next() < 0.15 ? pick(w, w + 40) : pick(1, Math.min(w, 70));
    const oh = next() < 0.15 ? pick(h, h + 40) : pick(1, Math.min(h, 70));
    cases.push([w, h, next() < 0.3 ? 3 : 1, ow, oh]);
  }
  let total = 0, same = 0;
  for (const [w, h, c, ow, oh] of cases) {
    const f = randomFrame(w, h, c, next);
    const got = resizeArea(f, ow, oh);
    const want = referenceResize(f, ow, oh);
    const label = `${w}×${h}×${c} → ${ow}×${oh}`;
    assert.equal(got.width, ow, label);
    assert.equal(got.height, oh, label);
    assert.equal(got.channels, c, label);
    assert.equal(got.data.length, want.length, label);
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got.data[i] - want[i]);
      assert.ok(
        d <= 1,
        `${label}: byte ${i} is ${got.data[i]}, want ${want[i]}`,
      );
      if (d === 0) same++;
    }
    total += want.length;
  }
  assert.ok(same >= 0.999 * total, `only ${same} of ${total} bytes identical`);
});

Deno.test("resizeArea: many rows per output row, bright pixels, offset data", () => {
  const next = rng(7);
  // Over 256 rows of values up to 255 per output row: a 16-bit lane of
  // column sums would overflow if not flushed in time.
  for (
    const [w, h, c, ow, oh] of [[50, 700, 1, 3, 2], [
      41,
      1300,
      3,
      2,
      1,
    ]] as const
  ) {
    const f = randomFrame(w, h, c, next, 192);
    assert.deepEqual([...resizeArea(f, ow, oh).data], [
      ...referenceResize(f, ow, oh),
    ]);
  }
  // Pixels that do not start at a 4-byte boundary of their buffer.
  const whole = randomFrame(1 + 37 * 29, 1, 1, next).data;
  const f: Frame = {
    width: 37,
    height: 29,
    channels: 1,
    data: whole.subarray(1),
  };
  assert.deepEqual([...resizeArea(f, 5, 4).data], [
    ...referenceResize(f, 5, 4),
  ]);
  // Equal size returns the frame itself.
  assert.equal(resizeArea(f, 37, 29), f);
});

Deno.test("resizeArea keeps white white when one pixel's sum passes 2^31", () => {
  // 4000×2200 × 255 ≈ 2.2e9: integer sums of the whole frame exceed int32.
  const f = gray(4000, 2200, () => 255);
  assert.deepEqual([...resizeArea(f, 1, 1).data], [255]);
  assert.deepEqual([...resizeArea(f, 3, 2).data], [
    255,
    255,
    255,
    255,
    255,
    255,
  ]);
});

Deno.test("cropFrame copies the region and clamps it to the frame", () => {
  const f = gray(5, 4, (x, y) => y * 5 + x);
  const c = cropFrame(f, { x: 1, y: 2, width: 3, height: 9 });
  assert.equal(c.width, 3);
  assert.equal(c.height, 2);
  assert.deepEqual([...c.data], [11, 12, 13, 16, 17, 18]);
});

Deno.test("toGray uses BT.601 weights and adaptFrame refuses gray → RGB", () => {
  const rgb: Frame = {
    width: 1,
    height: 1,
    channels: 3,
    data: Uint8Array.of(255, 0, 0),
  };
  assert.equal(toGray(rgb).data[0], 77);
  assert.throws(
    () => adaptFrame(gray(2, 2, () => 0), { width: 2, height: 2, channels: 3 }),
    RangeError,
  );
});

Deno.test("grayStdDev: 0 for a flat image, half the swing for two levels", () => {
  assert.equal(
    grayStdDev({ width: 4, height: 2, data: new Uint8Array(8).fill(90) }),
    0,
  );
  const halves = Uint8Array.from([0, 255, 0, 255, 255, 0, 255, 0]);
  assert.equal(grayStdDev({ width: 4, height: 2, data: halves }), 127.5);
  assert.equal(grayStdDev({ width: 0, height: 0, data: new Uint8Array(0) }), 0);
});
