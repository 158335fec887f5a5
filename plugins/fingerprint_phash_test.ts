import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import { hamming64, hashToBigInt } from "../core/hamming.ts";
import { createPhash, phashDefaults, plugin } from "./fingerprint_phash.ts";

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
  const data = new Uint8Array(1024);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) data[y * 32 + x] = f(x, y);
  }
  return { width: 32, height: 32, channels: 1, data };
}

function randomFrame(seed: number): Frame {
  const r = rng(seed);
  return frame(() => Math.floor(r() * 256));
}

/**
 * A random texture with natural-image statistics: sinusoids of random
 * direction whose amplitude falls as 1/frequency, like the spectrum of real
 * footage (pure blobs would leave most of the 8×8 block at noise level).
 */
function scene(seed: number): Frame {
  const r = rng(seed);
  const waves = Array.from({ length: 24 }, () => {
    const f = 0.5 + r() * 7.5, angle = r() * 2 * Math.PI;
    return [
      (f * Math.cos(angle)) / 32,
      (f * Math.sin(angle)) / 32,
      r() * 2 * Math.PI,
      (60 / f) * (0.5 + r()),
    ];
  });
  return frame((x, y) => {
    let v = 128;
    for (const [kx, ky, phase, amp] of waves) {
      v += amp * Math.sin(2 * Math.PI * (kx * x + ky * y) + phase);
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

function hashOf(f: Frame, fp = createPhash()): bigint {
  const t = fp.createTable(1);
  fp.compute(f, t, 0);
  return hashToBigInt(t, 0);
}

function bits(h: bigint): number {
  let n = 0;
  for (; h; h &= h - 1n) n++;
  return n;
}

/**
 * The textbook definition, computed the slow way: the full 2-D DCT-II sum
 * for each of the 8×8 low frequencies, and a sort for the median.
 */
function referenceHash(f: Frame, includeDc: boolean): bigint {
  const c: number[] = [];
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          s += f.data[y * 32 + x] *
            Math.cos(((2 * x + 1) * u * Math.PI) / 64) *
            Math.cos(((2 * y + 1) * v * Math.PI) / 64);
        }
      }
      c.push(s);
    }
  }
  const first = includeDc ? 0 : 1;
  const sorted = c.slice(first).sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const median = sorted.length % 2
    ? sorted[m]
    : (sorted[m - 1] + sorted[m]) / 2;
  let h = 0n;
  for (let k = first; k < 64; k++) if (c[k] > median) h |= 1n << BigInt(k);
  return h;
}

Deno.test("phash matches a direct 2-D DCT and median threshold bit for bit", () => {
  const withDc = createPhash({ includeDc: true });
  for (let k = 0; k < 12; k++) {
    const f = k % 2 ? randomFrame(k) : scene(k);
    assert.equal(hashOf(f), referenceHash(f, false), `frame ${k}`);
    assert.equal(hashOf(f, withDc), referenceHash(f, true), `frame ${k} (DC)`);
  }
});

Deno.test("phash leaves the DC bit clear and sets exactly 31 of the 63 AC bits", () => {
  for (let k = 0; k < 20; k++) {
    const h = hashOf(randomFrame(k + 1));
    assert.equal(h & 1n, 0n);
    assert.equal(bits(h), 31);
  }
  // With the DC: the mean of the two middle values splits 64 into 32 + 32.
  assert.equal(
    bits(hashOf(randomFrame(3), createPhash({ includeDc: true }))),
    32,
  );
});

Deno.test("phash is unchanged by a brightness offset", () => {
  for (let k = 0; k < 10; k++) {
    const f = scene(k + 1);
    const squeezed = { ...f, data: f.data.map((v) => v >> 1) };
    const brighter = { ...f, data: squeezed.data.map((v) => v + 60) };
    assert.equal(hashOf(brighter), hashOf(squeezed));
  }
});

