/**
 * The validation stage on the standard pairs with known truth: right pairs
 * score high; the same fg frames over bg frames a few frames off (where the
 * scene moves) or over a placement a few pixels off score lower, on every
 * pair. Plus the sampling, the summary and the in-thread path.
 */

import assert from "node:assert/strict";
import { probe } from "./probe.ts";
import type { Placement } from "./types.ts";
import {
  cheapRuns,
  checkFilters,
  checkPlan,
  summarise,
  validateVideo,
  type ValidationResult,
} from "./validate_video.ts";
import { createMsssim } from "../plugins/validator_msssim.ts";
import {
  buildTimeline,
  fixtureDir,
  makePair,
  type Pair,
  standardPairs,
} from "../tests/fixtures.ts";

const dir = await fixtureDir();
const validator = createMsssim();

/** Frame shift and pixel shift of the wrong pairs. */
const FRAMES_OFF = 3;
const PIXELS_OFF = 3;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function inputs(name: string) {
  const pair = await makePair(standardPairs.find((s) => s.name === name)!, dir);
  const [fg, bg] = await Promise.all([probe(pair.fg), probe(pair.bg)]);
  const placement: Placement = {
    x: pair.truth.x,
    y: pair.truth.y,
    scale: 1,
    confidence: 1,
  };
  return { pair, fg, bg, placement };
}

/**
 * fg frames whose truth pair shows the same moment (not an fg frame beyond
 * the bg) and whose bg frame FRAMES_OFF later shows another moment (not a
 * freeze): only there is the shifted pair really wrong.
 */
function movingFrames(pair: Pair): number[] {
  const tl = buildTimeline(pair.spec);
  const halfBgFrame = tl.rate / pair.spec.bgFps / 2;
  const out: number[] = [];
  for (let i = 0; i < pair.truth.fgFrames; i++) {
    const j = pair.truth.expected[i];
    const k = j + FRAMES_OFF;
    if (k >= tl.bg.length) continue;
    if (Math.abs(tl.bg[j] - tl.fg[i]) > halfBgFrame) continue;
    if (tl.bg[k] === tl.bg[j]) continue;
    out.push(i);
  }
  return out;
}

for (const spec of standardPairs) {
  Deno.test(`validation separates right pairs from shifted ones: ${spec.name}`, async () => {
    const { pair, fg, bg, placement } = await inputs(spec.name);
    const map = pair.truth.expected;
    const run = (frameMap: Int32Array, at: Placement) =>
      validateVideo({
        fg,
        bg,
        placement: at,
        frameMap,
        mode: "all",
        validator,
      });
    const lateMap = map.map((j) => Math.min(bg.frames - 1, j + FRAMES_OFF));
    const x = placement.x + PIXELS_OFF <= bg.width - fg.width
      ? placement.x + PIXELS_OFF
      : placement.x - PIXELS_OFF;
    const [right, late, moved] = await Promise.all([
      run(map, placement),
      run(lateMap, placement),
      run(map, { ...placement, x }),
    ]);
    assert.equal(right.validated, map.length);
    const moving = movingFrames(pair);
    assert.ok(
      moving.length >= map.length / 2,
      `${moving.length} moving frames`,
    );
    const at = (r: ValidationResult) => moving.map((i) => r.confidence[i]);
    const [ok, frameOff, pixelOff] = [at(right), at(late), at(moved)];
    const above = (a: number[], b: number[]) =>
      a.filter((v, k) => v > b[k]).length / a.length;
    const msg = `right ${median(ok).toFixed(3)} (min ${
      Math.min(...ok).toFixed(3)
    }), ${FRAMES_OFF} frames off ${median(frameOff).toFixed(3)} (max ${
      Math.max(...frameOff).toFixed(3)
    }), ${PIXELS_OFF} px off ${median(pixelOff).toFixed(3)} (max ${
      Math.max(...pixelOff).toFixed(3)
    })`;
    assert.ok(median(ok) >= 0.95, msg);
    // The same fg frame scores higher over its right bg frame than over
    // the wrong one, frame by frame, with a margin in the medians.
    assert.ok(above(ok, frameOff) >= 0.95, msg);
    assert.ok(median(ok) - median(frameOff) >= 0.005, msg);
    assert.equal(above(ok, pixelOff), 1, msg);
    assert.ok(median(ok) - median(pixelOff) >= 0.05, msg);
  });
}

