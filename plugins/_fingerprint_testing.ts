/**
 * Test support for the plugins: a seeded PRNG and frame builders for every
 * plugin test, and the fingerprinter contract (private: the leading
 * underscore keeps it out of the plugin table and the public API).
 *
 * Every fingerprinter promises the same things to the pipeline: identical
 * frames are at distance 0, distances stay in [0, 1], a slightly noisy copy
 * is much nearer than another picture, `compute` writes only its own slot of
 * a packed table, and the plugin definition builds what it says. The tests
 * of each plugin check those promises through the helpers here, so a change
 * to the contract is made once; what is specific to a plugin (hand-derived
 * bit patterns, reference formulas, its own thresholds) stays in its test.
 *
 * Everything random is seeded, so a failing case is the same on every run.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Frame, FrameFormat } from "../core/frame.ts";
import { hashToBigInt } from "../core/hamming.ts";
import type {
  FeatureArray,
  Fingerprinter,
  PluginDefinition,
} from "../core/types.ts";

/**
 * Seeded PRNG (mulberry32): uniform numbers in [0, 1).
 *
 * Tests and benches rely on the exact sequence (their thresholds were tuned
 * on these frames, and bench runs are repeatable by seed), so the algorithm
 * must not change.
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Rounds and clamps to a byte. Typed-array stores would wrap out-of-range
 * values (256 → 0) and truncate fractions, so builders clamp explicitly.
 */
export function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** A gray frame whose pixel (x, y) is `f(x, y)`, rounded and clamped. */
export function grayFrame(
  width: number,
  height: number,
  f: (x: number, y: number) => number,
): Frame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = clampByte(f(x, y));
  }
  return { width, height, channels: 1, data };
}

/** An RGB frame whose pixel (x, y) is `f(x, y)` = [r, g, b], rounded and clamped. */
export function rgbFrame(
  width: number,
  height: number,
  f: (x: number, y: number) => readonly number[],
): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = f(x, y);
      for (let k = 0; k < 3; k++) {
        data[(y * width + x) * 3 + k] = clampByte(c[k]);
      }
    }
  }
  return { width, height, channels: 3, data };
}

/** A frame of `format` with every byte equal to `value` (flat, no texture). */
export function flatFrame(format: FrameFormat, value: number): Frame {
  const { width, height, channels } = format;
  const data = new Uint8Array(width * height * channels).fill(value);
  return { width, height, channels, data };
}

/**
 * A frame of `format` with independent uniform bytes: the worst case for a
 * fingerprint (no structure), and cheap to make by the hundred.
 */
export function randomFrame(format: FrameFormat, seed: number): Frame {
  const { width, height, channels } = format;
  const r = rng(seed);
  const data = new Uint8Array(width * height * channels);
  for (let k = 0; k < data.length; k++) data[k] = Math.floor(r() * 256);
  return { width, height, channels, data };
}

/**
 * A smooth random picture, like a real frame after ffmpeg's downscale
 * (uniform noise would make "noisy copy vs. another picture" meaningless).
 *
 * Gray: four Gaussian bumps of ±100 levels on mid-gray, radius 1–4 px at an
 * 8-px frame. RGB: five soft blobs of random colour blended over a random
 * base colour, radius 4–14 px at a 32-px frame. Radii scale with the frame's
 * smaller side, so the 8-px and 32-px frames the tests use are exactly the
 * pictures their thresholds were tuned on.
 */
