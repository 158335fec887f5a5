import assert from "node:assert/strict";
import { type Frame, resizeArea } from "../core/frame.ts";
import { createThumb, plugin, thumbDefaults } from "./fingerprint_thumb.ts";

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

function gray(size: number, data: Uint8Array): Frame {
  return { width: size, height: size, channels: 1, data };
}

function randomFrame(seed: number, size = 32): Frame {
  const r = rng(seed);
  return gray(size, Uint8Array.from({ length: size * size }, () => r() * 256));
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** The same frame through `f` per pixel, clamped to bytes. */
function mapFrame(frame: Frame, f: (v: number, k: number) => number): Frame {
  return { ...frame, data: frame.data.map((v, k) => clampByte(f(v, k))) };
}

function addNoise(frame: Frame, amplitude: number, seed: number): Frame {
  const r = rng(seed);
  return mapFrame(
    frame,
    (v) => v + Math.round((r() * 2 - 1) * amplitude),
  );
}

/**
 * A smooth texture (sum of sinusoids, periods 6–20 px at 32×32) panned by
 * `shift` thumbnail pixels: rendered at 4× resolution from the continuous
 * function, then area-averaged down like ffmpeg would.
 */
function panFrame(shift: number): Frame {
  const r = rng(7);
  const waves = Array.from({ length: 6 }, () => {
    const period = 6 + r() * 14, angle = r() * Math.PI;
    return {
      kx: Math.cos(angle) / period,
      ky: Math.sin(angle) / period,
      phase: r() * 2 * Math.PI,
      amp: 8 + r() * 10,
    };
  });
  const hi = 128, over = hi / 32;
  const data = new Uint8Array(hi * hi);
  for (let y = 0; y < hi; y++) {
    for (let x = 0; x < hi; x++) {
      const u = (x + 0.5) / over - shift, v = (y + 0.5) / over;
      let s = 128;
      for (const w of waves) {
        s += w.amp * Math.sin(2 * Math.PI * (w.kx * u + w.ky * v) + w.phase);
      }
      data[y * hi + x] = clampByte(s);
    }
  }
  return resizeArea(gray(hi, data), 32, 32);
}

function one(frame: Frame, fp = createThumb()) {
  const t = fp.createTable(1);
  fp.compute(frame, t, 0);
  return t;
}

Deno.test("thumb gives distance exactly 0 for identical frames", () => {
  const fp = createThumb();
  const t = fp.createTable(50);
  for (let k = 0; k < 50; k++) fp.compute(randomFrame(k + 1), t, k);
  for (let k = 0; k < 50; k++) assert.equal(fp.distance(t, k, t, k), 0);
  const pan = one(panFrame(0.25), fp);
  assert.equal(fp.distance(pan, 0, pan, 0), 0);
});

Deno.test("thumb keeps every distance in [0, 1] over many random pairs", () => {
  const fp = createThumb();
  const n = 60;
  const t = fp.createTable(n);
  for (let k = 0; k < n; k++) {
    // A mix of textured, low-contrast and flat frames.
    const base = randomFrame(100 + k);
    const f = k % 3 === 0
      ? base
      : k % 3 === 1
      ? mapFrame(base, (v) => 100 + v / 64)
      : mapFrame(base, () => (k * 37) % 256);
    fp.compute(f, t, k);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = fp.distance(t, i, t, j);
      assert.ok(d >= 0 && d <= 1, `d(${i}, ${j}) = ${d}`);
    }
  }
});

Deno.test("thumb puts unrelated frames near 1 and anti-correlated ones at 1", () => {
  const fp = createThumb();
  const a = one(randomFrame(1), fp), b = one(randomFrame(2), fp);
  const d = fp.distance(a, 0, b, 0);
  assert.ok(d > 0.85 && d <= 1, `unrelated: ${d}`);
  const neg = one(mapFrame(randomFrame(1), (v) => 255 - v), fp);
  assert.equal(fp.distance(a, 0, neg, 0), 1);
});

Deno.test("thumb puts a mildly noised copy much closer than an unrelated frame", () => {
  const fp = createThumb();
  const f = panFrame(0);
  const a = one(f, fp);
  const noisy = one(addNoise(f, 2, 9), fp);
  const other = one(randomFrame(3), fp);
  const near = fp.distance(a, 0, noisy, 0);
  const far = fp.distance(a, 0, other, 0);
  assert.ok(near < 0.01, `noisy copy: ${near}`);
  assert.ok(far > 50 * near, `near ${near} vs far ${far}`);
});

