/**
 * `classic`: the seed's fallback matcher (SPEC4 §7.2), done right. Two
 * greedy sweeps with a sliding window, one forward and one backward, merged
 * into one monotonic path. Designed for the `ssim` fingerprint.
 *
 * 1. Anchor: the time offset (bg time − fg time) from a coarse search over
 *    every plausible offset on a few dozen fg frames (the locator's hint is
 *    one candidate among them), so the first window is in the right place.
 * 2. Forward sweep, fg frame 0 → n−1: the window is ±w bg frames around the
 *    bg frame nearest in time to fg time + the tracked offset, never before
 *    the previous match. Content picks the candidates (every frame whose
 *    cost is within a tie margin of the window's least), time picks among
 *    them (the one nearest the predicted time): the pictures decide where
 *    they clearly can, time settles frozen and flat frames and frames
 *    halfway between two bg frames, where encoding noise tips the content
 *    either way. Every clear match (a single candidate in the whole,
 *    unbounded window) adds the content's own sub-frame estimate of its
 *    moment (the parabola vertex through its cost and its neighbours');
 *    the trimmed mean of the last few is the tracked offset, so the window
 *    follows drops and drift and keeps the sub-frame phase. fg frames whose
 *    predicted time falls outside the bg hold its end frame.
 * 3. Backward sweep, n−1 → 0: the same, never after the following match.
 *    A greedy sweep cannot undo a wrong step (its window may not go back);
 *    the two sweeps err on different sides of such a step.
 * 4. Merge: per fg frame, one of the two candidates, chosen by a two-state
 *    Viterbi that minimises content cost plus a time penalty (the tie
 *    margin per bg frame of distance from the predicted time) subject to
 *    non-decreasing bg indices (all-forward is always feasible, so a path
 *    always exists).
 *
 * Costs come from the cost model in [0, 1] and every fg frame gets exactly
 * one bg frame: there is no similarity threshold that could leave frames
 * unmatched (the original compared an unnormalised SSIM score to 0.5 and
 * "kept 0 matches").
 *
 * @module
 */

import type {
  Aligner,
  AlignInput,
  Alignment,
  CostModel,
  PluginDefinition,
} from "../core/types.ts";
import { medianStep } from "../core/_dtw_band.ts";
import { estimateOffset } from "../core/_dtw_offset.ts";
import { checkTimelines, nearestIndex, pathOffset } from "../core/timeline.ts";

/** Options of the `classic` aligner. */
export interface ClassicOptions {
  /**
   * Window half-width in bg frames; 0 = automatic: max(8, 3·ceil(r) + 4)
   * with r = bg fps / fg fps. `AlignInput.window` overrides it when non-zero.
   */
  window: number;
  /**
   * Costs within this fraction of the content's own cost scale (the median
   * amount by which a frame's best match beats its nearest neighbour) count
   * as equal: among them the frame nearest the predicted time wins. The
   * pictures decide whenever they clearly can; time settles near-ties
   * (frozen and flat frames, frames halfway between two bg frames, where
   * encoding noise can tip the content either way). A match with no rival
   * within it is "clear" and feeds the offset tracker.
   */
  tie: number;
  /** Clear matches whose sub-frame estimates make up the tracked offset. */
  track: number;
  /** fg frames sampled by the anchor search and the content scale. */
  samples: number;
  /** Min fraction of the samples inside the bg for an offset candidate. */
  minOverlap: number;
  /** Distinct offset candidates re-scored with the fine cost. */
  candidates: number;
}

/** Defaults of {@link ClassicOptions}. */
export const classicDefaults: Readonly<ClassicOptions> = Object.freeze({
  window: 0,
  tie: 0.5,
  track: 21,
  samples: 64,
  minOverlap: 1 / 3,
  candidates: 4,
});

/** Diagnostics of one `classic` run. */
export interface ClassicStats {
  /** Anchor offset from the coarse search (seconds). */
  readonly anchorOffset: number;
  /** Window half-width used. */
  readonly window: number;
  /** The content cost scale the time penalty is measured in. */
  readonly contentScale: number;
  /** fg frames where the forward and backward sweeps agreed. */
  readonly agreed: number;
  /** fg frames taken from the backward sweep where they disagreed. */
  readonly fromBackward: number;
  /** cost() calls made. */
  readonly costCalls: number;
}

