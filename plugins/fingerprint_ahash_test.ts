import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import { ahashDefaults, createAhash, plugin } from "./fingerprint_ahash.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  grayFrame,
  hash64,
  noisy,
  randomFrame,
  scene,
} from "./_fingerprint_testing.ts";

const INPUT = { width: 8, height: 8, channels: 1 } as const;

/** An 8×8 gray frame: pixel (x, y) is `f(x, y)`. */
const frame = (f: (x: number, y: number) => number) => grayFrame(8, 8, f);
const hashOf = (f: Frame, fp = createAhash()) => hash64(fp, f);

Deno.test("ahash of a left-dark/right-bright image sets the right half of every row", () => {
  // Bit y*8+x is pixel (x, y): columns 4..7 of each row → 0xF0 per byte.
  assert.equal(hashOf(frame((x) => (x < 4 ? 0 : 255))), 0xf0f0f0f0f0f0f0f0n);
});

Deno.test("ahash of a top-dark/bottom-bright image sets the high word", () => {
  assert.equal(
    hashOf(frame((_, y) => (y < 4 ? 10 : 200))),
    0xffffffff00000000n,
  );
});

Deno.test("ahash of a flat image is all zeros", () => {
  assert.equal(hashOf(frame(() => 77)), 0n);
});

Deno.test("ahash mean and median thresholds differ on an outlier as derived by hand", () => {
  // Pixels 0..62 plus one 255: mean (1953 + 255) / 64 = 34.5 → pixels 35..63
  // set; lower median 31 → pixels 32..63 set.
  const f = frame((x, y) => (y * 8 + x === 63 ? 255 : y * 8 + x));
  assert.equal(hashOf(f), 0xfffffff800000000n);
  assert.equal(
    hashOf(f, createAhash({ threshold: "median" })),
    0xffffffff00000000n,
  );
});

Deno.test("ahash gives 0 for identical frames and keeps distances in [0, 1]", () => {
  // Distances are Hamming counts over 64 bits: whole multiples of 1/64.
  assertDistanceContract(
    createAhash(),
    (k) => randomFrame(INPUT, k + 1),
    80,
    (d) => assert.equal(d * 64, Math.round(d * 64)),
  );
  const inverse = createAhash();
  const a = inverse.createTable(2);
  inverse.compute(frame((x) => (x < 4 ? 0 : 255)), a, 0);
  inverse.compute(frame((x) => (x < 4 ? 255 : 0)), a, 1);
  assert.equal(inverse.distance(a, 0, a, 1), 1);
});

Deno.test("ahash puts a mildly noised copy much closer than an unrelated frame", () => {
  assertNoisyCloser(
    createAhash(),
    (k) => scene(INPUT, k + 1),
    (f, k) => noisy(f, 3, 500 + k),
    {
      count: 40,
      unrelated: (k) => scene(INPUT, k + 1000),
      nearBelow: 0.06,
      farAbove: 0.3,
    },
  );
});

Deno.test("ahash writes slot k only and distance reads slot k", () => {
  const fp = createAhash();
  assert.equal(fp.featureLength, 2);
  assert.equal(fp.coarse, true);
  const t = assertSlotLayout(fp, frame((x) => (x < 4 ? 0 : 255)));
  assert.ok(t instanceof Uint32Array);
  assert.deepEqual(Array.from(t), [0, 0, 0xf0f0f0f0, 0xf0f0f0f0, 0, 0]);
  assert.equal(fp.distance(t, 0, t, 1), 32 / 64);
});

Deno.test("ahash rejects other formats and bad options", () => {
  assertRejectsFormat(createAhash(), { width: 9, height: 8, channels: 1 });
  assert.throws(
    () => createAhash({ threshold: "mode" as unknown as "mean" }),
    RangeError,
  );
  assert.equal(ahashDefaults.threshold, "mean");
});

Deno.test("ahash plugin definition creates a coarse 8×8 gray fingerprinter", () => {
  assertFingerprinterPlugin(plugin, { threshold: "median", other: true }, {
    name: "ahash",
    input: INPUT,
    coarse: true,
  });
});
