import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import { hashToBigInt } from "../core/hamming.ts";
import { ahashDefaults, createAhash, plugin } from "./fingerprint_ahash.ts";

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

function frame(f: (x: number, y: number) => number): Frame {
  const data = new Uint8Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) data[y * 8 + x] = f(x, y);
  }
  return { width: 8, height: 8, channels: 1, data };
}

/** A smooth random 8×8 picture (a few blurred blobs), like a real downscale. */
function scene(seed: number): Frame {
  const r = rng(seed);
  const blobs = Array.from(
    { length: 4 },
    () => [r() * 8, r() * 8, r() * 3 + 1, r() * 200 - 100],
  );
  return frame((x, y) => {
    let v = 128;
    for (const [bx, by, rad, amp] of blobs) {
      v += amp * Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / (rad * rad));
    }
    return Math.max(0, Math.min(255, Math.round(v)));
  });
}

function noisy(f: Frame, amplitude: number, seed: number): Frame {
  const r = rng(seed);
  const data = f.data.map((v) =>
    Math.max(0, Math.min(255, v + Math.round((r() * 2 - 1) * amplitude)))
  );
  return { ...f, data };
}

function hashOf(f: Frame, fp = createAhash()): bigint {
  const t = fp.createTable(1);
  fp.compute(f, t, 0);
  return hashToBigInt(t, 0);
}

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
  const fp = createAhash();
  const n = 80;
  const t = fp.createTable(n);
  for (let k = 0; k < n; k++) {
    const r = rng(k + 1);
    fp.compute(frame(() => Math.floor(r() * 256)), t, k);
  }
  for (let i = 0; i < n; i++) {
    assert.equal(fp.distance(t, i, t, i), 0);
    for (let j = 0; j < n; j++) {
      const d = fp.distance(t, i, t, j);
      assert.ok(d >= 0 && d <= 1, `d(${i}, ${j}) = ${d}`);
      assert.equal(d * 64, Math.round(d * 64));
    }
  }
  const inverse = createAhash();
  const a = inverse.createTable(2);
  inverse.compute(frame((x) => (x < 4 ? 0 : 255)), a, 0);
  inverse.compute(frame((x) => (x < 4 ? 255 : 0)), a, 1);
  assert.equal(inverse.distance(a, 0, a, 1), 1);
});

Deno.test("ahash puts a mildly noised copy much closer than an unrelated frame", () => {
  const fp = createAhash();
  let near = 0, far = 0;
  const n = 40;
  for (let k = 0; k < n; k++) {
    const t = fp.createTable(3);
    const f = scene(k + 1);
    fp.compute(f, t, 0);
    fp.compute(noisy(f, 3, 500 + k), t, 1);
    fp.compute(scene(k + 1000), t, 2);
    near += fp.distance(t, 0, t, 1);
    far += fp.distance(t, 0, t, 2);
  }
  near /= n;
  far /= n;
  assert.ok(near < 0.06, `noisy copies: ${near}`);
  assert.ok(far > 0.3, `unrelated: ${far}`);
});

Deno.test("ahash writes slot k only and distance reads slot k", () => {
  const fp = createAhash();
  assert.equal(fp.featureLength, 2);
  assert.equal(fp.coarse, true);
  const t = fp.createTable(3);
  assert.ok(t instanceof Uint32Array);
  fp.compute(frame((x) => (x < 4 ? 0 : 255)), t, 1);
  assert.deepEqual(Array.from(t), [0, 0, 0xf0f0f0f0, 0xf0f0f0f0, 0, 0]);
  assert.equal(fp.distance(t, 0, t, 1), 32 / 64);
  assert.equal(fp.distance(t, 1, t, 1), 0);
});

Deno.test("ahash rejects other formats and bad options", () => {
  const fp = createAhash();
  const t = fp.createTable(1);
  const wide: Frame = {
    width: 9,
    height: 8,
    channels: 1,
    data: new Uint8Array(72),
  };
  assert.throws(() => fp.compute(wide, t, 0), RangeError);
  assert.throws(
    () => createAhash({ threshold: "mode" as unknown as "mean" }),
    RangeError,
  );
  assert.equal(ahashDefaults.threshold, "mean");
});

Deno.test("ahash plugin definition creates a coarse 8×8 gray fingerprinter", () => {
  assert.equal(plugin.kind, "fingerprinter");
  assert.equal(plugin.name, "ahash");
  const fp = plugin.create({ threshold: "median", other: true });
  assert.equal(fp.name, "ahash");
  assert.deepEqual(fp.input, { width: 8, height: 8, channels: 1 });
});