/** The `classic` result: an {@link Alignment} plus diagnostics and both sweeps. */
export interface ClassicAlignment extends Alignment {
  /** The forward sweep's bg index per fg frame. */
  readonly forward: Int32Array;
  /** The backward sweep's bg index per fg frame. */
  readonly backward: Int32Array;
  /** How the alignment was found. */
  readonly stats: ClassicStats;
}

/** Creates a `classic` aligner; see {@link ClassicOptions}. */
export function createClassic(
  options: Partial<ClassicOptions> = {},
): Aligner & { readonly preferredFingerprint: string } {
  const o: ClassicOptions = { ...classicDefaults };
  for (const key of Object.keys(classicDefaults) as (keyof ClassicOptions)[]) {
    const v = options[key];
    if (typeof v === "number" && Number.isFinite(v)) o[key] = v;
  }
  return {
    name: "classic",
    preferredFingerprint: "ssim",
    align: (input) => alignClassic(input, o),
  };
}

/** The `classic` plugin definition. */
export const plugin: PluginDefinition<"aligner"> = {
  kind: "aligner",
  name: "classic",
  description:
    "Forward and backward sliding-window sweeps merged into one monotonic path (SSIM fallback)",
  create: (o) => createClassic(o as Partial<ClassicOptions>),
};

/**
 * Fine costs, each (fg, bg) pair computed at most once: row i keeps a span
 * of bg frames around the first one asked for (both sweeps look at about
 * the same frames); requests outside it are computed without caching.
 */
class CostCache {
  readonly #costs: CostModel;
  readonly #half: number;
  readonly #lo: Int32Array;
  readonly #values: Float32Array;
  calls = 0;

  constructor(costs: CostModel, rows: number, half: number) {
    this.#costs = costs;
    this.#half = half;
    this.#lo = new Int32Array(rows).fill(-1);
    this.#values = new Float32Array(rows * (2 * half + 1)).fill(NaN);
  }

