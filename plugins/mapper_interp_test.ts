import assert from "node:assert/strict";
import type { Alignment, Timeline } from "../core/types.ts";
import { createInterp, findAnchors, plugin } from "./mapper_interp.ts";

function timeline(count: number, fps: number): Timeline {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = i / fps;
  return { count, fps, times };
}

/** Nearest frame index to time t (test-side reference, linear scan). */
function nearest(t: Timeline, time: number): number {
  let best = 0;
  for (let j = 1; j < t.count; j++) {
    if (Math.abs(t.times[j] - time) < Math.abs(t.times[best] - time)) best = j;
  }
  return best;
}

/** An alignment whose frames in `ambiguous` have zero margin. */
function alignment(
  bg: number[],
  ambiguous: (i: number) => boolean,
  cost = (_i: number) => 0.05,
): Alignment {
  const n = bg.length;
  const margin = new Float32Array(n);
  const c = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    margin[i] = ambiguous(i) ? 0 : 0.3;
    c[i] = cost(i);
  }
  return { bg: Int32Array.from(bg), cost: c, margin, offsetSeconds: 0 };
}

function assertMap(out: Int32Array, n: number, m: number) {
  assert.equal(out.length, n);
  for (let i = 0; i < n; i++) {
    assert.ok(out[i] >= 0 && out[i] < m, `out[${i}] = ${out[i]}`);
    if (i > 0) assert.ok(out[i] >= out[i - 1], `decreases at ${i}`);
  }
}

Deno.test("plugin definition", () => {
  assert.equal(plugin.kind, "mapper");
  assert.equal(plugin.name, "interp");
  assert.equal(plugin.create({}).name, "interp");
});

Deno.test("a lone anchor off its neighbours' common offset is noise and follows the line", () => {
  const n = 200, m = 300;
  const fg = timeline(n, 25), bg = timeline(m, 30);
  const truth = (i: number) => Math.round(1.2 * i + 10);
  // Confident path with a one-frame slip every 7th frame (a near-tie won by
  // compression noise): the common offset of the rest corrects it.
  const path = Array.from(
    { length: n },
    (_, i) => truth(i) + (i % 7 === 3 ? 1 : 0),
  );
  for (let i = 1; i < n; i++) path[i] = Math.max(path[i], path[i - 1]);
  const al = alignment(path, () => false);
  const out = createInterp().map({ alignment: al, fg, bg });
  assertMap(out, n, m);
  assert.deepEqual([...out], Array.from({ length: n }, (_, i) => truth(i)));
});

Deno.test("a lasting offset change (a drop) starts a new segment", () => {
  const n = 200, m = 320;
  const fg = timeline(n, 25), bg = timeline(m, 30);
  // From fg 100 on, the bg content is 3 frames further ahead.
  const truth = (i: number) => Math.round(1.2 * i + 10) + (i >= 100 ? 3 : 0);
  const path = Array.from({ length: n }, (_, i) => truth(i));
  const al = alignment(path, () => false);
  const out = createInterp().map({ alignment: al, fg, bg });
  assertMap(out, n, m);
  assert.deepEqual([...out], path);
});

Deno.test("linear interpolation in time across a gap (25 → 30 fps)", () => {
  const n = 120, m = 200;
  const fg = timeline(n, 25), bg = timeline(m, 30);
  const truth = (i: number) => Math.round(1.2 * i + 10);
  // Frames 40..69 are ambiguous and the aligner's path there is junk (stuck).
  const path = Array.from(
    { length: n },
    (_, i) => (i >= 40 && i < 70 ? truth(40) : truth(i)),
  );
  path[69] = truth(69);
  const al = alignment(path, (i) => i >= 40 && i < 70);
  const out = createInterp().map({ alignment: al, fg, bg });
  assertMap(out, n, m);
  const a = 39, b = 70;
  // The anchors on both sides pin the sub-frame offset, so every frame in
  // the gap lands exactly on the true line (not on a line through rounded
  // anchor indices, which would misplace frames between two bg frames).
  for (let i = a + 1; i < b; i++) assert.equal(out[i], truth(i), `frame ${i}`);
  for (let i = 0; i <= a; i++) assert.equal(out[i], truth(i));
  for (let i = b; i < n; i++) assert.equal(out[i], truth(i));
});

