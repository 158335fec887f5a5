import assert from "node:assert/strict";
import { type Frame, resizeArea } from "../core/frame.ts";
import { ssim } from "../core/ssim.ts";
import {
  createSsimFingerprint,
  plugin,
  ssimFingerprintDefaults,
} from "./fingerprint_ssim.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  featuresOf,
  flatFrame,
  grayFrame,
  mapFrame,
  noisy,
  randomFrame,
  rng,
  scene,
} from "./_fingerprint_testing.ts";

const INPUT = { width: 48, height: 27, channels: 1 } as const;

/**
 * A smooth texture panned by `shift` thumbnail pixels: rendered at 4×
 * resolution from a sum of sinusoids, then area-averaged down.
 */
function panFrame(shift: number): Frame {
  const r = rng(11);
  const waves = Array.from({ length: 6 }, () => {
    const period = 5 + r() * 12, angle = r() * Math.PI;
    return {
      kx: Math.cos(angle) / period,
      ky: Math.sin(angle) / period,
      phase: r() * 2 * Math.PI,
      amp: 8 + r() * 10,
    };
  });
  const over = 4;
  const fine = grayFrame(48 * over, 27 * over, (x, y) => {
    const u = (x + 0.5) / over - shift, v = (y + 0.5) / over;
    let s = 128;
    for (const w of waves) {
      s += w.amp * Math.sin(2 * Math.PI * (w.kx * u + w.ky * v) + w.phase);
    }
    return s;
  });
  return resizeArea(fine, 48, 27);
}

Deno.test("ssim fingerprint: identical frames at exactly 0, every distance in [0, 1]", () => {
  const fp = createSsimFingerprint();
  assertDistanceContract(fp, (k) => {
    const base = scene(INPUT, 100 + k);
    return k % 3 === 0
      ? base
      : k % 3 === 1
      ? noisy(base, 20, k)
      : flatFrame(INPUT, (k * 37) % 256);
  }, 45);
});

Deno.test("ssim fingerprint distance is 1 − SSIM of the thumbnails, clamped at 0 SSIM", () => {
  const fp = createSsimFingerprint();
  const o = {
    window: ssimFingerprintDefaults.window,
    radius: ssimFingerprintDefaults.radius,
    sigma: ssimFingerprintDefaults.sigma,
  };
  const a = panFrame(0), b = noisy(panFrame(0.5), 6, 3);
  const d = fp.distance(featuresOf(fp, a), 0, featuresOf(fp, b), 0);
  const want = 1 - ssim(a, b, o);
  assert.ok(Math.abs(d - want) < 1e-5, `${d} vs ${want}`);
  // An inverted texture has negative SSIM: distance exactly 1, not above.
  const inv = mapFrame(randomFrame(INPUT, 4), (v) => 255 - v);
  assert.ok(ssim(randomFrame(INPUT, 4), inv, o) < 0);
  assert.equal(
    fp.distance(
      featuresOf(fp, randomFrame(INPUT, 4)),
      0,
      featuresOf(fp, inv),
      0,
    ),
    1,
  );
});

Deno.test("ssim fingerprint puts a mildly noised copy far closer than another picture", () => {
  const stats = assertNoisyCloser(
    createSsimFingerprint(),
    (k) => scene(INPUT, 200 + k),
    (f, k) => noisy(f, 2, 900 + k),
    { count: 12, nearBelow: 0.05, farAbove: 0.3, farOverNear: 10 },
  );
  assert.ok(Math.max(...stats.near) < Math.min(...stats.far));
});

Deno.test("ssim fingerprint separates 0.25 px steps of a slow pan, also under noise", () => {
  const fp = createSsimFingerprint();
  const steps = 9;
  const clean = fp.createTable(steps), noised = fp.createTable(steps);
  for (let k = 0; k < steps; k++) {
    const f = panFrame(k * 0.25);
    fp.compute(f, clean, k);
    fp.compute(noisy(f, 2, 500 + k), noised, k);
  }
  for (const [label, other] of [["clean", clean], ["noisy", noised]] as const) {
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

Deno.test("ssim fingerprint judges flat frames by luminance: equal means match, black and white do not", () => {
  const fp = createSsimFingerprint();
  const black = featuresOf(fp, flatFrame(INPUT, 0));
  const white = featuresOf(fp, flatFrame(INPUT, 255));
  const grey = featuresOf(fp, flatFrame(INPUT, 128));
  assert.equal(
    fp.distance(black, 0, featuresOf(fp, flatFrame(INPUT, 0)), 0),
    0,
  );
  assert.ok(fp.distance(black, 0, white, 0) > 0.99);
  const near = fp.distance(grey, 0, featuresOf(fp, flatFrame(INPUT, 132)), 0);
  assert.ok(near > 0 && near < 0.01, `grey 128 vs 132: ${near}`);
});

Deno.test("ssim fingerprint writes slot k only and reads slot k", () => {
  const fp = createSsimFingerprint();
  const t = assertSlotLayout(fp, scene(INPUT, 7));
  assert.ok(t instanceof Float32Array);
  // 48×27 pixels, then means and squares over (48 − 6) × (27 − 6) windows.
  assert.equal(fp.featureLength, 48 * 27 + 2 * 42 * 21);
});

Deno.test("ssim fingerprint honours its size options and rejects other formats", () => {
  const fp = createSsimFingerprint({ width: 32, height: 32, radius: 5 });
  assert.deepEqual(fp.input, { width: 32, height: 32, channels: 1 });
  assert.equal(fp.featureLength, 32 * 32 + 2 * 22 * 22);
  const f = randomFrame(fp.input, 1);
  const t = featuresOf(fp, f);
  assert.equal(fp.distance(t, 0, t, 0), 0);
  assertRejectsFormat(fp, INPUT);
  assertRejectsFormat(createSsimFingerprint(), { ...INPUT, channels: 3 });
  assert.throws(() => createSsimFingerprint({ width: 4 }), RangeError);
  assert.throws(() => createSsimFingerprint({ height: 27.5 }), RangeError);
});

Deno.test("ssim plugin definition creates a fine fingerprinter", () => {
  assertFingerprinterPlugin(plugin, { width: 40, height: 24, unknown: 1 }, {
    name: "ssim",
    input: { width: 40, height: 24, channels: 1 },
    coarse: false,
  });
});