Deno.test("validation's worst stretch finds where the map holds a moving scene still", async () => {
  const { pair, fg, bg, placement } = await inputs("offset_crop");
  const map = pair.truth.expected.slice();
  // fg frames 40..60 all get bg frame map[40]: wrong from 41 on.
  for (let i = 41; i <= 60; i++) map[i] = map[40];
  const r = await validateVideo({
    fg,
    bg,
    placement,
    frameMap: map,
    mode: "all",
    validator,
  });
  assert.ok(r.worst, "a worst stretch");
  // A one-second window (30 frames) holding all 20 wrong frames.
  assert.ok(
    r.worst.start >= 31 && r.worst.start <= 41 && r.worst.end >= 60 &&
      r.worst.end <= 70,
    `worst ${JSON.stringify(r.worst)}`,
  );
  assert.equal(r.worst.end - r.worst.start + 1, 30, "one second at 30 fps");
  // testsrc2 is mostly still (bars, frame); the held stretch stands out
  // against every right frame all the same.
  let rightMin = Infinity;
  for (let i = 0; i < map.length; i++) {
    if (i < 31 || i > 70) rightMin = Math.min(rightMin, r.confidence[i]);
  }
  assert.ok(
    r.worst.mean < rightMin - 0.03,
    `worst ${r.worst.mean} vs right frames ≥ ${rightMin}`,
  );
});

Deno.test("sample mode checks runs of frames only, the same in workers and in this thread", async () => {
  const { pair, fg, bg, placement } = await inputs("fps_25_30");
  const common = {
    fg,
    bg,
    placement,
    frameMap: pair.truth.expected,
    mode: "sample" as const,
    validator,
    runs: 4,
    runLength: 6,
  };
  const [pooled, local] = await Promise.all([
    validateVideo({ ...common, workers: 2 }),
    validateVideo({ ...common, workers: 0 }),
  ]);
  // The checked frames form runs of 6 (cheap to seek to, see cheapRuns).
  const runs: { start: number; end: number }[] = [];
  for (let i = 0; i < pair.truth.fgFrames; i++) {
    if (Number.isNaN(pooled.confidence[i])) continue;
    const last = runs[runs.length - 1];
    if (last && last.end === i - 1) last.end = i;
    else runs.push({ start: i, end: i });
  }
  assert.ok(runs.length >= 2 && runs.length <= 4, JSON.stringify(runs));
  assert.ok(runs.every((r) => (r.end - r.start + 1) % 6 === 0));
  assert.equal(pooled.validated, 6 * runs.length);
  for (let i = 0; i < pair.truth.fgFrames; i++) {
    const inRun = runs.some((r) => i >= r.start && i <= r.end);
    assert.equal(Number.isNaN(pooled.confidence[i]), !inRun, `frame ${i}`);
    if (inRun) assert.ok(pooled.confidence[i] > 0.9);
  }
  assert.deepEqual(Array.from(local.confidence), Array.from(pooled.confidence));
  assert.ok(pooled.worst);
  const worstRun = runs.find((r) => r.start === pooled.worst!.start);
  assert.equal(worstRun?.end, pooled.worst.end, "the worst stretch is a run");
});

