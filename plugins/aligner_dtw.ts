/**
 * `dtw`: banded dynamic-time-warping aligner.
 *
 * Finds, for every fg frame i, one bg frame j_i (non-decreasing in i) showing
 * the same moment. Three stages:
 *
 * 1. Coarse offset (bg time − fg time) from ~64 sampled fg frames scored
 *    against every plausible offset with the cheap cost, the best few
 *    re-scored with the fine cost. No n × m matrix.
 * 2. A band of ±w bg frames around the centre line c(i) = bg frame nearest
 *    in time to fg.times[i] + offset (clamped to the bg). The band follows
 *    the fps ratio and the offset, unlike a raw |i − j| < w band. The
 *    offset's sub-frame phase is then refined from the band's costs.
 * 3. Viterbi over fg frames inside the band with a step penalty
 *    λ·|s − e_i| (e_i = c(i) − c(i−1)), open begin and end. When the path
 *    runs along an unclipped band edge the band is re-centred on the
 *    (smoothed) path and widened, at most `maxPasses` times.
 *
 * Each fine cost cell is computed once (re-centred passes reuse overlapping
 * cells), so cost() is called about n·(2w+1) times per pass plus a few per
 * frame for the margins and a few thousand for the offset search.
 *
 * @module
 */

import type {
  Aligner,
  AlignInput,
  Alignment,
  PluginDefinition,
} from "../core/types.ts";
import { medianStep, solveBand } from "../core/_dtw_band.ts";
import {
  checkTimelines,
  densestPoint,
  nearestIndex,
  pathOffset,
} from "../core/timeline.ts";
import { estimateOffset } from "../core/_dtw_offset.ts";

/** Options of the `dtw` aligner. */
export interface DtwOptions {
  /**
   * Band half-width w in bg frames; 0 = automatic: max(8, 3·ceil(r) + 4)
   * with r = bg fps / fg fps. Modest because re-centring follows real drift.
   * `AlignInput.window` overrides it when non-zero.
   */
  window: number;
  /**
   * Step penalty λ per bg frame of deviation from the expected step, in
   * units of the content's own scale: the median (over fg frames) of how
   * much worse the best match's neighbouring bg frame scores, measured in
   * the first band. Real fingerprint costs differ by orders of magnitude
   * between busy footage (a frame off costs ~0.05) and slow pans (~0.002);
   * an absolute λ that suits one makes the other either rigid (freezes and
   * drops ignored) or jittery.
   *
   * Why it can be sizeable: a real drop of d frames costs d·λ once, while
   * the content evidence for it accumulates over every following frame; on
   * flat content (freezes, static shots) the penalty is the only thing that
   * steers the path back onto the timeline, and under noise it stops the
   * path from chasing single-frame noise minima.
   *
   * Default 0.5. Synthetic runs (r = 0.4, 1, 1.001, 1.2, 2.5; two drops,
   * two freezes and a static stretch each; 0.03–0.15 cost per frame of
   * misalignment) scored best with an absolute λ of 0.08–0.15 at 0.15 per
   * frame, i.e. about half the one-frame cost difference; a larger λ ignores
   * a drop in the last d·λ / (cost per frame) fg frames and leans harder on
   * the centre line's rounding phase.
   */
  lambda: number;
  /** Bg frames a single fg step may skip beyond the expected step (drops). */
  maxDrop: number;
  /** fg frames sampled by the coarse offset search. */
  samples: number;
  /**
   * Minimum fraction of the samples that must fall inside the bg for an
   * offset to be considered (tiny overlaps can match by luck).
   */
  minOverlap: number;
  /** Distinct coarse offset candidates re-scored with the fine cost. */
  candidates: number;
  /** Max DP passes (the first plus re-centrings). */
  maxPasses: number;
  /** Cap of the band half-width reached by widening. */
  maxWindow: number;
  /** Cap of band cells n·(2w+1) (memory: ~5 bytes per cell). */
  maxCells: number;
}

/** Defaults of {@link DtwOptions}. */
export const dtwDefaults: Readonly<DtwOptions> = Object.freeze({
  window: 0,
  lambda: 0.25,
  maxDrop: 5,
  samples: 64,
  minOverlap: 1 / 3,
  candidates: 4,
  maxPasses: 3,
  maxWindow: 256,
  maxCells: 60_000_000,
});

/** Diagnostics of one `dtw` run, attached to its {@link Alignment}. */
export interface DtwStats {
  /** Offset from the coarse search (seconds, on the bg-frame grid). */
  readonly coarseOffset: number;
  /** The coarse offset after sub-frame phase refinement (seconds). */
  readonly lineOffset: number;
  /** DP passes run. */
  readonly passes: number;
  /** Band half-width of the last pass. */
  readonly window: number;
  /** Band half-width of each pass. */
  readonly windows: readonly number[];
  /** DP states evaluated over all passes. */
  readonly cells: number;
  /** DP transitions evaluated over all passes. */
  readonly transitions: number;
  /** cost() calls (band cells, margins and offset refinement). */
  readonly costCalls: number;
  /** coarseCost() calls of the offset search. */
  readonly coarseCalls: number;
}