Deno.test("thumb ignores brightness and contrast regrades", () => {
  const fp = createThumb();
  const f = panFrame(0);
  const a = one(f, fp);
  const graded = one(mapFrame(f, (v) => 1.2 * v + 10), fp);
  const d = fp.distance(a, 0, graded, 0);
  assert.ok(d < 1e-3, `regrade: ${d}`);
});

Deno.test("thumb separates 0.25 px steps of a slow pan, also under noise and regrade", () => {
  const fp = createThumb();
  const steps = 9;
  const frames = Array.from({ length: steps }, (_, k) => panFrame(k * 0.25));
  const clean = fp.createTable(steps);
  const noisy = fp.createTable(steps);
  const graded = fp.createTable(steps);
  frames.forEach((f, k) => {
    fp.compute(f, clean, k);
    fp.compute(addNoise(f, 2, 1000 + k), noisy, k);
    fp.compute(mapFrame(f, (v) => 1.2 * v + 10), graded, k);
  });
  for (
    const [label, other] of [["clean", clean], ["noisy", noisy], [
      "graded",
      graded,
    ]] as const
  ) {
    for (let k = 2; k < steps - 2; k++) {
      const d0 = fp.distance(clean, k, other, k);
      for (const dir of [-1, 1]) {
        const d1 = fp.distance(clean, k, other, k + dir);
        const d2 = fp.distance(clean, k, other, k + 2 * dir);
        assert.ok(
          d0 < d1 && d1 < d2,
          `${label} k=${k} dir=${dir}: ${d0} < ${d1} < ${d2} fails`,
        );
      }
    }
  }
});

Deno.test("thumb compares flat frames by mean and flat vs textured as 1", () => {
  const fp = createThumb();
  const black = one(gray(32, new Uint8Array(1024)), fp);
  const dark = one(gray(32, new Uint8Array(1024).fill(16)), fp);
  // std ≈ 1 gray level: still flat.
  const nearlyFlat = one(
    addNoise(gray(32, new Uint8Array(1024).fill(16)), 1, 4),
    fp,
  );
  const white = one(gray(32, new Uint8Array(1024).fill(255)), fp);
  const textured = one(panFrame(0), fp);
  assert.equal(fp.distance(black, 0, black, 0), 0);
  assert.equal(fp.distance(black, 0, dark, 0), 0.25);
  assert.ok(fp.distance(dark, 0, nearlyFlat, 0) < 0.01);
  assert.equal(fp.distance(black, 0, white, 0), 1);
  assert.equal(fp.distance(black, 0, textured, 0), 1);
  assert.equal(fp.distance(textured, 0, white, 0), 1);
});

Deno.test("thumb writes slot k only and distance reads slot k", () => {
  const fp = createThumb();
  assert.equal(fp.featureLength, 32 * 32 + 3);
  const t = fp.createTable(3);
  assert.ok(t instanceof Int16Array);
  assert.equal(t.length, 3 * fp.featureLength);
  fp.compute(randomFrame(5), t, 1);
  const L = fp.featureLength;
  assert.ok(t.subarray(0, L).every((v) => v === 0));
  assert.ok(t.subarray(2 * L).every((v) => v === 0));
  assert.ok(t.subarray(L, 2 * L).some((v) => v !== 0));
  const single = one(randomFrame(5), fp);
  assert.equal(fp.distance(t, 1, single, 0), 0);
  assert.equal(fp.distance(single, 0, t, 1), 0);
  // Slot 0 is empty, i.e. a black flat frame; slot 1 is textured.
  assert.equal(fp.distance(t, 0, t, 1), 1);
});

Deno.test("thumb honours the size option and rejects other formats", () => {
  const fp = createThumb({ size: 16 });
  assert.deepEqual(fp.input, { width: 16, height: 16, channels: 1 });
  assert.equal(fp.featureLength, 16 * 16 + 3);
  const t = fp.createTable(1);
  fp.compute(randomFrame(1, 16), t, 0);
  assert.equal(fp.distance(t, 0, t, 0), 0);
  assert.throws(() => fp.compute(randomFrame(1, 32), t, 0), RangeError);
  assert.throws(() => createThumb({ size: 2 }), RangeError);
  assert.equal(thumbDefaults.size, 32);
});

Deno.test("thumb plugin definition creates a fine fingerprinter", () => {
  assert.equal(plugin.kind, "fingerprinter");
  assert.equal(plugin.name, "thumb");
  const fp = plugin.create({ size: 24, unknown: 1 });
  assert.equal(fp.name, "thumb");
  assert.equal(fp.coarse, false);
  assert.equal(fp.input.width, 24);
});
