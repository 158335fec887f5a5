import assert from "node:assert/strict";
import {
  createHistogram,
  histogramDefaults,
  plugin,
} from "./fingerprint_histogram.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  noisy,
  rgbFrame,
  rng,
  scene,
} from "./_fingerprint_testing.ts";

const INPUT = { width: 32, height: 32, channels: 3 } as const;

/** A square RGB frame (32×32 unless said): pixel (x, y) is `f(x, y)`. */
const square = (f: (x: number, y: number) => readonly number[], size = 32) =>
  rgbFrame(size, size, f);

Deno.test("histogram of known colours fills the expected bins", () => {
  const fp = createHistogram();
  assert.equal(fp.featureLength, 64);
  const t = fp.createTable(3);
  // Left half pure red → bin (3, 0, 0) = 48; right half pure blue → (0, 0, 3) = 3.
  fp.compute(square((x) => (x < 16 ? [255, 0, 0] : [0, 0, 255])), t, 0);
  // One quarter (64..127, 128..191, 192..255) → bin (1, 2, 3) = 27; the rest black.
  fp.compute(square((_, y) => (y < 8 ? [100, 150, 200] : [0, 0, 0])), t, 1);
  fp.compute(square(() => [255, 0, 0]), t, 2);
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
  const f = scene(INPUT, 3);
  const mirrored = square((x, y) => {
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
  const n = 60;
  const t = assertDistanceContract(
    createHistogram(),
    (k) => {
      const r = rng(k + 1);
      return k % 2
        ? scene(INPUT, k)
        : square(() => [r() * 256, r() * 256, r() * 256]);
    },
    n,
    (d, i, j, t) =>
      assert.ok(Math.abs(d - intersectionDistance(t, i, t, j)) < 1e-6),
  );
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let b = 0; b < 64; b++) sum += t[i * 64 + b];
    assert.equal(sum, 1);
  }
});

Deno.test("histogram puts a mildly noised copy much closer than an unrelated frame", () => {
  assertNoisyCloser(
    createHistogram(),
    (k) => scene(INPUT, k + 1),
    (f, k) => noisy(f, 3, 700 + k),
    {
      count: 40,
      unrelated: (k) => scene(INPUT, k + 300),
      nearBelow: 0.1,
      farAbove: 0.5,
      farOverNear: 5,
    },
  );
});

Deno.test("histogram writes slot k only and distance reads slot k", () => {
  const fp = createHistogram();
  assert.equal(fp.coarse, false);
  const t = assertSlotLayout(fp, square(() => [255, 0, 0]));
  assert.ok(t instanceof Float32Array);
  assert.equal(t[64 + 48], 1);
});

Deno.test("histogram honours its options and rejects other formats", () => {
  const fp = createHistogram({ size: 16, levels: 8 });
  assert.deepEqual(fp.input, { width: 16, height: 16, channels: 3 });
  assert.equal(fp.featureLength, 512);
  const t = fp.createTable(1);
  fp.compute(square(() => [255, 255, 255], 16), t, 0);
  assert.equal(t[511], 1);
  assertRejectsFormat(fp, INPUT);
  assert.throws(
    () => createHistogram({ levels: 3 as unknown as 4 }),
    RangeError,
  );
  assert.equal(histogramDefaults.levels, 4);
});

Deno.test("histogram plugin definition creates a fine RGB fingerprinter", () => {
  assertFingerprinterPlugin(plugin, {}, {
    name: "histogram",
    input: INPUT,
    coarse: false,
  });
});