/** The `dtw` result: an {@link Alignment} plus diagnostics. */
export interface DtwAlignment extends Alignment {
  /** How the alignment was found. */
  readonly stats: DtwStats;
}

/** Creates a `dtw` aligner; see {@link DtwOptions}. */
export function createDtw(options: Partial<DtwOptions> = {}): Aligner {
  const o: DtwOptions = { ...dtwDefaults };
  for (const key of Object.keys(dtwDefaults) as (keyof DtwOptions)[]) {
    const v = options[key];
    if (typeof v === "number" && Number.isFinite(v)) o[key] = v;
  }
  return { name: "dtw", align: (input) => alignDtw(input, o) };
}

/** The `dtw` plugin definition. */
export const plugin: PluginDefinition<"aligner"> = {
  kind: "aligner",
  name: "dtw",
  description:
    "Banded DTW around a coarse offset line, re-centred on drift (default)",
  create: (o) => createDtw(o as Partial<DtwOptions>),
};

function alignDtw(input: AlignInput, o: DtwOptions): DtwAlignment {
  const { fg, bg, costs } = input;
  const n = fg.count;
  const m = bg.count;
  checkTimelines(fg, bg);
  const fgT = fg.times;
  const bgT = bg.times;
  const r = medianStep(fgT, n, fg.fps) / medianStep(bgT, m, bg.fps);
  const maxPasses = Math.max(1, Math.floor(o.maxPasses));
  const sampleCount = Math.max(1, Math.min(o.samples, n));
  const total = sampleCount + maxPasses * n;
  const progress = input.progress;
  progress?.("align", 0, total);

  let costCalls = 0;
  const cost = (i: number, j: number): number => {
    costCalls++;
    return Math.fround(costs.cost(i, j));
  };

  if (n === 0 || m === 1) {
    const bgIdx = new Int32Array(n);
    const c = new Float32Array(n);
    for (let i = 0; i < n; i++) c[i] = cost(i, 0);
    progress?.("align", total, total);
    return {
      bg: bgIdx,
      cost: c,
      margin: new Float32Array(n),
      offsetSeconds: n > 0 && m > 0 ? bgT[0] - fgT[0] : 0,
      stats: {
        coarseOffset: 0,
        lineOffset: 0,
        passes: 0,
        window: 0,
        windows: [],
        cells: 0,
        transitions: 0,
        costCalls,
        coarseCalls: 0,
      },
    };
  }

  // 1. Coarse offset (bg-frame grid).
  const est = estimateOffset(fg, bg, costs, {
    samples: o.samples,
    minOverlap: o.minOverlap,
    candidates: Math.max(1, Math.floor(o.candidates)),
    hint: input.offsetHint,
    onSample: (d) => progress?.("align", d, total),
  });
  costCalls += est.fineCalls;
  let offset = est.offset;

  const autoW = Math.max(8, 3 * Math.ceil(r) + 4);
  const requested = input.window !== undefined && input.window > 0
    ? input.window
    : o.window > 0
    ? o.window
    : autoW;
  const capW = Math.max(
    1,
    Math.min(o.maxWindow, Math.floor((o.maxCells / n - 1) / 2), m),
  );
  let w = Math.max(1, Math.min(Math.floor(requested), capW));

  // 2. The band of the first pass is centred on the offset line.
  let centre = centreLine(fgT, n, bgT, m, offset);
  let expected = new Int32Array(n);
  let band: Band | undefined;
  const path = new Int32Array(n);
  let passes = 0;
  let cells = 0;
  let transitions = 0;
  const windows: number[] = [];
  const guard = 2;
  let lambda = o.lambda;

  for (let pass = 0; pass < maxPasses; pass++) {
    passes++;
    windows.push(w);
    band = fillBand(centre, w, m, band, cost, (i) => {
      progress?.("align", sampleCount + pass * n + i, total);
    });

    if (pass === 0) {
      // Sub-frame phase from the band, then the expected steps. The steps
      // come from rounding the line, so a phase error moves where a 1-2-1-2
      // (or 2-3-2-3, 0-1-0-1) pattern changes and the penalty would then
      // fight the content there. A few dozen offset samples pin the phase
      // poorly; here every frame with an unambiguous best match votes.
      offset = refinePhase(fgT, bgT, m, band, offset);
      const line = centreLine(fgT, n, bgT, m, offset);
      // Expected steps from the clamped line: 0 where the fg overhangs the
      // bg (holding the end frame is free there), ≈ r elsewhere. They stay
      // fixed in later passes: re-centring moves the band, not the rate.
      expected = new Int32Array(n);
      for (let i = 1; i < n; i++) expected[i] = line[i] - line[i - 1];
      lambda = o.lambda * contentScale(band, n);
    }

    // 3. Viterbi in the band.
    const stats = solveBand({
      rows: n,
      stride: band.stride,
      lo: band.lo,
      hi: band.hi,
      costs: band.costs,
      expected,
      extraSteps: Math.max(1, Math.floor(o.maxDrop)),
      lambda,
    }, path);
    cells += stats.cells;
    transitions += stats.transitions;

    // 4. Re-centre when the path runs within 2 frames of a band edge that is
    // not the bg's own end: the truth may lie beyond it.
    let touched = false;
    for (let i = 0; i < n && !touched; i++) {
      touched = (band.lo[i] > 0 && path[i] - band.lo[i] <= guard) ||
        (band.hi[i] < m - 1 && band.hi[i] - path[i] <= guard);
    }
    if (!touched || pass + 1 >= maxPasses) break;
    const smooth = smoothPath(path, Math.max(16, 2 * w));
    centre = smooth.centre;
    // Doubling lets a sudden large jump (beyond w) be reached within the
    // pass budget; maxDev + guard + 2 keeps the found path well inside.
    w = Math.min(capW, Math.max(2 * w, smooth.maxDev + guard + 2));
  }
  // maxPasses ≥ 1, so at least one band exists.
  const fin = band as Band;

  // 5. Output: costs, margins, offset.
  const lookup = (i: number, j: number): number => {
    if (j >= fin.lo[i] && j <= fin.hi[i]) {
      return fin.costs[i * fin.stride + j - fin.lo[i]];
    }
    return cost(i, j);
  };
  const outCost = new Float32Array(n);
  const margin = new Float32Array(n);
  const R = Math.max(2, Math.ceil(r));
  for (let i = 0; i < n; i++) {
    const j0 = path[i];
    const c0 = lookup(i, j0);
    outCost[i] = c0;
    // Margin = (best cost among bg frames within ±R, excluding the chosen one
    // and the contiguous run of neighbours with exactly its cost, i.e. the
    // same image repeated by a freeze) − chosen cost. Identical neighbours
    // render the same picture, so they are not competitors; if nothing else
    // lies within ±R the match is ambiguous and the margin is 0. It can be
    // negative when the step penalty preferred a worse-looking frame.
    let best = Infinity;
    let dup = true;
    for (let j = j0 - 1; j >= Math.max(0, j0 - R); j--) {
      const c = lookup(i, j);
      if (dup && c === c0) continue;
      dup = false;
      if (c < best) best = c;
    }
    dup = true;
    for (let j = j0 + 1; j <= Math.min(m - 1, j0 + R); j++) {
      const c = lookup(i, j);
      if (dup && c === c0) continue;
      dup = false;
      if (c < best) best = c;
    }
    margin[i] = best === Infinity ? 0 : best - c0;
  }

  const offsetSeconds = pathOffset(path, margin, fgT, bgT, m, offset);

  progress?.("align", total, total);
  return {
    bg: path,
    cost: outCost,
    margin,
    offsetSeconds,
    stats: {
      coarseOffset: est.offset,
      lineOffset: offset,
      passes,
      window: w,
      windows,
      cells,
      transitions,
      costCalls,
      coarseCalls: est.coarseCalls,
    },
  };
}

