import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import {
  createHistogram,
  histogramDefaults,
  plugin,
} from "./fingerprint_histogram.ts";

/** Seeded PRNG (mulberry32) so every run sees the same frames. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function rgbFrame(
  f: (x: number, y: number) => readonly number[],
  size = 32,
): Frame {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const c = f(x, y);
      for (let k = 0; k < 3; k++) {
        data[(y * size + x) * 3 + k] = clampByte(c[k]);
      }
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** A smooth random colour frame: a few soft blobs of random colour on a random base. */
function scene(seed: number): Frame {
  const r = rng(seed);
  const base = [r() * 255, r() * 255, r() * 255];
  const blobs = Array.from({ length: 5 }, () => ({
    x: r() * 32,
    y: r() * 32,
    radius: 4 + r() * 10,
    colour: [r() * 255, r() * 255, r() * 255],
  }));
  return rgbFrame((x, y) => {
    const col = [...base];
    for (const b of blobs) {
      const w = Math.exp(
        -((x - b.x) ** 2 + (y - b.y) ** 2) / (b.radius * b.radius),
      );
      for (let k = 0; k < 3; k++) col[k] = col[k] * (1 - w) + b.colour[k] * w;
    }
    return col;
  });
}

function noisy(f: Frame, amplitude: number, seed: number): Frame {
  const r = rng(seed);
  const data = f.data.map((v) =>
    clampByte(v + Math.round((r() * 2 - 1) * amplitude))
  );
  return { ...f, data };
}

Deno.test("histogram of known colours fills the expected bins", () => {
  const fp = createHistogram();
  assert.equal(fp.featureLength, 64);
  const t = fp.createTable(3);
  // Left half pure red → bin (3, 0, 0) = 48; right half pure blue → (0, 0, 3) = 3.
  fp.compute(rgbFrame((x) => (x < 16 ? [255, 0, 0] : [0, 0, 255])), t, 0);
  // One quarter (64..127, 128..191, 192..255) → bin (1, 2, 3) = 27; the rest black.
  fp.compute(rgbFrame((_, y) => (y < 8 ? [100, 150, 200] : [0, 0, 0])), t, 1);
  fp.compute(rgbFrame(() => [255, 0, 0]), t, 2);
  const bins = (k: number) => Array.from(t.subarray(k * 64, (k + 1) * 64));
  const expect0 = new Array(64).fill(0);
  expect0[48] = 0.5;
  expect0[3] = 0.5;
  assert.deepEqual(bins(0), expect0);
  const expect1 = new Array(64).fill(0);
  expect1[27] = 0.25;
  expect1[0] = 0.75;
  assert.deepEqual(bins(1), expect1);
  // Intersections: half of the first is pure red; nothing in common with the second.
  assert.equal(fp.distance(t, 0, t, 2), 0.5);
  assert.equal(fp.distance(t, 0, t, 1), 1);
  assert.equal(fp.distance(t, 1, t, 2), 1);
});

Deno.test("histogram ignores where the colours are", () => {
  const fp = createHistogram();
  const f = scene(3);
  const mirrored = rgbFrame((x, y) => {
    const p = (y * 32 + 31 - x) * 3;
    return [f.data[p], f.data[p + 1], f.data[p + 2]];
  });
  const t = fp.createTable(2);
  fp.compute(f, t, 0);
  fp.compute(mirrored, t, 1);
  assert.equal(fp.distance(t, 0, t, 1), 0);
});

/** The definition: 1 − Σ min over bins. */
function intersectionDistance(
  a: ArrayLike<number>,
  i: number,
  b: ArrayLike<number>,
  j: number,
): number {
  let s = 0;
  for (let k = 0; k < 64; k++) s += Math.min(a[i * 64 + k], b[j * 64 + k]);
  return 1 - s;
}

Deno.test("histogram gives 0 for identical frames and keeps distances in [0, 1]", () => {
  const fp = createHistogram();
  const n = 60;
  const t = fp.createTable(n);
  for (let k = 0; k < n; k++) {
    const r = rng(k + 1);
    const f = k % 2
      ? scene(k)
      : rgbFrame(() => [r() * 256, r() * 256, r() * 256]);
    fp.compute(f, t, k);
  }
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let b = 0; b < 64; b++) sum += t[i * 64 + b];
    assert.equal(sum, 1);
    assert.equal(fp.distance(t, i, t, i), 0);
    for (let j = 0; j < n; j++) {
      const d = fp.distance(t, i, t, j);
      assert.ok(d >= 0 && d <= 1, `d(${i}, ${j}) = ${d}`);
      assert.ok(Math.abs(d - intersectionDistance(t, i, t, j)) < 1e-6);
    }
  }
});

Deno.test("histogram puts a mildly noised copy much closer than an unrelated frame", () => {
  const fp = createHistogram();
  let near = 0, far = 0;
  const n = 40;
  for (let k = 0; k < n; k++) {
    const t = fp.createTable(3);
    const f = scene(k + 1);
    fp.compute(f, t, 0);
    fp.compute(noisy(f, 3, 700 + k), t, 1);
    fp.compute(scene(k + 300), t, 2);
    near += fp.distance(t, 0, t, 1);
    far += fp.distance(t, 0, t, 2);
  }
  near /= n;
  far /= n;
  assert.ok(near < 0.1, `noisy copies: ${near}`);
  assert.ok(far > 0.5, `unrelated: ${far}`);
  assert.ok(far > 5 * near);
});

Deno.test("histogram writes slot k only and distance reads slot k", () => {
  const fp = createHistogram();
  assert.equal(fp.coarse, false);
  const t = fp.createTable(3);
  assert.ok(t instanceof Float32Array);
  fp.compute(rgbFrame(() => [255, 0, 0]), t, 1);
  assert.ok(t.subarray(0, 64).every((v) => v === 0));
  assert.ok(t.subarray(128).every((v) => v === 0));
  assert.equal(t[64 + 48], 1);
  const single = fp.createTable(1);
  fp.compute(rgbFrame(() => [255, 0, 0]), single, 0);
  assert.equal(fp.distance(t, 1, single, 0), 0);
  assert.equal(fp.distance(single, 0, t, 1), 0);
});

Deno.test("histogram honours its options and rejects other formats", () => {
  const fp = createHistogram({ size: 16, levels: 8 });
  assert.deepEqual(fp.input, { width: 16, height: 16, channels: 3 });
  assert.equal(fp.featureLength, 512);
  const t = fp.createTable(1);
  fp.compute(rgbFrame(() => [255, 255, 255], 16), t, 0);
  assert.equal(t[511], 1);
  assert.throws(() => fp.compute(rgbFrame(() => [0, 0, 0]), t, 0), RangeError);
  assert.throws(
    () => createHistogram({ levels: 3 as unknown as 4 }),
    RangeError,
  );
  assert.equal(histogramDefaults.levels, 4);
});

Deno.test("histogram plugin definition creates a fine RGB fingerprinter", () => {
  assert.equal(plugin.kind, "fingerprinter");
  assert.equal(plugin.name, "histogram");
  const fp = plugin.create({});
  assert.equal(fp.name, "histogram");
  assert.deepEqual(fp.input, { width: 32, height: 32, channels: 3 });
});
