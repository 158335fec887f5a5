import assert from "node:assert/strict";
import { type Frame, resizeArea } from "../core/frame.ts";
import { createThumb, plugin, thumbDefaults } from "./fingerprint_thumb.ts";
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
} from "./_fingerprint_testing.ts";

const INPUT = { width: 32, height: 32, channels: 1 } as const;

/** Uniform noise, 32×32 gray unless said. */
const randomGray = (seed: number, size = 32) =>
  randomFrame({ width: size, height: size, channels: 1 }, seed);

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
  const fine = grayFrame(hi, hi, (x, y) => {
    const u = (x + 0.5) / over - shift, v = (y + 0.5) / over;
    let s = 128;
    for (const w of waves) {
      s += w.amp * Math.sin(2 * Math.PI * (w.kx * u + w.ky * v) + w.phase);
    }
    return s;
  });
  return resizeArea(fine, 32, 32);
}

const one = (frame: Frame, fp = createThumb()) => featuresOf(fp, frame);

Deno.test("thumb gives distance exactly 0 for identical frames", () => {
  const fp = createThumb();
  assertDistanceContract(fp, (k) => randomGray(k + 1), 50);
  const pan = one(panFrame(0.25), fp);
  assert.equal(fp.distance(pan, 0, pan, 0), 0);
});

Deno.test("thumb keeps every distance in [0, 1] over many random pairs", () => {
  // A mix of textured, low-contrast and flat frames.
  assertDistanceContract(createThumb(), (k) => {
    const base = randomGray(100 + k);
    return k % 3 === 0
      ? base
      : k % 3 === 1
      ? mapFrame(base, (v) => 100 + v / 64)
      : mapFrame(base, () => (k * 37) % 256);
  }, 60);
});

Deno.test("thumb puts unrelated frames near 1 and anti-correlated ones at 1", () => {
  const fp = createThumb();
  const a = one(randomGray(1), fp), b = one(randomGray(2), fp);
  const d = fp.distance(a, 0, b, 0);
  assert.ok(d > 0.85 && d <= 1, `unrelated: ${d}`);
  const neg = one(mapFrame(randomGray(1), (v) => 255 - v), fp);
  assert.equal(fp.distance(a, 0, neg, 0), 1);
});

