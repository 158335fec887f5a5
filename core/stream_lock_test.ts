import assert from "node:assert/strict";
import { crop, texture } from "../bench/_texture.ts";
import type { GrayImage } from "./frame.ts";
import {
  agreeingPairs,
  lockLevel,
  lockSampleIndices,
  PlacementLock,
} from "./stream_lock.ts";

const BW = 240, BH = 136, FW = 160, FH = 90;

/** bg frame t of a static shot with moving objects (`salt` differs per frame). */
function staticShot(t: number): GrayImage {
  return texture(BW, BH, 11, t + 1);
}

/**
 * bg frame t of a pan: a window moving 3 px per frame over a wide texture,
 * with a subject the camera follows (a bright block drifting in frame
 * coordinates). Without the subject, a pure pan would make "a few pixels
 * over at another moment" exactly as good as the truth.
 */
const wide = texture(BW + 400, BH, 23);
function pan(t: number): GrayImage {
  const g = crop(wide, 3 * t, 0, BW, BH);
  const x0 = Math.round(100 + 50 * Math.sin(t / 7));
  const y0 = Math.round(50 + 25 * Math.cos(t / 5));
  for (let y = y0; y < y0 + 24; y++) {
    for (let x = x0; x < x0 + 30; x++) g.data[y * BW + x] = 250;
  }
  return g;
}

/** Feeds probes (every `every` bg frame) and samples, in the given order. */
async function run(
  bg: (t: number) => GrayImage,
  fg: (i: number) => GrayImage,
  options: {
    frames: number;
    every: number;
    samples: number[];
    first: "fg" | "bg";
  },
): Promise<{ lock: PlacementLock; frames: Map<number, GrayImage> }> {
  const lock = new PlacementLock({
    fg: { width: FW, height: FH },
    bg: { width: BW, height: BH },
  });
  const frames = new Map<number, GrayImage>();
  const addSamples = () => {
    for (const i of options.samples) lock.addSample(i, fg(i));
  };
  if (options.first === "fg") addSamples();
  for (let t = 0; t < options.frames; t += options.every) {
    const f = bg(t);
    frames.set(t, f);
    lock.addProbes([{ index: t, image: f }]);
  }
  if (options.first === "bg") addSamples();
  await lock.settled();
  return { lock, frames };
}

Deno.test("lock level: the finest within the budget, never below the short side's minimum", () => {
  const bg = { width: 480, height: 270 };
  // 1080p band: 120×54 in 120×67 at level 2 is 14 positions × 6480.
  assert.equal(lockLevel({ width: 480, height: 217 }, bg, 3e5, 8), 2);
  // 75% crop: 45×25 in 60×33 at level 3.
  assert.equal(lockLevel({ width: 360, height: 203 }, bg, 3e5, 8), 3);
  assert.equal(lockLevel({ width: 360, height: 203 }, bg, 1, 8), 4);
  assert.equal(lockLevel({ width: 20, height: 15 }, bg, 1, 8), 0);
});

Deno.test("lock finds the crop and the moment on a static shot with moving objects", async () => {
  const lead = 12;
  const { lock, frames } = await run(
    staticShot,
    (i) => crop(staticShot(i + lead), 37, 21, FW, FH),
    { frames: 60, every: 2, samples: [0, 6, 12, 18, 24], first: "fg" },
  );
  assert.ok(lock.confident());
  const pairs = lock.pairs((j) => frames.get(j));
  assert.ok(pairs.length >= 3, `${pairs.length} pairs`);
  for (const p of pairs) {
    assert.deepEqual([p.x, p.y], [37, 21]);
    assert.equal(p.bg - p.fg, lead, `sample ${p.fg} matched bg ${p.bg}`);
    assert.ok(p.score > 0.99);
  }
});

Deno.test("lock finds the crop along a pan, also when the samples come after the probes", async () => {
  const lead = 5;
  for (const first of ["fg", "bg"] as const) {
    const { lock, frames } = await run(
      pan,
      (i) => crop(pan(i + lead), 30, 20, FW, FH),
      { frames: 80, every: 1, samples: [3, 20, 41, 60], first },
    );
    assert.ok(lock.confident(), first);
    const pairs = lock.pairs((j) => frames.get(j));
    assert.ok(pairs.length >= 3);
    // The best pair is the truth; others may sit along the pan (3 px per
    // frame of moment), which is what the locator's vote and the exact
    // space-time search are for.
    assert.deepEqual(
      [pairs[0].x, pairs[0].y, pairs[0].bg - pairs[0].fg],
      [30, 20, lead],
      first,
    );
    for (const p of pairs) {
      assert.equal(p.y, 20);
      assert.equal(p.x - 30 + 3 * (p.bg - p.fg - lead), 0, first);
    }
  }
});

Deno.test("lock stays unsure of an fg that is not in the bg, and refuses blank samples", async () => {
  const other = texture(FW, FH, 99);
  const { lock } = await run(
    staticShot,
    (i) => texture(FW, FH, 500 + i),
    { frames: 40, every: 2, samples: [0, 5, 10, 15, 20], first: "fg" },
  );
  assert.equal(lock.confident(), false);
  assert.equal(lock.addSample(99, other), true);
  const blank = { width: FW, height: FH, data: new Uint8Array(FW * FH) };
  assert.equal(lock.addSample(100, blank), false);
});

Deno.test("lock skips pairs whose bg frame the caller no longer holds", async () => {
  const { lock } = await run(
    staticShot,
    (i) => crop(staticShot(i + 4), 10, 30, FW, FH),
    { frames: 40, every: 2, samples: [0, 8, 16, 24], first: "fg" },
  );
  assert.ok(lock.confident());
  assert.deepEqual(lock.pairs(() => undefined, { reach: 1 }), []);
});

Deno.test("lock samples: doubling times from 0.1 s, then spread over the fg", () => {
  // 20 s at 25 fps: 0.1, 0.2, …, 12.8 s and 4 spread frames.
  const idx = lockSampleIndices(500, 25, 4);
  assert.deepEqual(idx.slice(0, 8), [2, 5, 10, 20, 40, 62, 80, 160]);
  for (const i of [62, 187, 312, 437]) assert.ok(idx.includes(i), `${i}`);
  assert.ok(idx.every((i, k) => k === 0 || i > idx[k - 1]));
  assert.ok(idx.every((i) => i >= 0 && i < 500));
});

Deno.test("agreeing pairs: those with the best pair's position and moment, not the largest group", () => {
  const img = { width: 1, height: 1, data: new Uint8Array(1) };
  const pair = (fg: number, bg: number, x: number, score: number) => ({
    fg,
    bg,
    x,
    y: 5,
    score,
    fgImage: img,
    bgImage: img,
  });
  const times = Float64Array.from({ length: 100 }, (_, i) => i / 10);
  // Three pairs along a pan (another moment, 3 px over) outnumber the two
  // true ones but score lower.
  const picked = agreeingPairs(
    [
      pair(1, 20, 13, 0.988),
      pair(2, 21, 13, 0.987),
      pair(3, 22, 13, 0.987),
      pair(4, 10, 10, 0.998),
      pair(6, 12, 11, 0.997),
    ],
    times,
    times,
    0.15,
  );
  assert.deepEqual(picked.map((p) => p.fg), [4, 6]);
  assert.deepEqual(agreeingPairs([], times, times, 0.1), []);
});
