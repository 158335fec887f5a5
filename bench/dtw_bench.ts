/**
 * Throughput of the `dtw` aligner's banded DP (cells/s and transitions/s) on
 * a synthetic cheap cost model, n = 30,000 fg frames against m = 36,000 bg
 * frames (25 → 30 fps, bg 37 frames ahead).
 *
 * `deno bench bench/dtw_bench.ts`. The DP-only case runs on precomputed band
 * costs; the full case adds the offset search and the band fill through the
 * CostModel (cheap here, ~1 µs per call with real fingerprints).
 *
 * @module
 */

import type { CostModel, Timeline } from "../core/types.ts";
import { solveBand } from "../core/_dtw_band.ts";
import { createDtw } from "../plugins/aligner_dtw.ts";

const n = 30_000;
const m = 36_000;
const r = 1.2;

function timeline(count: number, fps: number): Timeline {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = i / fps;
  return { count, fps, times };
}

/** Cheap deterministic noise in [0, 1). */
function noise(i: number, j: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(j, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

const costs: CostModel = {
  cost: (i, j) =>
    Math.min(1, 0.1 * Math.abs(j - r * i - 37) + 0.05 * noise(i, j)),
  coarseCost: (i, j) => Math.min(1, 0.1 * Math.abs(j - r * i - 37)),
};

// Band exactly as the aligner's first pass builds it (auto w for r = 1.2).
const w = Math.max(8, 3 * Math.ceil(r) + 4);
const stride = 2 * w + 1;
const lo = new Int32Array(n);
const hi = new Int32Array(n);
const expected = new Int32Array(n);
const band = new Float32Array(n * stride);
for (let i = 0; i < n; i++) {
  const c = Math.min(m - 1, Math.round(r * i + 37));
  lo[i] = Math.max(0, c - w);
  hi[i] = Math.min(m - 1, c + w);
  if (i > 0) expected[i] = c - Math.min(m - 1, Math.round(r * (i - 1) + 37));
  for (let j = lo[i]; j <= hi[i]; j++) {
    band[i * stride + j - lo[i]] = costs.cost(i, j);
  }
}
const problem = {
  rows: n,
  stride,
  lo,
  hi,
  costs: band,
  expected,
  extraSteps: 5,
  lambda: 0.08,
};
const path = new Int32Array(n);

// A timed loop up front so the per-iteration numbers can be turned into
// rates (deno bench reports time per iteration, not cells). Warm up well:
// the first few hundred calls run measurably slower (JIT tiering).
let warm = solveBand(problem, path);
for (let k = 0; k < 300; k++) warm = solveBand(problem, path);
const reps = 100;
let bestMs = Infinity;
const t0 = performance.now();
for (let k = 0; k < reps; k++) {
  const t = performance.now();
  solveBand(problem, path);
  bestMs = Math.min(bestMs, performance.now() - t);
}
const dpMs = (performance.now() - t0) / reps;
const rate = (count: number, ms: number) => (count / ms / 1e3).toFixed(1);
console.log(
  `dtw DP: ${warm.cells} cells, ${warm.transitions} transitions per run; ` +
    `mean ${rate(warm.cells, dpMs)} M cells/s ` +
    `(${rate(warm.transitions, dpMs)} M transitions/s, ${
      dpMs.toFixed(2)
    } ms), ` +
    `best ${rate(warm.cells, bestMs)} M cells/s ` +
    `(${rate(warm.transitions, bestMs)} M transitions/s, ${
      bestMs.toFixed(2)
    } ms)`,
);
const fg = timeline(n, 25);
const bg = timeline(m, 30);
Deno.bench({
  name: `banded DP, ${warm.cells} cells / ${warm.transitions} transitions`,
  fn: () => {
    solveBand(problem, path);
  },
});

Deno.bench({
  name: "full align (offset search + band fill + DP + margins), cheap costs",
  n: 3,
  warmup: 1,
  fn: async () => {
    await createDtw().align({ fg, bg, costs });
  },
});