Deno.test("thumb puts a mildly noised copy much closer than an unrelated frame", () => {
  assertNoisyCloser(createThumb(), () => panFrame(0), (f) => noisy(f, 2, 9), {
    count: 1,
    unrelated: () => randomGray(3),
    nearBelow: 0.01,
    farOverNear: 50,
  });
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
  const noised = fp.createTable(steps);
  const graded = fp.createTable(steps);
  frames.forEach((f, k) => {
    fp.compute(f, clean, k);
    fp.compute(noisy(f, 2, 1000 + k), noised, k);
    fp.compute(mapFrame(f, (v) => 1.2 * v + 10), graded, k);
  });
  for (
    const [label, other] of [["clean", clean], ["noisy", noised], [
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
  const black = one(flatFrame(INPUT, 0), fp);
  const dark = one(flatFrame(INPUT, 16), fp);
  // std ≈ 1 gray level: still flat.
  const nearlyFlat = one(noisy(flatFrame(INPUT, 16), 1, 4), fp);
  const white = one(flatFrame(INPUT, 255), fp);
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
  // The pixels, their sum and V; then the 8×8 block sums (2 bytes each)
  // and their V.
  assert.equal(fp.featureLength, 32 * 32 + 12 + 8 * 8 * 2 + 6);
  const frame = randomGray(5);
  const t = assertSlotLayout(fp, frame);
  assert.ok(t instanceof Uint8Array);
  const at = fp.featureLength, n = 32 * 32;
  assert.deepEqual(t.subarray(at, at + n), frame.data);
  const sum = frame.data.reduce((s, v) => s + v, 0);
  const squares = frame.data.reduce((s, v) => s + v * v, 0);
  const read48 = (k: number) =>
    Array.from(t.subarray(k, k + 6)).reduceRight((s, v) => s * 256 + v, 0);
  assert.equal(read48(at + n), sum);
  assert.equal(read48(at + n + 6), n * squares - sum * sum);
  // Slot 0 is empty, i.e. a black flat frame; slot 1 is textured.
  assert.equal(fp.distance(t, 0, t, 1), 1);
});

Deno.test("thumb honours the size option and rejects other formats", () => {
  const fp = createThumb({ size: 16 });
  assert.deepEqual(fp.input, { width: 16, height: 16, channels: 1 });
  assert.equal(fp.featureLength, 16 * 16 + 12 + 8 * 8 * 2 + 6);
  const t = fp.createTable(1);
  fp.compute(randomGray(1, 16), t, 0);
  assert.equal(fp.distance(t, 0, t, 0), 0);
  assert.equal(fp.coarseDistance!(t, 0, t, 0), 0);
  assertRejectsFormat(fp, INPUT);
  // Sizes that are no multiple of 8 have no coarse part.
  const odd = createThumb({ size: 20 });
  assert.equal(odd.featureLength, 20 * 20 + 12);
  assert.equal(odd.coarseDistance, undefined);
  assert.throws(() => createThumb({ size: 2 }), RangeError);
  assert.equal(thumbDefaults.size, 32);
});

Deno.test("thumb plugin definition creates a fine fingerprinter", () => {
  assertFingerprinterPlugin(plugin, { size: 24, unknown: 1 }, {
    name: "thumb",
    input: { width: 24, height: 24, channels: 1 },
    coarse: false,
  });
});

Deno.test("thumb's coarse distance ranks pan shifts as the full distance does, and treats flat frames alike", () => {
  const fp = createThumb();
  const shifts = [0, 0.25, 0.5, 1, 2, 4];
  const t = fp.createTable(shifts.length);
  shifts.forEach((d, k) => fp.compute(panFrame(d), t, k));
  const full = shifts.map((_, k) => fp.distance(t, 0, t, k));
  const coarse = shifts.map((_, k) => fp.coarseDistance!(t, 0, t, k));
  assert.equal(coarse[0], 0);
  // Both grow with the shift: the offset search's ranking holds.
  for (let k = 1; k < shifts.length; k++) {
    assert.ok(full[k] > full[k - 1], `full ${full}`);
    assert.ok(coarse[k] > coarse[k - 1], `coarse ${coarse}`);
  }
  // Unrelated frames stay far apart.
  const u = fp.createTable(2);
  fp.compute(randomGray(11), u, 0);
  fp.compute(randomGray(12), u, 1);
  assert.ok(fp.coarseDistance!(u, 0, u, 1) > 0.5);
  // Flat frames: compared by mean, as the full distance does.
  const f = fp.createTable(3);
  fp.compute(flatFrame(INPUT, 40), f, 0);
  fp.compute(flatFrame(INPUT, 41), f, 1);
  fp.compute(randomGray(3), f, 2);
  assert.equal(fp.coarseDistance!(f, 0, f, 1), fp.distance(f, 0, f, 1));
  assert.equal(fp.coarseDistance!(f, 0, f, 2), 1);
});

/** 1 − NCC of two pixel arrays in floating point, clamped to [0, 1]. */
function referenceDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let k = 0; k < n; k++) (ma += a[k]), (mb += b[k]);
  ma /= n, mb /= n;
  let ab = 0, aa = 0, bb = 0;
  for (let k = 0; k < n; k++) {
    ab += (a[k] - ma) * (b[k] - mb);
    aa += (a[k] - ma) ** 2;
    bb += (b[k] - mb) ** 2;
  }
  return Math.min(1, Math.max(0, 1 - ab / Math.sqrt(aa * bb)));
}

/** Sums of g×g blocks of a size×size image. */
function blockSums(px: Uint8Array, size: number, g: number): number[] {
  const b = size / g, out = new Array(g * g).fill(0);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      out[Math.floor(y / b) * g + Math.floor(x / b)] += px[y * size + x];
    }
  }
  return out;
}

Deno.test("thumb's distances are the NCC of the pixels and of their 8×8 block sums, at every size up to the largest", () => {
  for (const size of [8, 16, 32, 128]) {
    const fp = createThumb({ size });
    const frames = [
      randomGray(21, size),
      randomGray(22, size),
      // Extreme contrast: half black, half white (the largest stored V).
      grayFrame(size, size, (x) => (x < size / 2 ? 0 : 255)),
      grayFrame(size, size, (x, y) => (x + y) % 2 ? 0 : 255),
      mapFrame(randomGray(21, size), (v) => 255 - v / 2),
    ];
    const t = fp.createTable(frames.length);
    frames.forEach((f, k) => fp.compute(f, t, k));
    for (let i = 0; i < frames.length; i++) {
      for (let j = 0; j < frames.length; j++) {
        const want = referenceDistance(frames[i].data, frames[j].data);
        const got = fp.distance(t, i, t, j);
        assert.ok(
          Math.abs(got - want) < 1e-12,
          `size ${size} ${i}-${j}: ${got} vs ${want}`,
        );
        if (!fp.coarseDistance) continue;
        const bi = blockSums(frames[i].data, size, 8);
        const bj = blockSums(frames[j].data, size, 8);
        // A checkerboard has no contrast at the block scale: the pixels decide.
        const coarseWant = new Set(bi).size === 1 || new Set(bj).size === 1
          ? want
          : referenceDistance(bi, bj);
        const coarse = fp.coarseDistance(t, i, t, j);
        assert.ok(
          Math.abs(coarse - coarseWant) < 1e-12,
          `size ${size} coarse ${i}-${j}: ${coarse} vs ${coarseWant}`,
        );
      }
    }
  }
});
