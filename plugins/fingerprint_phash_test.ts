import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import { hamming64, hashToBigInt } from "../core/hamming.ts";
import { createPhash, phashDefaults, plugin } from "./fingerprint_phash.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  flatFrame,
  grayFrame,
  hash64,
  mapFrame,
  noisy,
  randomFrame,
  rng,
} from "./_fingerprint_testing.ts";

const INPUT = { width: 32, height: 32, channels: 1 } as const;

const hashOf = (f: Frame, fp = createPhash()) => hash64(fp, f);

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
  return grayFrame(32, 32, (x, y) => {
    let v = 128;
    for (const [kx, ky, phase, amp] of waves) {
      v += amp * Math.sin(2 * Math.PI * (kx * x + ky * y) + phase);
    }
    return v;
  });
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
    const f = k % 2 ? randomFrame(INPUT, k) : scene(k);
    assert.equal(hashOf(f), referenceHash(f, false), `frame ${k}`);
    assert.equal(hashOf(f, withDc), referenceHash(f, true), `frame ${k} (DC)`);
  }
});

Deno.test("phash leaves the DC bit clear and sets exactly 31 of the 63 AC bits", () => {
  for (let k = 0; k < 20; k++) {
    const h = hashOf(randomFrame(INPUT, k + 1));
    assert.equal(h & 1n, 0n);
    assert.equal(bits(h), 31);
  }
  // With the DC: the mean of the two middle values splits 64 into 32 + 32.
  assert.equal(
    bits(hashOf(randomFrame(INPUT, 3), createPhash({ includeDc: true }))),
    32,
  );
});

Deno.test("phash is unchanged by a brightness offset", () => {
  for (let k = 0; k < 10; k++) {
    const squeezed = mapFrame(scene(k + 1), (v) => v >> 1);
    const brighter = mapFrame(squeezed, (v) => v + 60);
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
    fp.compute(mapFrame(f, (v) => 255 - v), t, 1);
    assert.equal(hamming64(t, 0, t, 1), 62);
    assert.equal(fp.distance(t, 0, t, 1), 62 / 64);
  }
});

Deno.test("phash is stable under small noise and changes a lot for another image", () => {
  // Bounds in bits: distances are Hamming counts / 64, exact in binary.
  const { near, far, meanFar } = assertNoisyCloser(
    createPhash(),
    (k) => scene(k + 1),
    (f, k) => noisy(f, 3, 100 + k),
    { count: 100, unrelated: (k) => scene(k + 500) },
  );
  const worstNear = Math.max(...near) * 64, bestFar = Math.min(...far) * 64;
  assert.ok(worstNear <= 4, `noisy copies differ by up to ${worstNear} bits`);
  assert.ok(
    bestFar >= 16,
    `unrelated frames differ by as few as ${bestFar} bits`,
  );
  assert.ok(
    meanFar * 64 >= 24,
    `unrelated frames differ by ${meanFar * 64} bits on average`,
  );
});

Deno.test("phash gives 0 for identical frames and keeps distances in [0, 1]", () => {
  assertDistanceContract(
    createPhash(),
    (k) => (k % 2 ? randomFrame(INPUT, k) : scene(k)),
    60,
  );
  // A flat frame has all coefficients 0: no bit above the median.
  assert.equal(hashOf(flatFrame(INPUT, 90)), 0n);
});

Deno.test("phash writes slot k only and distance reads slot k", () => {
  const fp = createPhash();
  assert.equal(fp.featureLength, 2);
  assert.equal(fp.coarse, true);
  const f = scene(9);
  const t = assertSlotLayout(fp, f, { slots: 4, slot: 2 });
  assert.ok(t instanceof Uint32Array);
  assert.equal(hashToBigInt(t, 2), hashOf(f));
  assert.equal(fp.distance(t, 1, t, 2), 31 / 64);
});

Deno.test("phash rejects other formats and bad options", () => {
  assertRejectsFormat(createPhash(), { width: 8, height: 8, channels: 1 });
  assert.throws(
    () => createPhash({ includeDc: 1 as unknown as boolean }),
    RangeError,
  );
  assert.equal(phashDefaults.includeDc, false);
});

Deno.test("phash plugin definition creates a coarse 32×32 gray fingerprinter", () => {
  assertFingerprinterPlugin(plugin, { includeDc: true }, {
    name: "phash",
    input: INPUT,
    coarse: true,
  });
});