/** Every frame of a video through one filter chain, as one batch. */
async function filtered(path: string, filter: string, size: number) {
  const out = await new Deno.Command("ffmpeg", {
    args: [
      ...["-v", "error", "-nostdin", "-an", "-i", path, "-vf", filter],
      ...["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray"],
      "pipe:1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return { start: 0, count: out.stdout.length / size, data: out.stdout };
}

async function* once<T>(value: T) {
  yield await Promise.resolve(value);
}

Deno.test("check frames another decode shapes with checkFilters score exactly as the check's own seeks", async () => {
  // A 25 fps fg over 30 fps at an odd crop offset: bg frames repeat and
  // skip, and the crop does not fall on the coarse grid.
  const { pair, fg, bg, placement } = await inputs("fps_25_30");
  for (const mode of ["sample", "all"] as const) {
    const common = {
      fg,
      bg,
      placement,
      frameMap: pair.truth.expected,
      mode,
      validator,
      runs: 4,
      runLength: 6,
    };
    const plan = checkPlan(common);
    const filters = checkFilters(plan);
    const size = plan.width * plan.height;
    const [fgBatch, bgBatch] = await Promise.all([
      filtered(fg.path, filters.fg, size),
      filtered(bg.path, filters.bg, size),
    ]);
    assert.equal(fgBatch.count, plan.fgIndices.length);
    assert.equal(bgBatch.count, plan.bgIndices.length);
    const [seeking, given] = await Promise.all([
      validateVideo(common),
      validateVideo({
        ...common,
        frames: { fg: once(fgBatch), bg: once(bgBatch) },
      }),
    ]);
    assert.ok(given.validated >= 12, `${mode}: ${given.validated}`);
    assert.equal(given.validated, seeking.validated, mode);
    assert.deepEqual(
      Array.from(given.confidence),
      Array.from(seeking.confidence),
      mode,
    );
    assert.ok(given.mean > 0.9, `${mode}: ${given.mean}`);
  }
});

Deno.test("mode none checks nothing, and a map that steps back is refused", async () => {
  const { pair, fg, bg, placement } = await inputs("offset_crop");
  const none = await validateVideo({
    fg,
    bg,
    placement,
    frameMap: pair.truth.expected,
    mode: "none",
    validator,
  });
  assert.equal(none.validated, 0);
  assert.ok(Number.isNaN(none.mean));
  assert.equal(none.worst, undefined);
  assert.ok(none.confidence.every((v) => Number.isNaN(v)));
  assert.equal(none.width, 320);
  const back = pair.truth.expected.slice();
  back[10] = back[9] - 1;
  await assert.rejects(
    () =>
      validateVideo({
        fg,
        bg,
        placement,
        frameMap: back,
        mode: "all",
        validator,
      }),
    RangeError,
  );
});

Deno.test("cheapRuns: spread runs of cheap starts, short videos whole", () => {
  assert.deepEqual(cheapRuns(40, 12, 8, () => 0), [{ start: 0, end: 39 }]);
  assert.deepEqual(cheapRuns(0, 12, 8, () => 0), []);
  // Equal prices: runs at least count/(2·runs) apart, never overlapping.
  const flat = cheapRuns(1000, 4, 10, () => 20);
  assert.equal(flat.length, 4);
  for (let k = 1; k < flat.length; k++) {
    assert.ok(flat[k].start - flat[k - 1].start >= 125);
  }
  // Keyframes every 100 frames: seeking costs the frames since the last
  // one, so the runs start on keyframes; runs far from every keyframe cost
  // more than 4× their length and are left out once two are taken.
  const keyed = cheapRuns(1000, 12, 8, (s) => (s % 100) + 16);
  assert.ok(keyed.length >= 2);
  for (const r of keyed) assert.equal(r.start % 100 <= 48, true, `${r.start}`);
  for (let k = 1; k < keyed.length; k++) {
    assert.ok(keyed[k].start > keyed[k - 1].end, "no overlaps");
  }
});

Deno.test("summarise: mean of checked frames, worst window inside a run", () => {
  const confidence = Float32Array.from([
    0.9,
    0.9,
    0.2,
    0.3,
    0.9,
    NaN,
    NaN,
    0.8,
    0.8,
    0.8,
  ]);
  const base: ValidationResult = {
    mode: "sample",
    validator: "msssim",
    confidence,
    validated: 0,
    mean: NaN,
    width: 1,
    height: 1,
  };
  const r = summarise(base, [{ start: 0, end: 4 }, { start: 7, end: 9 }], 2);
  assert.equal(r.validated, 8);
  assert.ok(Math.abs(r.mean - 5.6 / 8) < 1e-6);
  assert.deepEqual(
    { start: r.worst!.start, end: r.worst!.end },
    { start: 2, end: 3 },
  );
  assert.ok(Math.abs(r.worst!.mean - 0.25) < 1e-6);
});