/**
 * The content's cost scale: the median over rows of (cheaper neighbour of
 * the row's best bg frame − the best cost). Rows whose best frame sits on
 * the band edge, or ties (freezes, blank frames), do not vote.
 */
function contentScale(band: Band, n: number): number {
  const diffs: number[] = [];
  for (let i = 0; i < n; i++) {
    const width = band.hi[i] - band.lo[i] + 1;
    if (width < 3) continue;
    const row = i * band.stride;
    let best = 0;
    for (let k = 1; k < width; k++) {
      if (band.costs[row + k] < band.costs[row + best]) best = k;
    }
    if (best === 0 || best === width - 1) continue;
    const c = band.costs[row + best];
    const d = Math.min(band.costs[row + best - 1], band.costs[row + best + 1]) -
      c;
    if (d > 0) diffs.push(d);
  }
  if (diffs.length === 0) return 1;
  diffs.sort((a, b) => a - b);
  // Floor: a penalty of exactly 0 would let flat stretches wander.
  return Math.max(1e-4, diffs[diffs.length >> 1]);
}

/** One pass's band: rows [lo[i], hi[i]] with costs at i·stride + (j − lo[i]). */
interface Band {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly stride: number;
  readonly costs: Float32Array;
}

/**
 * Bg frame nearest in time to fg.times[i] + offset for every i: clamped to
 * [0, m−1] by construction (times outside the bg map to its ends) and kept
 * non-decreasing so bands and expected steps never go backwards.
 */