  /** Centres row i's span on bg frame p, unless the row already has one. */
  around(i: number, p: number): void {
    if (this.#lo[i] < 0) this.#lo[i] = Math.max(0, p - this.#half);
  }

  get(i: number, j: number): number {
    const stride = 2 * this.#half + 1;
    if (this.#lo[i] < 0) this.#lo[i] = Math.max(0, j - this.#half);
    const k = j - this.#lo[i];
    if (k < 0 || k >= stride) return this.#compute(i, j);
    const at = i * stride + k;
    let v = this.#values[at];
    if (v !== v) {
      v = this.#compute(i, j);
      this.#values[at] = v;
    }
    return v;
  }

  #compute(i: number, j: number): number {
    this.calls++;
    const c = Math.fround(this.#costs.cost(i, j));
    return c >= 0 ? (c <= 1 ? c : 1) : 0;
  }
}

/**
 * The running offset from the content's own sub-frame estimates: each clear
 * match contributes the parabola vertex through its cost and its two
 * neighbours' (where between two bg frames the same moment lies), and the
 * estimate is the trimmed mean of the last `size` of them. A single vertex
 * is a coin toss for a frame midway between two bg frames; the mean over
 * a few periods of the rounding pattern is not, so the estimate keeps the
 * sub-frame phase that integer matches lose. When the last few samples all
 * disagree with it by most of a frame (a drop or a freeze moved the
 * content), the estimate restarts from them.
 */
class OffsetTracker {
  readonly #ring: Float64Array;
  readonly #jump: number;
  #count = 0;
  #next = 0;
  #away = 0;
  value: number;

  constructor(size: number, initial: number, period: number) {
    this.#ring = new Float64Array(Math.max(1, size));
    this.#jump = 0.75 * period;
    this.value = initial;
  }

  push(v: number): void {
    const ring = this.#ring;
    if (this.#count > 0 && Math.abs(v - this.value) > this.#jump) {
      this.#away++;
      if (this.#away < JUMP_AGREEMENT) return;
      // Restart from the samples that agreed on the new offset.
      const recent: number[] = [];
      for (let k = 1; k < JUMP_AGREEMENT; k++) {
        recent.push(ring[(this.#next - k + ring.length) % ring.length]);
      }
      this.#count = 0;
      this.#next = 0;
      this.#away = 0;
      for (const r of recent.reverse()) this.#store(r);
    } else this.#away = 0;
    this.#store(v);
    const s = Array.from(ring.subarray(0, this.#count)).sort((a, b) => a - b);
    const cut = Math.floor(s.length / 5);
    let sum = 0;
    for (let k = cut; k < s.length - cut; k++) sum += s[k];
    this.value = sum / (s.length - 2 * cut);
  }

  #store(v: number): void {
    this.#ring[this.#next] = v;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count = Math.min(this.#count + 1, this.#ring.length);
  }
}

/** Consecutive samples that must agree before the tracker follows a jump. */
const JUMP_AGREEMENT = 4;

/**
 * Where between bg frames j − 1 and j + 1 the moment of fg frame i lies:
 * the vertex of the parabola through the three costs, as a time.
 */
function vertexTime(s: Sweep, i: number, j: number): number | undefined {
  const { bgT, cache } = s;
  const a = cache.get(i, j - 1), b = cache.get(i, j), c = cache.get(i, j + 1);
  const curv = a - 2 * b + c;
  if (!(curv > 0) || b > a || b > c) return undefined;
  const v = Math.max(-0.5, Math.min(0.5, (a - c) / (2 * curv)));
  return bgT[j] + v * (v < 0 ? bgT[j] - bgT[j - 1] : bgT[j + 1] - bgT[j]);
}

/** One sweep's inputs. */
interface Sweep {
  readonly n: number;
  readonly m: number;
  readonly fgT: Float64Array;
  readonly bgT: Float64Array;
  readonly dt: number;
  readonly w: number;
  readonly tie: number;
  readonly cache: CostCache;
  readonly track: number;
}

/**
 * The match for fg frame i among bg frames lo..hi: content picks the
 * candidates (every frame within `tie` of the least cost), time picks the
 * one nearest `t` among them. `unique` when no other frame was a candidate.
 */
function pick(
  s: Sweep,
  i: number,
  lo: number,
  hi: number,
  t: number,
): { j: number; unique: boolean } {
  const { bgT, tie, cache } = s;
  let least = Infinity;
  for (let k = lo; k <= hi; k++) {
    const c = cache.get(i, k);
    if (c < least) least = c;
  }
  let j = lo, nearest = Infinity, candidates = 0;
  for (let k = lo; k <= hi; k++) {
    if (cache.get(i, k) > least + tie) continue;
    candidates++;
    const d = Math.abs(bgT[k] - t);
    if (d < nearest) {
      nearest = d;
      j = k;
    }
  }
  return { j, unique: candidates === 1 };
}

/** A sweep's result. */
interface Swept {
  /** bg index per fg frame. */
  readonly path: Int32Array;
  /** The tracked offset each fg frame was matched with. */
  readonly offsets: Float64Array;
  /** The tracked offset at the sweep's end. */
  readonly offset: number;
}

/**
 * One greedy sweep in fg order (`dir` = 1) or reverse (`dir` = −1). Returns
 * the bg index per fg frame and the tracked offset at the sweep's end.
 */
function sweep(
  s: Sweep,
  dir: 1 | -1,
  startOffset: number,
  progress: (done: number) => void,
): Swept {
  const { n, m, fgT, bgT, dt, w, cache } = s;
  const path = new Int32Array(n);
  const offsets = new Float64Array(n);
  const tracker = new OffsetTracker(s.track, startOffset, dt);
  // The bound the window may not cross: the previous match in sweep order.
  let bound = dir === 1 ? 0 : m - 1;
  for (let step = 0; step < n; step++) {
    const i = dir === 1 ? step : n - 1 - step;
    offsets[i] = tracker.value;
    const t = fgT[i] + tracker.value;
    let j: number;
    if (t < bgT[0] - dt / 2) {
      j = 0;
    } else if (t > bgT[m - 1] + dt / 2) {
      j = m - 1;
    } else {
      const p = nearestIndex(bgT, m, t);
      cache.around(i, p);
      const lo = Math.max(0, p - w), hi = Math.min(m - 1, p + w);
      // Tracking looks at the whole window: the frames the monotonic bound
      // cuts off are exactly those that would bias the measured phase.
      const free = pick(s, i, lo, hi, t);
      if (free.unique && free.j > lo && free.j < hi) {
        const at = vertexTime(s, i, free.j);
        if (at !== undefined) tracker.push(at - fgT[i]);
      }
      const blo = dir === 1 ? Math.max(lo, bound) : Math.min(lo, bound);
      const bhi = dir === 1 ? Math.max(hi, bound) : Math.min(hi, bound);
      j = blo === lo && bhi === hi ? free.j : pick(s, i, blo, bhi, t).j;
    }
    // Overhanging frames hold the end frame, but never break monotonicity.
    if (dir === 1 ? j < bound : j > bound) j = bound;
    path[i] = j;
    bound = j;
    if ((step & 255) === 255) progress(step + 1);
  }
  return { path, offsets, offset: tracker.value };
}

/**
 * The content's cost scale at an offset: over sampled fg frames, the median
 * of how much the cheaper neighbour of the best bg frame in the window costs
 * more than it. Frames whose best is on the window edge, or tied, do not
 * vote.
 */
function contentScale(
  s: Sweep,
  offset: number,
  samples: number,
): number {
  const { n, m, fgT, bgT, w, cache } = s;
  const diffs: number[] = [];
  const count = Math.max(1, Math.min(samples, n));
  for (let k = 0; k < count; k++) {
    const i = Math.min(n - 1, Math.floor(((k + 0.5) * n) / count));
    const t = fgT[i] + offset;
    if (t < bgT[0] || t > bgT[m - 1]) continue;
    const p = nearestIndex(bgT, m, t);
    cache.around(i, p);
    const lo = Math.max(0, p - w), hi = Math.min(m - 1, p + w);
    let best = lo;
    for (let j = lo + 1; j <= hi; j++) {
      if (cache.get(i, j) < cache.get(i, best)) best = j;
    }
    if (best === lo || best === hi) continue;
    const d = Math.min(cache.get(i, best - 1), cache.get(i, best + 1)) -
      cache.get(i, best);
    if (d > 0) diffs.push(d);
  }
  if (diffs.length === 0) return 1e-3;
  diffs.sort((a, b) => a - b);
  // Floor: a zero penalty would let flat stretches wander.
  return Math.max(1e-4, diffs[diffs.length >> 1]);
}

/**
 * Picks forward or backward candidate per fg frame: least total cost plus
 * time penalty, bg indices non-decreasing. Returns the merged path and how
 * many frames came from the backward sweep where the two disagreed.
 */
function merge(
  s: Sweep,
  forward: Swept,
  backward: Swept,
): { path: Int32Array; fromBackward: number } {
  const { n, fgT, bgT, dt, tie, cache } = s;
  const fwd = forward.path, bwd = backward.path;
  // The predicted time of frame i: both sweeps' tracked offsets there,
  // averaged (each has seen the content on its own side of i).
  const unary = (i: number, j: number) =>
    cache.get(i, j) +
    tie * Math.abs(
        bgT[j] - fgT[i] - (forward.offsets[i] + backward.offsets[i]) / 2,
      ) /
      dt;
  const score = new Float64Array(2);
  const choice = new Uint8Array(n * 2);
  score[0] = unary(0, fwd[0]);
  score[1] = unary(0, bwd[0]);
  for (let i = 1; i < n; i++) {
    const cand = [fwd[i], bwd[i]];
    const prev = [fwd[i - 1], bwd[i - 1]];
    const next = new Float64Array(2);
    for (let c = 0; c < 2; c++) {
      let best = Infinity, from = 0;
      for (let p = 0; p < 2; p++) {
        if (cand[c] < prev[p] || !(score[p] < Infinity)) continue;
        if (score[p] < best) {
          best = score[p];
          from = p;
        }
      }
      next[c] = best + (best < Infinity ? unary(i, cand[c]) : 0);
      choice[i * 2 + c] = from;
    }
    score[0] = next[0];
    score[1] = next[1];
  }
  const path = new Int32Array(n);
  let c = score[1] < score[0] ? 1 : 0;
  let fromBackward = 0;
  for (let i = n - 1; i >= 0; i--) {
    path[i] = c === 0 ? fwd[i] : bwd[i];
    if (c === 1 && fwd[i] !== bwd[i]) fromBackward++;
    c = choice[i * 2 + c];
  }
  return { path, fromBackward };
}

function alignClassic(input: AlignInput, o: ClassicOptions): ClassicAlignment {
  const { fg, bg, costs } = input;
  const n = fg.count, m = bg.count;
  checkTimelines(fg, bg);
  const fgT = fg.times, bgT = bg.times;
  const dt = medianStep(bgT, m, bg.fps);
  const r = medianStep(fgT, n, fg.fps) / dt;
  const autoW = Math.max(8, 3 * Math.ceil(r) + 4);
  const requested = input.window !== undefined && input.window > 0
    ? input.window
    : o.window > 0
    ? o.window
    : autoW;
  const w = Math.max(1, Math.min(Math.floor(requested), Math.max(1, m - 1)));
  const cache = new CostCache(costs, n, 2 * w);
  const progress = input.progress;
  const total = 3 * n + o.samples;
  progress?.("align", 0, total);

  if (n === 0 || m === 1) {
    const path = new Int32Array(n);
    const cost = new Float32Array(n);
    for (let i = 0; i < n; i++) cost[i] = cache.get(i, 0);
    progress?.("align", total, total);
    return {
      bg: path,
      cost,
      margin: new Float32Array(n),
      offsetSeconds: n > 0 ? bgT[0] - fgT[0] : 0,
      forward: path,
      backward: path,
      stats: {
        anchorOffset: 0,
        window: 0,
        contentScale: 0,
        agreed: n,
        fromBackward: 0,
        costCalls: cache.calls,
      },
    };
  }

  const est = estimateOffset(fg, bg, costs, {
    samples: o.samples,
    minOverlap: o.minOverlap,
    candidates: Math.max(1, Math.floor(o.candidates)),
    hint: input.offsetHint,
    onSample: (d) => progress?.("align", d, total),
  });
  const base: Sweep = {
    n,
    m,
    fgT,
    bgT,
    dt,
    w,
    tie: 0,
    cache,
    track: Math.max(1, Math.floor(o.track)),
  };
  const scale = contentScale(base, est.offset, o.samples);
  const s: Sweep = {
    ...base,
    tie: o.tie * scale,
  };
  const fwd = sweep(
    s,
    1,
    est.offset,
    (d) => progress?.("align", o.samples + d, total),
  );
  // The backward sweep starts where the forward one ended, with its offset:
  // after a drop the anchor describes only one side of it.
  const bwd = sweep(
    s,
    -1,
    fwd.offset,
    (d) => progress?.("align", o.samples + n + d, total),
  );
  const merged = merge(s, fwd, bwd);
  const path = merged.path;
  let agreed = 0;
  for (let i = 0; i < n; i++) if (fwd.path[i] === bwd.path[i]) agreed++;

  // Costs and margins: margin = best cost among other bg frames within ±R
  // (skipping the run of neighbours with exactly the chosen cost, i.e. the
  // same picture repeated by a freeze) − the chosen cost.
  const outCost = new Float32Array(n);
  const margin = new Float32Array(n);
  const R = Math.max(2, Math.ceil(r));
  for (let i = 0; i < n; i++) {
    const j0 = path[i];
    const c0 = cache.get(i, j0);
    outCost[i] = c0;
    let best = Infinity;
    for (const d of [-1, 1]) {
      let dup = true;
      for (let k = 1; k <= R; k++) {
        const j = j0 + d * k;
        if (j < 0 || j >= m) break;
        const c = cache.get(i, j);
        if (dup && c === c0) continue;
        dup = false;
        if (c < best) best = c;
      }
    }
    margin[i] = best === Infinity ? 0 : best - c0;
    if ((i & 255) === 255) progress?.("align", o.samples + 2 * n + i, total);
  }
  // Offset: median over clearly matched frames not clamped to a bg end.
  const offsetSeconds = pathOffset(path, margin, fgT, bgT, m, est.offset);
  progress?.("align", total, total);
  return {
    bg: path,
    cost: outCost,
    margin,
    offsetSeconds,
    forward: fwd.path,
    backward: bwd.path,
    stats: {
      anchorOffset: est.offset,
      window: w,
      contentScale: scale,
      agreed,
      fromBackward: merged.fromBackward,
      costCalls: cache.calls,
    },
  };
}