Deno.test("extrapolation at the ends runs at the fps ratio, clamped", () => {
  const n = 300, m = 330;
  const fg = timeline(n, 25), bg = timeline(m, 30);
  // Only fg 100..199 are confident; the path elsewhere is junk (held).
  const path = Array.from(
    { length: n },
    (_, i) =>
      Math.min(
        m - 1,
        Math.max(0, Math.round(1.2 * (Math.min(Math.max(i, 100), 199)) - 30)),
      ),
  );
  const al = alignment(path, (i) => i < 100 || i > 199);
  const out = createInterp().map({ alignment: al, fg, bg });
  assertMap(out, n, m);
  // The true line is bg = 1.2·i − 30 (clamped); the anchors' common
  // interval pins its phase, and real time (the fps ratio) extends it.
  const line = (i: number) =>
    Math.min(m - 1, Math.max(0, Math.round(1.2 * i - 30)));
  for (let i = 0; i < 100; i++) assert.equal(out[i], line(i), `head ${i}`);
  // 1.2·i − 30 < 0 for i < 25: clamped to 0.
  for (let i = 0; i < 25; i++) assert.equal(out[i], 0);
  assert.equal(out[50], 30);
  for (let i = 200; i < n; i++) assert.equal(out[i], line(i), `tail ${i}`);
  assert.equal(out[n - 1], m - 1); // 1.2·299 − 30 = 328.8 → 329 = m − 1
  assert.equal(out[250], 270);
});

Deno.test("output is non-decreasing even if the input path jitters", () => {
  const n = 400, m = 500;
  const fg = timeline(n, 25), bg = timeline(m, 30);
  let seed = 7;
  const rnd =
    () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const path = Array.from(
    { length: n },
    (_, i) => Math.round(1.2 * i + 20 + (rnd() - 0.5) * 8),
  );
  path[150] = 480; // one wild, confident outlier
  const al = alignment(path, (i) => i % 3 === 0);
  const out = createInterp().map({ alignment: al, fg, bg });
  assertMap(out, n, m);
  // The outlier does not drag everything after it up to 480.
  assert.ok(out[200] < 300);
  const anchors = findAnchors({ alignment: al, fg, bg });
  assert.ok(!anchors.includes(150));
});

Deno.test("variable frame rate: interpolation is by time, not index", () => {
  const n = 100, m = 200;
  // fg timestamps irregular (VFR), bg 30 fps.
  const fgTimes = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    fgTimes[i] = t;
    t += (i % 4 === 0 ? 3 : 1) / 30; // bursts of long and short frames
  }
  const fg: Timeline = { count: n, fps: 30, times: fgTimes };
  const bg = timeline(m, 30);
  const off = 0.5;
  const truth = (i: number) => nearest(bg, fgTimes[i] + off);
  const path = Array.from(
    { length: n },
    (_, i) => (i > 10 && i < 90 ? truth(10) : truth(i)),
  );
  const al = alignment(path, (i) => i > 10 && i < 90);
  const out = createInterp().map({ alignment: al, fg, bg });
  assertMap(out, n, m);
  // Frame times sit on the bg grid, so interpolating by time is exact; by
  // index the gap would be a straight line in i and miss the bursts.
  for (let i = 0; i < n; i++) assert.equal(out[i], truth(i), `frame ${i}`);
  let linearByIndex = 0;
  for (let i = 11; i < 90; i++) {
    const guess = Math.round(
      truth(10) + ((truth(90) - truth(10)) * (i - 10)) / 80,
    );
    if (guess !== truth(i)) linearByIndex++;
  }
  assert.ok(linearByIndex > 20);
});

Deno.test("no anchors: falls back to the aligner's path", () => {
  const n = 50, m = 60;
  const fg = timeline(n, 25), bg = timeline(m, 25);
  const path = Array.from(
    { length: n },
    (_, i) => Math.min(m - 1, 3 + Math.floor(i / 2)),
  );
  const al = alignment(path, () => true);
  const out = createInterp().map({ alignment: al, fg, bg });
  assert.deepEqual([...out], path);
});

Deno.test("poorly matching frames are not anchors even with a margin", () => {
  const n = 100, m = 150;
  const fg = timeline(n, 25), bg = timeline(m, 25);
  const path = Array.from({ length: n }, (_, i) => i + 20);
  // Frames 30..49: clear margin but cost far above the rest.
  const al = alignment(
    path,
    () => false,
    (i) => (i >= 30 && i < 50 ? 0.6 : 0.05),
  );
  const anchors = findAnchors({ alignment: al, fg, bg });
  assert.equal(anchors.length, 80);
  assert.ok(![...anchors].some((i) => i >= 30 && i < 50));
});
