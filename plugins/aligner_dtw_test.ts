import assert from "node:assert/strict";
import type { CostModel, Timeline } from "../core/types.ts";
import {
  createDtw,
  type DtwAlignment,
  dtwDefaults,
  plugin,
} from "./aligner_dtw.ts";
import { solveBand } from "../core/_dtw_band.ts";

/** Constant-rate timeline. */
function timeline(count: number, fps: number): Timeline {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = i / fps;
  return { count, fps, times };
}

/** Deterministic noise in [0, 1) per (a, b). */
function hash01(a: number, b: number, seed = 1): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^
    Math.imul((b + seed) | 0, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

interface Synthetic {
  /** Integer true bg index of fg frame i (may lie outside [0, m−1]). */
  truth: (i: number) => number;
  /** Noise amplitude (0 = none). */
  noise?: number;
  /**
   * Moment range [a, b] shown by bg frame j (default [j, j]); a freeze maps
   * several frames to the same range, so their cost rows are identical.
   */
  content?: (j: number) => [number, number];
}

/** Cost model from a known truth path, counting its calls. */
function model(s: Synthetic) {
  const counts = { cost: 0, coarse: 0, pairs: new Set<number>() };
  const content = s.content ?? ((j: number) => [j, j] as [number, number]);
  const amp = s.noise ?? 0;
  const f = (i: number, j: number) => {
    const [a, b] = content(j);
    const t = s.truth(i);
    const d = t < a ? a - t : t > b ? t - b : 0;
    // Noise depends on the content, not the index: identical frames give
    // identical (flat) cost rows, as real fingerprints would.
    return Math.min(1, 0.15 * d + amp * hash01(i, a * 7919 + b));
  };
  const costs: CostModel = {
    cost(i, j) {
      counts.cost++;
      counts.pairs.add(i * 1_000_003 + j);
      return f(i, j);
    },
    coarseCost(i, j) {
      counts.coarse++;
      return f(i, j);
    },
  };
  return { costs, counts };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Shape checks plus the fraction of frames whose index is acceptable. */
function score(
  res: DtwAlignment,
  n: number,
  m: number,
  ok: (i: number, j: number) => boolean,
): number {
  assert.equal(res.bg.length, n);
  assert.equal(res.cost.length, n);
  assert.equal(res.margin.length, n);
  let good = 0;
  for (let i = 0; i < n; i++) {
    const j = res.bg[i];
    assert.ok(j >= 0 && j < m, `bg[${i}] = ${j} out of range`);
    if (i > 0) assert.ok(j >= res.bg[i - 1], `decreases at ${i}`);
    if (ok(i, j)) good++;
  }
  return good / n;
}

/**
 * Cost calls stay within the band budget: n·(2w+1) per pass, ±R per frame
 * for margins, and a fixed allowance for the offset refinement.
 */
function assertBudget(
  res: DtwAlignment,
  counts: { cost: number; coarse: number; pairs: Set<number> },
  n: number,
  m: number,
  r: number,
) {
  const R = Math.max(2, Math.ceil(r));
  const offsetAllowance = dtwDefaults.samples * 40;
  let band = 0;
  for (const w of res.stats.windows) band += n * (2 * w + 1);
  assert.equal(res.stats.costCalls, counts.cost);
  assert.ok(
    counts.cost <= band + n * 2 * R + offsetAllowance,
    `cost calls ${counts.cost} > budget ${band + n * 2 * R + offsetAllowance}`,
  );
  // Each cell is computed once: repeats only come from the offset search.
  assert.ok(counts.cost - counts.pairs.size <= offsetAllowance);
  const S = Math.min(dtwDefaults.samples, n);
  assert.ok(counts.coarse <= S * (m + 2), `coarse calls ${counts.coarse}`);
  // Never anything like the full matrix.
  assert.ok(counts.cost < (n * m) / 4 || n * m < 100_000);
}

const exact =
  (truth: (i: number) => number, m: number) => (i: number, j: number) =>
    j === clamp(truth(i), 0, m - 1);

async function run(
  n: number,
  m: number,
  fgFps: number,
  bgFps: number,
  s: Synthetic,
  extra: { offsetHint?: number; window?: number } = {},
) {
  const { costs, counts } = model(s);
  const res = await createDtw().align({
    fg: timeline(n, fgFps),
    bg: timeline(m, bgFps),
    costs,
    ...extra,
  }) as DtwAlignment;
  return { res, counts };
}

Deno.test("plugin definition", () => {
  assert.equal(plugin.kind, "aligner");
  assert.equal(plugin.name, "dtw");
  assert.equal(plugin.create({}).name, "dtw");
  assert.equal(plugin.create({ lambda: "x" }).name, "dtw");
});

Deno.test("r = 1.2, bg starts 17 frames earlier (noise-free: 100% exact)", async () => {
  const n = 500, m = 640;
  const truth = (i: number) => Math.round(1.2 * i + 17);
  const { res, counts } = await run(n, m, 25, 30, { truth });
  assert.equal(score(res, n, m, exact(truth, m)), 1);
  assertBudget(res, counts, n, m, 1.2);
  assert.ok(Math.abs(res.offsetSeconds - 17 / 30) < 0.5 / 30);
});

Deno.test("r = 1.2 with noise", async () => {
  const n = 500, m = 640;
  const truth = (i: number) => Math.round(1.2 * i + 17);
  const { res, counts } = await run(n, m, 25, 30, { truth, noise: 0.05 });
  assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
  assertBudget(res, counts, n, m, 1.2);
});

Deno.test("r = 2.5 (24 → 60 fps), either neighbour on .5 ties", async () => {
  const n = 400, m = 1100;
  const truth = (i: number) => Math.round(2.5 * i + 40);
  const ok = (i: number, j: number) =>
    i % 2 === 1 ? Math.abs(j - (2.5 * i + 40)) === 0.5 : j === truth(i);
  for (const noise of [0, 0.05]) {
    const { res, counts } = await run(n, m, 24, 60, { truth, noise });
    assert.ok(score(res, n, m, ok) >= (noise === 0 ? 1 : 0.99));
    assertBudget(res, counts, n, m, 2.5);
  }
});

Deno.test("r = 0.4 (60 → 24 fps)", async () => {
  const n = 900, m = 420;
  const truth = (i: number) => Math.round(0.4 * i + 30);
  for (const noise of [0, 0.05]) {
    const { res, counts } = await run(n, m, 60, 24, { truth, noise });
    assert.ok(score(res, n, m, exact(truth, m)) >= (noise === 0 ? 1 : 0.99));
    assertBudget(res, counts, n, m, 0.4);
  }
});

Deno.test("fg overhangs the bg at the start: hold frame 0", async () => {
  const n = 400, m = 500;
  const truth = (i: number) => Math.round(1.2 * i) - 30; // first 25 fg frames precede the bg
  const { res, counts } = await run(n, m, 25, 30, { truth, noise: 0.03 });
  assert.equal(score(res, n, m, exact(truth, m)), 1);
  for (let i = 0; i < 25; i++) assert.equal(res.bg[i], 0);
  assertBudget(res, counts, n, m, 1.2);
});

Deno.test("fg overhangs the bg at the end: hold frame m − 1", async () => {
  const n = 400, m = 420;
  const truth = (i: number) => Math.round(1.2 * i) + 10; // bg ends at fg ≈ 341
  const { res, counts } = await run(n, m, 25, 30, { truth, noise: 0.03 });
  assert.equal(score(res, n, m, exact(truth, m)), 1);
  assert.equal(res.bg[n - 1], m - 1);
  assert.equal(res.bg[360], m - 1);
  assertBudget(res, counts, n, m, 1.2);
});

Deno.test("fg overhangs the bg on both ends", async () => {
  const n = 600, m = 300;
  const truth = (i: number) => i - 150;
  const { res } = await run(n, m, 30, 30, { truth, noise: 0.03 });
  assert.equal(score(res, n, m, exact(truth, m)), 1);
});

Deno.test("freeze in the bg (frames 100..110 identical): follows the timeline", async () => {
  const n = 400, m = 520;
  const truth = (i: number) => Math.round(1.2 * i + 5);
  const content = (j: number): [number, number] =>
    j >= 100 && j <= 110 ? [100, 110] : [j, j];
  for (const noise of [0, 0.04]) {
    const { res, counts } = await run(n, m, 25, 30, { truth, noise, content });
    assert.ok(score(res, n, m, exact(truth, m)) >= (noise === 0 ? 1 : 0.99));
    assertBudget(res, counts, n, m, 1.2);
    // Inside the freeze the match is ambiguous: margin ≤ 0 or from outside.
    const inside = res.bg.findIndex((j) => j === 105);
    assert.ok(inside >= 0);
    assert.ok(res.margin[inside] <= 0.15 * 3 + 1e-6);
  }
});

Deno.test("drop of 3 bg frames mid-way", async () => {
  const n = 500, m = 640;
  const truth = (i: number) => Math.round(1.2 * i + 12) + (i >= 250 ? 3 : 0);
  for (const noise of [0, 0.05]) {
    const { res, counts } = await run(n, m, 25, 30, { truth, noise });
    assert.ok(score(res, n, m, exact(truth, m)) >= (noise === 0 ? 1 : 0.99));
    assertBudget(res, counts, n, m, 1.2);
  }
});

Deno.test("large offset: bg starts 400 frames earlier (coarse search)", async () => {
  const n = 300, m = 800;
  const truth = (i: number) => i + 400;
  const { res, counts } = await run(n, m, 30, 30, { truth, noise: 0.05 });
  assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
  assert.ok(Math.abs(res.offsetSeconds - 400 / 30) < 1 / 30);
  assertBudget(res, counts, n, m, 1);
});

Deno.test("a wrong offsetHint is verified, not trusted", async () => {
  const n = 300, m = 800;
  const truth = (i: number) => i + 400;
  const { res } = await run(n, m, 30, 30, { truth, noise: 0.05 }, {
    offsetHint: 100 / 30,
  });
  assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
  const good = await run(n, m, 30, 30, { truth, noise: 0.05 }, {
    offsetHint: 400 / 30,
  });
  assert.ok(score(good.res, n, m, exact(truth, m)) >= 0.99);
});

Deno.test("end cell far off the |i − j| < w diagonal", async () => {
  const n = 800, m = 1000;
  const truth = (i: number) => Math.round(1.2 * i + 17); // ends at 976, |i − j| = 177
  const { res, counts } = await run(n, m, 25, 30, { truth, noise: 0.05 });
  assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
  assert.equal(res.bg[n - 1], truth(n - 1));
  assertBudget(res, counts, n, m, 1.2);
});

Deno.test("cumulative drift beyond the band is followed by re-centring", async () => {
  const n = 1000, m = 1300;
  // Six drops of 4 frames: 24 frames of drift, more than the auto w = 10.
  const truth = (i: number) =>
    Math.round(1.2 * i + 20) + 4 * Math.min(6, Math.floor(i / 150));
  const { res, counts } = await run(n, m, 25, 30, { truth, noise: 0.05 });
  assert.ok(res.stats.passes >= 2);
  assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
  assertBudget(res, counts, n, m, 1.2);
});

Deno.test("a jump beyond the band is reached by re-centring and widening", async () => {
  const n = 600, m = 800;
  // Half the fg sits 9 (resp. 14) frames off the other half's line: the
  // coarse offset can only match one half, the band must reach the other.
  for (const [window, jump] of [[6, 9], [0, 14]]) {
    const truth = (i: number) =>
      Math.round(1.2 * i + 20) + (i >= 300 ? jump : 0);
    const { res, counts } = await run(n, m, 25, 30, { truth, noise: 0.03 }, {
      window,
    });
    if (window > 0) assert.equal(res.stats.windows[0], window);
    assert.ok(res.stats.passes >= 2);
    assert.ok(res.stats.window > res.stats.windows[0]);
    assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
    assertBudget(res, counts, n, m, 1.2);
  }
});

Deno.test("variable frame rate timelines align by time", async () => {
  const n = 400, m = 520;
  // fg: 25 fps with jittered timestamps; bg: 30 fps; truth by time.
  const fgTimes = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    fgTimes[i] = i / 25 + (hash01(i, 3) - 0.5) * 0.01;
  }
  const bgTimes = new Float64Array(m);
  for (let j = 0; j < m; j++) bgTimes[j] = j / 30;
  const off = 0.5;
  const truth = (i: number) => Math.round((fgTimes[i] + off) * 30);
  const { costs } = model({ truth, noise: 0.03 });
  const res = await createDtw().align({
    fg: { count: n, fps: 25, times: fgTimes },
    bg: { count: m, fps: 30, times: bgTimes },
    costs,
  }) as DtwAlignment;
  assert.ok(score(res, n, m, exact(truth, m)) >= 0.99);
});

Deno.test("degenerate sizes and progress", async () => {
  const calls: number[] = [];
  const one = await createDtw().align({
    fg: timeline(5, 25),
    bg: timeline(1, 25),
    costs: { cost: () => 0.5, coarseCost: () => 0.5 },
    progress: (_s, d) => calls.push(d),
  });
  assert.deepEqual([...one.bg], [0, 0, 0, 0, 0]);
  assert.ok(calls.length > 0);
  const none = await createDtw().align({
    fg: timeline(0, 25),
    bg: timeline(10, 25),
    costs: { cost: () => 0.5, coarseCost: () => 0.5 },
  });
  assert.equal(none.bg.length, 0);
  const single = await createDtw().align({
    fg: timeline(1, 25),
    bg: timeline(10, 25),
    costs: {
      cost: (_i, j) => (j === 7 ? 0 : 1),
      coarseCost: (_i, j) => (j === 7 ? 0 : 1),
    },
  });
  assert.deepEqual([...single.bg], [7]);
});

Deno.test("a hole in the fg timestamps becomes one big step", async () => {
  const n = 400, m = 900;
  const fgTimes = new Float64Array(n);
  for (let i = 0; i < n; i++) fgTimes[i] = i / 25 + (i >= 200 ? 10 : 0);
  const truth = (i: number) => Math.round((fgTimes[i] + 1) * 30);
  const { costs } = model({ truth, noise: 0.03 });
  const res = await createDtw().align({
    fg: { count: n, fps: 25, times: fgTimes },
    bg: timeline(m, 30),
    costs,
  }) as DtwAlignment;
  assert.equal(score(res, n, m, exact(truth, m)), 1);
  assert.ok(res.bg[200] - res.bg[199] > 255);
});

Deno.test("solveBand: open ends, bounded steps, unreachable rows restart", () => {
  // Three rows; row 2's band starts beyond row 1's band + max step.
  const stride = 3;
  const lo = Int32Array.from([0, 1, 20]);
  const hi = Int32Array.from([2, 3, 22]);
  const costs = Float32Array.from([
    [0.5, 0.0, 0.5],
    [0.5, 0.0, 0.5], // best at j = 2
    [0.9, 0.1, 0.9], // best at j = 21
  ].flat());
  const path = new Int32Array(3);
  const stats = solveBand({
    rows: 3,
    stride,
    lo,
    hi,
    costs,
    expected: Int32Array.from([0, 1, 1]),
    extraSteps: 2,
    lambda: 0.01,
  }, path);
  assert.deepEqual([...path], [1, 2, 21]);
  assert.equal(stats.cells, 9);
  // 0 + 0 + restart penalty λ·|21 − 2 − 1| + 0.1
  assert.ok(Math.abs(stats.total - 0.28) < 1e-6);
});

Deno.test("solveBand matches a plain reference DP on random bands", () => {
  let seed = 12345;
  const rnd = () =>
    (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let trial = 0; trial < 200; trial++) {
    const n = 20 + Math.floor(rnd() * 40);
    const w = 1 + Math.floor(rnd() * 10);
    const stride = 2 * w + 1;
    const r = [0.4, 1, 1.2, 2.5][trial % 4];
    const m = Math.ceil(r * n + 20);
    const lo = new Int32Array(n);
    const hi = new Int32Array(n);
    const expected = new Int32Array(n);
    const costs = new Float32Array(n * stride);
    const centre = (i: number) => Math.min(m - 1, Math.round(r * i + 3));
    for (let i = 0; i < n; i++) {
      lo[i] = Math.max(0, centre(i) - w);
      hi[i] = Math.min(m - 1, centre(i) + w);
      if (i > 0) expected[i] = centre(i) - centre(i - 1);
      for (let j = lo[i]; j <= hi[i]; j++) {
        // Coarse values make exact ties common.
        costs[i * stride + j - lo[i]] = Math.round(rnd() * 6) / 6;
      }
    }
    const extraSteps = 1 + (trial % 6);
    const lambda = [0, 0.05, 0.125][trial % 3];
    const path = new Int32Array(n);
    const got = solveBand(
      { rows: n, stride, lo, hi, costs, expected, extraSteps, lambda },
      path,
    );
    // Reference: full table, every step 0..e + extra, no shortcuts.
    let prev = new Map<number, number>();
    for (let j = lo[0]; j <= hi[0]; j++) prev.set(j, costs[j - lo[0]]);
    for (let i = 1; i < n; i++) {
      const cur = new Map<number, number>();
      for (let j = lo[i]; j <= hi[i]; j++) {
        let best = Infinity;
        for (let s = 0; s <= expected[i] + extraSteps; s++) {
          const p = prev.get(j - s);
          if (p !== undefined) {
            best = Math.min(best, p + lambda * Math.abs(s - expected[i]));
          }
        }
        cur.set(j, best + costs[i * stride + j - lo[i]]);
      }
      prev = cur;
    }
    const want = Math.min(...prev.values());
    assert.ok(Math.abs(got.total - want) < 1e-9, `trial ${trial}`);
    // The returned path must realise that total.
    let sum = costs[path[0] - lo[0]];
    for (let i = 1; i < n; i++) {
      const s = path[i] - path[i - 1];
      assert.ok(s >= 0 && s <= expected[i] + extraSteps);
      assert.ok(path[i] >= lo[i] && path[i] <= hi[i]);
      sum += costs[i * stride + path[i] - lo[i]] +
        lambda * Math.abs(s - expected[i]);
    }
    assert.ok(Math.abs(sum - want) < 1e-9, `trial ${trial} path`);
  }
});