Deno.test("phash of a negative flips every AC bit but the median's", () => {
  // Negating negates every AC coefficient, so the median maps to the new
  // median and all 62 others change side: Hamming distance exactly 62.
  const fp = createPhash();
  for (let k = 0; k < 10; k++) {
    const f = scene(k + 1);
    const t = fp.createTable(2);
    fp.compute(f, t, 0);
    fp.compute({ ...f, data: f.data.map((v) => 255 - v) }, t, 1);
    assert.equal(hamming64(t, 0, t, 1), 62);
    assert.equal(fp.distance(t, 0, t, 1), 62 / 64);
  }
});

Deno.test("phash is stable under small noise and changes a lot for another image", () => {
  const fp = createPhash();
  let worstNear = 0, bestFar = 64, sumFar = 0;
  const n = 100;
  for (let k = 0; k < n; k++) {
    const t = fp.createTable(3);
    const f = scene(k + 1);
    fp.compute(f, t, 0);
    fp.compute(noisy(f, 3, 100 + k), t, 1);
    fp.compute(scene(k + 500), t, 2);
    worstNear = Math.max(worstNear, hamming64(t, 0, t, 1));
    const far = hamming64(t, 0, t, 2);
    bestFar = Math.min(bestFar, far);
    sumFar += far;
  }
  assert.ok(worstNear <= 4, `noisy copies differ by up to ${worstNear} bits`);
  assert.ok(
    bestFar >= 16,
    `unrelated frames differ by as few as ${bestFar} bits`,
  );
  assert.ok(
    sumFar / n >= 24,
    `unrelated frames differ by ${sumFar / n} bits on average`,
  );
});

Deno.test("phash gives 0 for identical frames and keeps distances in [0, 1]", () => {
  const fp = createPhash();
  const n = 60;
  const t = fp.createTable(n);
  for (let k = 0; k < n; k++) {
    fp.compute(k % 2 ? randomFrame(k) : scene(k), t, k);
  }
  for (let i = 0; i < n; i++) {
    assert.equal(fp.distance(t, i, t, i), 0);
    for (let j = 0; j < n; j++) {
      const d = fp.distance(t, i, t, j);
      assert.ok(d >= 0 && d <= 1, `d(${i}, ${j}) = ${d}`);
    }
  }
  // A flat frame has all coefficients 0: no bit above the median.
  assert.equal(hashOf(frame(() => 90)), 0n);
});

Deno.test("phash writes slot k only and distance reads slot k", () => {
  const fp = createPhash();
  assert.equal(fp.featureLength, 2);
  assert.equal(fp.coarse, true);
  const t = fp.createTable(4);
  assert.ok(t instanceof Uint32Array);
  const f = scene(9);
  fp.compute(f, t, 2);
  assert.deepEqual(Array.from(t.subarray(0, 4)), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(t.subarray(6)), [0, 0]);
  assert.equal(hashToBigInt(t, 2), hashOf(f));
  const single = fp.createTable(1);
  fp.compute(f, single, 0);
  assert.equal(fp.distance(t, 2, single, 0), 0);
  assert.equal(fp.distance(single, 0, t, 2), 0);
  assert.equal(fp.distance(t, 1, t, 2), 31 / 64);
});

Deno.test("phash rejects other formats and bad options", () => {
  const fp = createPhash();
  const t = fp.createTable(1);
  const small: Frame = {
    width: 8,
    height: 8,
    channels: 1,
    data: new Uint8Array(64),
  };
  assert.throws(() => fp.compute(small, t, 0), RangeError);
  assert.throws(
    () => createPhash({ includeDc: 1 as unknown as boolean }),
    RangeError,
  );
  assert.equal(phashDefaults.includeDc, false);
});

Deno.test("phash plugin definition creates a coarse 32×32 gray fingerprinter", () => {
  assert.equal(plugin.kind, "fingerprinter");
  assert.equal(plugin.name, "phash");
  const fp = plugin.create({ includeDc: true });
  assert.equal(fp.name, "phash");
  assert.deepEqual(fp.input, { width: 32, height: 32, channels: 1 });
});