function centreLine(
  fgT: Float64Array,
  n: number,
  bgT: Float64Array,
  m: number,
  offset: number,
): Int32Array {
  const line = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = nearestIndex(bgT, m, fgT[i] + offset);
    line[i] = i > 0 && j < line[i - 1] ? line[i - 1] : j;
  }
  return line;
}

/**
 * Band costs for ±w around `centre`. Cells already in `prev` are copied: the
 * fine cost is the expensive part and each cell is computed at most once.
 */
function fillBand(
  centre: Int32Array,
  w: number,
  m: number,
  prev: Band | undefined,
  cost: (i: number, j: number) => number,
  progress: (row: number) => void,
): Band {
  const n = centre.length;
  const stride = 2 * w + 1;
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  const costs = new Float32Array(n * stride);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, centre[i] - w);
    const b = Math.min(m - 1, centre[i] + w);
    lo[i] = a;
    hi[i] = b;
    const base = i * stride;
    if (prev !== undefined) {
      const pl = prev.lo[i];
      const ph = prev.hi[i];
      const pb = i * prev.stride - pl;
      for (let j = a; j <= b; j++) {
        costs[base + j - a] = j >= pl && j <= ph
          ? prev.costs[pb + j]
          : cost(i, j);
      }
    } else {
      for (let j = a; j <= b; j++) costs[base + j - a] = cost(i, j);
    }
    if ((i & 1023) === 1023) progress(i + 1);
  }
  return { lo, hi, stride, costs };
}

/**
 * Sub-frame phase of `offset` from the band: each fg frame whose best band
 * cell is unique, not on an unclipped band edge and not a bg end frame
 * restricts the offset to the interval making that cell the nearest bg frame
 * in time; the densest such offset wins. Only its phase (the part within
 * ±half a bg frame) is applied: segments separated by whole-frame drops vote
 * for different integer offsets but the same phase, and the band stays
 * centred where it is.
 */
function refinePhase(
  fgT: Float64Array,
  bgT: Float64Array,
  m: number,
  band: Band,
  offset: number,
): number {
  const n = band.lo.length;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const dt = medianStep(bgT, m, 0);
  const eps = dt * 1e-3;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const lo = band.lo[i];
    const hi = band.hi[i];
    const base = i * band.stride - lo;
    let bj = -1;
    let b1 = Infinity;
    let b2 = Infinity;
    for (let j = lo; j <= hi; j++) {
      const c = band.costs[base + j];
      if (c < b1) {
        b2 = b1;
        b1 = c;
        bj = j;
      } else if (c < b2) b2 = c;
    }
    if (!(b2 > b1) || bj <= lo || bj >= hi) continue;
    // bj is strictly inside the band, hence never 0 or m − 1. The intervals
    // are shrunk by a hair: neighbouring intervals share an end point up to
    // rounding, and a rounding sliver covered by both must not win.
    starts[k] = (bgT[bj - 1] + bgT[bj]) / 2 - fgT[i] - offset + eps;
    ends[k] = (bgT[bj] + bgT[bj + 1]) / 2 - fgT[i] - offset - eps;
    k++;
  }
  // Too few votes say little about the phase; keep the grid offset.
  if (k < 8) return offset;
  const d = densestPoint(starts.subarray(0, k), ends.subarray(0, k));
  if (d === undefined) return offset;
  return offset + (d - dt * Math.round(d / dt));
}

/**
 * Centred moving average of the path over ±h frames, as the next pass's band
 * centre (non-decreasing in, non-decreasing out: follows drift, ignores
 * single-frame jitter), and the path's largest deviation from it.
 */
function smoothPath(
  path: Int32Array,
  h: number,
): { centre: Int32Array; maxDev: number } {
  const n = path.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + path[i];
  const centre = new Int32Array(n);
  let maxDev = 0;
  for (let i = 0; i < n; i++) {
    // Symmetric window, shrinking at both ends: a one-sided window would lag
    // behind a rising path by ~h·r/2 frames there.
    const hh = Math.min(h, i, n - 1 - i);
    let c = Math.round((prefix[i + hh + 1] - prefix[i - hh]) / (2 * hh + 1));
    if (i > 0 && c < centre[i - 1]) c = centre[i - 1];
    centre[i] = c;
    const d = Math.abs(path[i] - c);
    if (d > maxDev) maxDev = d;
  }
  return { centre, maxDev };
}