export function scene(format: FrameFormat, seed: number): Frame {
  const { width, height } = format;
  const r = rng(seed);
  if (format.channels === 1) {
    const unit = Math.min(width, height) / 8;
    const bumps = Array.from(
      { length: 4 },
      () => [r() * width, r() * height, (r() * 3 + 1) * unit, r() * 200 - 100],
    );
    return grayFrame(width, height, (x, y) => {
      let v = 128;
      for (const [bx, by, rad, amp] of bumps) {
        v += amp * Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / (rad * rad));
      }
      return v;
    });
  }
  const unit = Math.min(width, height) / 32;
  const base = [r() * 255, r() * 255, r() * 255];
  const blobs = Array.from({ length: 5 }, () => ({
    x: r() * width,
    y: r() * height,
    radius: (4 + r() * 10) * unit,
    colour: [r() * 255, r() * 255, r() * 255],
  }));
  return rgbFrame(width, height, (x, y) => {
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

/** The same frame with every byte mapped through `f(value, index)`, clamped. */
export function mapFrame(
  frame: Frame,
  f: (v: number, k: number) => number,
): Frame {
  return { ...frame, data: frame.data.map((v, k) => clampByte(f(v, k))) };
}

/**
 * `frame` plus uniform integer noise in ±`amplitude` on every byte (what a
 * re-encode does to a frame), seeded so the copy is the same on every run.
 */
export function noisy(frame: Frame, amplitude: number, seed: number): Frame {
  const r = rng(seed);
  return mapFrame(frame, (v) => v + Math.round((r() * 2 - 1) * amplitude));
}

/** The feature of one frame, in a table of its own (slot 0). */
export function featuresOf(fp: Fingerprinter, frame: Frame): FeatureArray {
  const t = fp.createTable(1);
  fp.compute(frame, t, 0);
  return t;
}

/** The 64-bit hash of one frame, for the hash fingerprinters' bit-pattern tests. */
export function hash64(fp: Fingerprinter, frame: Frame): bigint {
  return hashToBigInt(featuresOf(fp, frame), 0);
}

/**
 * Asserts the distance contract over `count` frames `makeFrame(k)` packed in
 * one table: every frame is at exactly 0 from itself, and every pair's
 * distance is finite and in [0, 1] (the aligner's costs assume both).
 *
 * `eachPair` adds a fingerprinter's own per-pair check (quantisation,
 * symmetry, a reference formula). Returns the table for checks on the
 * features themselves.
 */
export function assertDistanceContract(
  fp: Fingerprinter,
  makeFrame: (k: number) => Frame,
  count: number,
  eachPair?: (d: number, i: number, j: number, table: FeatureArray) => void,
): FeatureArray {
  const t = fp.createTable(count);
  for (let k = 0; k < count; k++) fp.compute(makeFrame(k), t, k);
  for (let i = 0; i < count; i++) {
    assert.equal(fp.distance(t, i, t, i), 0, `d(${i}, ${i})`);
    for (let j = 0; j < count; j++) {
      const d = fp.distance(t, i, t, j);
      assert.ok(
        Number.isFinite(d) && d >= 0 && d <= 1,
        `d(${i}, ${j}) = ${d}`,
      );
      eachPair?.(d, i, j, t);
    }
  }
  return t;
}

/** Bounds on mean distances for {@link assertNoisyCloser}; each is optional. */
export interface NoisyCloserOptions {
  /** How many scenes (k = 0 .. count − 1). */
  count: number;
  /**
   * The unrelated frame for scene k. Without it, every pair of distinct
   * scenes counts as unrelated.
   */
  unrelated?: (k: number) => Frame;
  /** The mean noisy-copy distance must be below this. */
  nearBelow?: number;
  /** The mean unrelated distance must be above this. */
  farAbove?: number;
  /** The mean unrelated distance must exceed this many mean noisy distances. */
  farOverNear?: number;
}

/** Distances measured by {@link assertNoisyCloser}. */
export interface NoisyCloserStats {
  /** Distance from scene k to its noisy copy, per k. */
  near: number[];
  /** Distance of each unrelated pair. */
  far: number[];
  /** Mean of `near`. */
  meanNear: number;
  /** Mean of `far`. */
  meanFar: number;
}

/**
 * Asserts that a fingerprint tolerates small noise but tells pictures apart:
 * scene k (`makeScene(k)`) against its noisy copy (`makeNoisy(scene, k)`)
 * must on average be much nearer than against an unrelated frame. Asserts
 * the bounds given; returns every distance so a test can bound worst cases
 * or medians too.
 */
export function assertNoisyCloser(
  fp: Fingerprinter,
  makeScene: (k: number) => Frame,
  makeNoisy: (frame: Frame, k: number) => Frame,
  options: NoisyCloserOptions,
): NoisyCloserStats {
  const { count, unrelated } = options;
  const scenes = fp.createTable(count), copies = fp.createTable(count);
  const others = unrelated ? fp.createTable(count) : undefined;
  for (let k = 0; k < count; k++) {
    const f = makeScene(k);
    fp.compute(f, scenes, k);
    fp.compute(makeNoisy(f, k), copies, k);
    if (others && unrelated) fp.compute(unrelated(k), others, k);
  }
  const near: number[] = [], far: number[] = [];
  for (let i = 0; i < count; i++) {
    near.push(fp.distance(scenes, i, copies, i));
    if (others) far.push(fp.distance(scenes, i, others, i));
    else {
      for (let j = i + 1; j < count; j++) {
        far.push(fp.distance(scenes, i, scenes, j));
      }
    }
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const meanNear = mean(near), meanFar = mean(far);
  if (options.nearBelow !== undefined) {
    assert.ok(meanNear < options.nearBelow, `noisy copies: ${meanNear}`);
  }
  if (options.farAbove !== undefined) {
    assert.ok(meanFar > options.farAbove, `unrelated: ${meanFar}`);
  }
  if (options.farOverNear !== undefined) {
    assert.ok(
      meanFar > options.farOverNear * meanNear,
      `near ${meanNear} vs far ${meanFar}`,
    );
  }
  return { near, far, meanNear, meanFar };
}

/** Where {@link assertSlotLayout} writes. */
export interface SlotLayoutOptions {
  /** Table size in features. */
  slots?: number;
  /** The slot written. */
  slot?: number;
}

/**
 * Asserts the packed-table layout the pipeline and workers rely on: a new
 * table is zeroed and `featureLength` elements per slot; computing `frame`
 * into slot k writes only slot k, exactly the feature a one-slot table gets
 * (and not all zeros); distance reads slot k on either side. Returns the
 * table for checks of the feature's values.
 */
export function assertSlotLayout(
  fp: Fingerprinter,
  frame: Frame,
  options: SlotLayoutOptions = {},
): FeatureArray {
  const { slots = 3, slot = 1 } = options;
  const length = fp.featureLength;
  const t = fp.createTable(slots);
  assert.equal(t.length, slots * length);
  assert.ok(t.every((v) => v === 0), "a new table is zeroed");
  fp.compute(frame, t, slot);
  assert.ok(
    t.subarray(0, slot * length).every((v) => v === 0),
    `slots before ${slot} untouched`,
  );
  assert.ok(
    t.subarray((slot + 1) * length).every((v) => v === 0),
    `slots after ${slot} untouched`,
  );
  const single = featuresOf(fp, frame);
  assert.ok(single.some((v) => v !== 0), "the feature is not all zeros");
  assert.deepEqual(
    Array.from(t.subarray(slot * length, (slot + 1) * length)),
    Array.from(single),
  );
  assert.equal(fp.distance(t, slot, t, slot), 0);
  assert.equal(fp.distance(t, slot, single, 0), 0);
  assert.equal(fp.distance(single, 0, t, slot), 0);
  return t;
}

/** Asserts that `compute` refuses a frame of `format` (not the fingerprinter's input). */
export function assertRejectsFormat(
  fp: Fingerprinter,
  format: FrameFormat,
): void {
  const t = fp.createTable(1);
  assert.throws(() => fp.compute(flatFrame(format, 0), t, 0), RangeError);
}

/** What a fingerprinter plugin's `create` must build. */
export interface ExpectedFingerprinter {
  /** Registry name (also the plugin's). */
  name: string;
  /** The frame format it asks for. */
  input: FrameFormat;
  /** Whether it is a cheap coarse (hash) fingerprint. */
  coarse: boolean;
}

/**
 * Asserts a fingerprinter plugin definition: kind, name, a description for
 * `--help`, and that `create(options)` (unknown keys included, which must be
 * ignored) builds the expected fingerprinter. Returns that fingerprinter.
 */
export function assertFingerprinterPlugin(
  plugin: PluginDefinition<"fingerprinter">,
  options: Record<string, unknown>,
  expected: ExpectedFingerprinter,
): Fingerprinter {
  assert.equal(plugin.kind, "fingerprinter");
  assert.equal(plugin.name, expected.name);
  assert.ok(plugin.description.length > 0, "has a description");
  const fp = plugin.create(options);
  assert.equal(fp.name, expected.name);
  assert.deepEqual(fp.input, expected.input);
  assert.equal(fp.coarse, expected.coarse);
  return fp;
}
