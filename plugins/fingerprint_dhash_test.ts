import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import { hashToBigInt } from "../core/hamming.ts";
import { createDhash, dhashDefaults, plugin } from "./fingerprint_dhash.ts";

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

function frame(
  f: (x: number, y: number) => number,
  width = 9,
  height = 8,
): Frame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  }
  return { width, height, channels: 1, data };
}

/** A smooth random 9×8 picture (a few blurred blobs), like a real downscale. */
function scene(seed: number): Frame {
  const r = rng(seed);
  const blobs = Array.from(
    { length: 4 },
    () => [r() * 9, r() * 8, r() * 3 + 1, r() * 200 - 100],
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

function hashOf(f: Frame, fp = createDhash()): bigint {
  const t = fp.createTable(1);
  fp.compute(f, t, 0);
  return hashToBigInt(t, 0);
}

Deno.test("dhash of a rising horizontal gradient is all zeros", () => {
  assert.equal(hashOf(frame((x) => 20 * x)), 0n);
});

Deno.test("dhash of a falling horizontal gradient is all ones", () => {
  assert.equal(hashOf(frame((x) => 250 - 20 * x)), 0xffffffffffffffffn);
});

Deno.test("dhash of rows alternating rising and falling sets every odd byte", () => {
  // Row y is bits 8y..8y+7; odd rows fall → bytes 0xFF at odd positions.
  const f = frame((x, y) => (y % 2 === 0 ? 20 * x : 250 - 20 * x));
  assert.equal(hashOf(f), 0xff00ff00ff00ff00n);
});

Deno.test("dhash of a single bright column sets the bit left of its right edge", () => {
  // Column 5 bright: only the pair (5, 6) has left > right, in every row.
  const f = frame((x) => (x === 5 ? 200 : 50));
  assert.equal(hashOf(f), 0x2020202020202020n);
});

Deno.test("dhash vertical compares each pixel with the one below", () => {
  const fp = createDhash({ direction: "vertical" });
  assert.deepEqual(fp.input, { width: 8, height: 9, channels: 1 });
  assert.equal(
    hashOf(frame((_, y) => 250 - 20 * y, 8, 9), fp),
    0xffffffffffffffffn,
  );
  // Only row 2 is brighter than row 3 below it.
  assert.equal(
    hashOf(frame((_, y) => (y === 2 ? 200 : 50), 8, 9), fp),
    0xff0000n,
  );
});

Deno.test("dhash is unchanged by brightness offsets and contrast gains ≥ 1", () => {
  // Squeeze the scene into 10..190 so neither regrade clips. Adding a
  // constant keeps every comparison; so does a gain ≥ 1 with rounding,
  // because distinct integers stay at least one level apart.
  const f = scene(3);
  const base = frame((x, y) => Math.round(f.data[y * 9 + x] * 0.7 + 10));
  const brighter = frame((x, y) => base.data[y * 9 + x] + 40);
  const punchier = frame((x, y) => Math.round(base.data[y * 9 + x] * 1.2 + 5));
  const h = hashOf(base);
  assert.notEqual(h, 0n);
  assert.equal(hashOf(brighter), h);
  assert.equal(hashOf(punchier), h);
});

Deno.test("dhash gives 0 for identical frames and keeps distances in [0, 1]", () => {
  const fp = createDhash();
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
    }
  }
});

Deno.test("dhash puts a mildly noised copy much closer than an unrelated frame", () => {
  const fp = createDhash();
  let near = 0, far = 0;
  const n = 40;
  for (let k = 0; k < n; k++) {
    const t = fp.createTable(3);
    const f = scene(k + 1);
    fp.compute(f, t, 0);
    fp.compute(noisy(f, 2, 500 + k), t, 1);
    fp.compute(scene(k + 1000), t, 2);
    near += fp.distance(t, 0, t, 1);
    far += fp.distance(t, 0, t, 2);
  }
  near /= n;
  far /= n;
  assert.ok(near < 0.1, `noisy copies: ${near}`);
  assert.ok(far > 0.3, `unrelated: ${far}`);
  assert.ok(far > 3 * near);
});

Deno.test("dhash writes slot k only and distance reads slot k", () => {
  const fp = createDhash();
  assert.equal(fp.featureLength, 2);
  assert.equal(fp.coarse, true);
  const t = fp.createTable(3);
  fp.compute(frame((x) => 250 - 20 * x), t, 2);
  assert.deepEqual(Array.from(t), [0, 0, 0, 0, 0xffffffff, 0xffffffff]);
  assert.equal(fp.distance(t, 0, t, 2), 1);
  assert.equal(fp.distance(t, 2, t, 2), 0);
});

Deno.test("dhash rejects other formats and bad options", () => {
  const fp = createDhash();
  const t = fp.createTable(1);
  assert.throws(() => fp.compute(frame(() => 0, 8, 9), t, 0), RangeError);
  assert.throws(
    () => createDhash({ direction: "diagonal" as unknown as "vertical" }),
    RangeError,
  );
  assert.equal(dhashDefaults.direction, "horizontal");
});

Deno.test("dhash plugin definition creates a coarse 9×8 gray fingerprinter", () => {
  assert.equal(plugin.kind, "fingerprinter");
  assert.equal(plugin.name, "dhash");
  const fp = plugin.create({});
  assert.equal(fp.name, "dhash");
  assert.deepEqual(fp.input, { width: 9, height: 8, channels: 1 });
});
