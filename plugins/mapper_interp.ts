/**
 * `interp`: turns an alignment into the final frame map by keeping the
 * confidently matched frames (anchors) and interpolating the rest in time.
 *
 * Ambiguous matches (freezes, static shots, blank frames) carry no timing
 * information of their own; between two anchors the bg is assumed to run at
 * the constant rate the anchors imply, so those frames are placed by time on
 * the straight line between the anchors instead of wherever the aligner's
 * path happened to wander. Before the first and after the last anchor the bg
 * runs at real time (slope 1 in seconds, i.e. the fps ratio in frames) and is
 * clamped to the bg's ends.
 *
 * @module
 */

import type {
  CostModel,
  MapInput,
  Mapper,
  PluginDefinition,
} from "../core/types.ts";
import { densestPoint, nearestIndex } from "../core/timeline.ts";

/**
 * Options of the `interp` mapper.
 *
 * Anchor rule: fg frame i is an anchor when
 * 1. `margin[i] > 0` and `margin[i] ≥ anchorMargin · M`, where M is the
 *    median of the positive margins (relative, so it adapts to the
 *    fingerprinter's cost scale), and
 * 2. `cost[i] ≤ median(cost) + max(costSpread · σ, costSlack)`, where σ is
 *    1.4826 · MAD of the costs (a robust standard deviation): a frame that
 *    clearly beats its neighbours but still matches poorly (fg overhanging
 *    the bg, a changed scene) is not trusted.
 *
 * Anchors whose bg indices would go backwards are dropped (the longest
 * non-decreasing subsequence of anchors is kept), so one bad anchor cannot
 * drag a whole run with it.
 */
export interface InterpOptions {
  /** Min margin of an anchor as a fraction of the median positive margin. */
  anchorMargin: number;
  /** Max cost of an anchor above the median cost, in robust std devs. */
  costSpread: number;
  /** Floor of the allowed cost excess (costs in [0, 1]), for flat cost sets. */
  costSlack: number;
}

/** Defaults of {@link InterpOptions}. */
export const interpDefaults: Readonly<InterpOptions> = Object.freeze({
  anchorMargin: 0.5,
  costSpread: 3,
  costSlack: 0.02,
});

/** Creates an `interp` mapper; see {@link InterpOptions}. */
export function createInterp(options: Partial<InterpOptions> = {}): Mapper {
  const o: InterpOptions = { ...interpDefaults };
  for (const key of Object.keys(interpDefaults) as (keyof InterpOptions)[]) {
    const v = options[key];
    if (typeof v === "number" && Number.isFinite(v)) o[key] = v;
  }
  return { name: "interp", map: (input) => mapInterp(input, o) };
}

/** The `interp` plugin definition. */
export const plugin: PluginDefinition<"mapper"> = {
  kind: "mapper",
  name: "interp",
  description:
    "Keep confident matches, interpolate the rest in time between them (default)",
  create: (o) => createInterp(o as Partial<InterpOptions>),
};

/**
 * The anchors of an alignment under the rule of {@link InterpOptions}, in
 * increasing fg order with non-decreasing bg indices.
 */
export function findAnchors(
  input: MapInput,
  options: Partial<InterpOptions> = {},
): Int32Array {
  const o = { ...interpDefaults, ...options };
  const { alignment } = input;
  const n = Math.min(
    alignment.bg.length,
    alignment.cost.length,
    alignment.margin.length,
  );
  if (n === 0) return new Int32Array(0);
  const margins = alignment.margin.subarray(0, n).filter((v) => v > 0);
  if (margins.length === 0) return new Int32Array(0);
  const minMargin = o.anchorMargin * median(margins);
  const costs = alignment.cost.subarray(0, n);
  const medCost = median(costs);
  const sigma = 1.4826 *
    median(Float64Array.from(costs, (c) => Math.abs(c - medCost)));
  const maxCost = medCost + Math.max(o.costSpread * sigma, o.costSlack);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) {
    const mg = alignment.margin[i];
    if (mg > 0 && mg >= minMargin && alignment.cost[i] <= maxCost) {
      candidates.push(i);
    }
  }
  return longestNonDecreasing(candidates, alignment.bg);
}

function mapInterp(input: MapInput, o: InterpOptions): Int32Array {
  const { alignment, fg, bg } = input;
  const n = fg.count;
  const m = bg.count;
  if (alignment.bg.length < n) {
    throw new RangeError(
      `alignment has ${alignment.bg.length} entries for ${n} fg frames`,
    );
  }
  const out = new Int32Array(n);
  if (n === 0) return out;
  if (m <= 0) throw new RangeError("bg timeline has no frames");
  const fgT = fg.times;
  const bgT = bg.times;
  const clampJ = (j: number) => (j < 0 ? 0 : j > m - 1 ? m - 1 : j);
  for (let i = 0; i < n; i++) out[i] = clampJ(alignment.bg[i]);
  // A match on a frozen bg frame says nothing about timing (every frame of
  // the freeze looks the same): such anchors would split runs.
  const frozen = input.costs
    ? frozenTest(out[0] - 1, out[n - 1] + 1, m, input.costs)
    : () => false;
  const anchors = findAnchors(input, o).filter((a) =>
    !frozen(out[a]) && !frozen(out[a] - 1)
  );

  if (anchors.length > 0) {
    const segments = offsetSegments(anchors, out, fgT, bgT, m, input.costs);
    const at = (i: number, offset: number) =>
      nearestIndex(bgT, m, fgT[i] + offset);
    // Inside a segment every frame follows the segment's offset (the bg
    // runs at real time there); before the first and after the last, the
    // nearest segment's offset extrapolates at the fps ratio.
    for (let s = 0; s < segments.length; s++) {
      const seg = segments[s];
      const from = s === 0 ? 0 : seg.first;
      const to = s === segments.length - 1 ? n - 1 : seg.last;
      for (let i = from; i <= to; i++) out[i] = at(i, seg.offset);
    }

    // Between segments (a drop, a freeze, a cut) the aligner's path keeps
    // the content's word, bounded by the two segments' lines.
    for (let s = 1; s < segments.length; s++) {
      const a = segments[s - 1], b = segments[s];
      for (let i = a.last + 1; i < b.first; i++) {
        const lo = Math.min(at(i, a.offset), at(i, b.offset));
        const hi = Math.max(at(i, a.offset), at(i, b.offset));
        out[i] = Math.max(lo, Math.min(hi, clampJ(alignment.bg[i])));
      }
    }
    if (input.costs) {
      nearestMoments(out, fgT, bgT, m, segments, frozen, input.costs);
    }
  }

  // Safety net: the result must be non-decreasing whatever came in.
  for (let i = 1; i < n; i++) if (out[i] < out[i - 1]) out[i] = out[i - 1];
  return out;
}

/** A run of anchors that share one offset (bg time − fg time). */
interface Segment {
  /** First anchor's fg index. */
  first: number;
  /** Last anchor's fg index. */
  last: number;
  /** The offset in seconds (mid of the anchors' common interval). */
  offset: number;
}

/**
 * Splits the anchors into runs of constant offset (bg time − fg time) and
 * pins each run's offset to a fraction of a frame.
 *
 * An anchor matched to bg frame j says the offset lies where j is the
 * nearest bg frame: within half a bg frame of bgT[j] − fgT[i]. The point
 * covered by the most of a run's intervals is its offset. Linear
 * interpolation between integer anchor indices cannot do this (it rounds the
 * phase, and with 25→30 or 60→24 fps that misplaces frames that fall between
 * two bg frames); a strict intersection cannot either (one near-tie anchor
 * off by a frame collapses it onto a rounding boundary).
 *
 * A run continues while an anchor's raw offset stays within ¾ of a bg frame
 * of the run's recent median; an anchor beyond that starts a new run only if
 * the next two agree with it (a drop or a freeze moved the content),
 * otherwise it is noise and skipped.
 */
function offsetSegments(
  anchors: Int32Array,
  path: Int32Array,
  fgT: Float64Array,
  bgT: Float64Array,
  m: number,
  costs?: CostModel,
): Segment[] {
  const raw = (i: number) => bgT[path[i]] - fgT[i];
  const period = (i: number) => {
    const j = path[i];
    return j > 0 ? bgT[j] - bgT[j - 1] : m > 1 ? bgT[1] - bgT[0] : 1;
  };
  const runs: number[][] = [];
  let run: number[] = [];
  let recent: number[] = [];
  for (let q = 0; q < anchors.length; q++) {
    const a = anchors[q];
    const d = raw(a);
    if (run.length > 0) {
      const ref = median(recent);
      const tol = 0.75 * period(a);
      if (Math.abs(d - ref) > tol) {
        const b = anchors[q + 1], c = anchors[q + 2];
        const lasting = b !== undefined && c !== undefined &&
          Math.abs(raw(b) - ref) > tol && Math.abs(raw(c) - ref) > tol &&
          Math.abs(raw(b) - d) <= tol && Math.abs(raw(c) - d) <= tol;
        if (!lasting) continue;
        runs.push(run);
        run = [];
        recent = [];
      }
    }
    run.push(a);
    recent.push(d);
    if (recent.length > 7) recent.shift();
  }
  if (run.length > 0) runs.push(run);
  const segments = runs.map((r) => {
    const starts = new Float64Array(r.length),
      ends = new Float64Array(r.length);
    r.forEach((i, k) => {
      const j = path[i];
      const d = raw(i);
      const before = j > 0 ? (bgT[j] - bgT[j - 1]) / 2 : Infinity;
      const after = j < m - 1 ? (bgT[j + 1] - bgT[j]) / 2 : Infinity;
      starts[k] = d - Math.min(before, after === Infinity ? 1 : before);
      ends[k] = d + Math.min(after, before === Infinity ? 1 : after);
    });
    const region = densestRegion(starts, ends);
    const first = r[0], last = r[r.length - 1];
    // The mean rounding residual of a run is ~0 when its anchors fall on
    // both sides of their bg frames, which the common interval alone does
    // not guarantee (its midpoint is biased when one side's near-ties are
    // missing). So: trimmed mean of the raw offsets, kept inside the region.
    const d = r.map(raw).sort((a, b) => a - b);
    const cut = Math.floor(d.length / 10);
    const kept = d.slice(cut, d.length - cut);
    const mean = kept.reduce((acc, v) => acc + v, 0) / kept.length;
    let offset = region ? Math.max(region[0], Math.min(region[1], mean)) : mean;
    // The content's own sub-frame estimate is better than any anchor
    // bookkeeping (anchors near a tie tilt the common interval), unless it
    // strays more than a frame from them.
    const fine = costs
      ? subFramePhase(first, last, mean, fgT, bgT, m, costs)
      : undefined;
    if (fine !== undefined && Math.abs(fine - mean) < period(first)) {
      offset = fine;
    }
    return { first, last, offset, anchors: r.length };
  });
  return snapToReference(segments, fgT, bgT, m);
}

/**
 * Drops and stalls remove or repeat whole frames, so every run's offset
 * differs from another's by a whole number of bg (or fg) frames. Short runs
 * estimate their sub-frame phase poorly; the run with the most anchors
 * estimates it best. Each other run is snapped to the best run's offset plus
 * whole frames when its own estimate lies within 0.3 of a frame of that.
 */
function snapToReference(
  segments: (Segment & { anchors: number })[],
  fgT: Float64Array,
  bgT: Float64Array,
  m: number,
): Segment[] {
  if (segments.length < 2) return segments;
  const ref = segments.reduce((a, b) => (b.anchors > a.anchors ? b : a));
  const period = (t: Float64Array, count: number) =>
    count > 1 ? (t[count - 1] - t[0]) / (count - 1) : 0;
  const periods = [period(bgT, m), period(fgT, fgT.length)].filter((p) =>
    p > 0
  );
  return segments.map((g) => {
    if (g === ref) return g;
    const d = g.offset - ref.offset;
    for (const p of periods) {
      const k = Math.round(d / p);
      if (Math.abs(d - k * p) < 0.3 * p) {
        return { ...g, offset: ref.offset + k * p };
      }
    }
    return g;
  });
}

/**
 * The run's offset to a small fraction of a frame, from the content itself:
 * near its best match a frame's cost is close to a parabola in time, so the
 * vertex through the best frame and its two neighbours estimates where the
 * same moment really lies between frames. The fit runs along the denser
 * stream (bg frames when the bg has the higher rate, fg frames otherwise),
 * and the trimmed mean over the run averages the noise away. Each single
 * fit is a coin toss for frames midway between two others; hundreds of
 * them are not.
 */
function subFramePhase(
  first: number,
  last: number,
  guess: number,
  fgT: Float64Array,
  bgT: Float64Array,
  m: number,
  costs: CostModel,
): number | undefined {
  const n = last + 1;
  const samples: number[] = [];
  const vertex = (a: number, b: number, c: number): number | undefined => {
    const curv = a - 2 * b + c;
    if (!(curv > 1e-9) || b > a || b > c) return undefined;
    return Math.max(-0.5, Math.min(0.5, (a - c) / (2 * curv)));
  };
  const fgStep = (fgT[last] - fgT[first]) / Math.max(1, last - first);
  const bgStep = m > 1 ? (bgT[m - 1] - bgT[0]) / (m - 1) : Infinity;
  const stride = Math.max(1, Math.floor((last - first + 1) / 1500));
  if (bgStep <= fgStep) {
    for (let i = first; i <= last; i += stride) {
      let j = nearestIndex(bgT, m, fgT[i] + guess);
      // Walk to the local minimum (at most two steps).
      for (let k = 0; k < 2; k++) {
        if (j > 0 && costs.cost(i, j - 1) < costs.cost(i, j)) j--;
        else if (j < m - 1 && costs.cost(i, j + 1) < costs.cost(i, j)) j++;
      }
      if (j <= 0 || j >= m - 1) continue;
      const v = vertex(
        costs.cost(i, j - 1),
        costs.cost(i, j),
        costs.cost(i, j + 1),
      );
      if (v === undefined) continue;
      const t = bgT[j] +
        v * (v < 0 ? bgT[j] - bgT[j - 1] : bgT[j + 1] - bgT[j]);
      samples.push(t - fgT[i]);
    }
  } else {
    const j0 = nearestIndex(bgT, m, fgT[first] + guess);
    const j1 = nearestIndex(bgT, m, fgT[last] + guess);
    const jStride = Math.max(1, Math.floor((j1 - j0 + 1) / 1500));
    for (let j = j0; j <= j1; j += jStride) {
      let i = nearestFg(fgT, first, last, bgT[j] - guess);
      for (let k = 0; k < 3; k++) {
        if (i > first && costs.cost(i - 1, j) < costs.cost(i, j)) i--;
        else if (i < n - 1 && costs.cost(i + 1, j) < costs.cost(i, j)) i++;
      }
      if (i <= first || i >= last) continue;
      const v = vertex(
        costs.cost(i - 1, j),
        costs.cost(i, j),
        costs.cost(i + 1, j),
      );
      if (v === undefined) continue;
      const t = fgT[i] +
        v * (v < 0 ? fgT[i] - fgT[i - 1] : fgT[i + 1] - fgT[i]);
      samples.push(bgT[j] - t);
    }
  }
  if (samples.length < 8) return undefined;
  samples.sort((a, b) => a - b);
  const cut = Math.floor(samples.length / 5);
  const kept = samples.slice(cut, samples.length - cut);
  return kept.reduce((a, v) => a + v, 0) / kept.length;
}

function nearestFg(
  fgT: Float64Array,
  first: number,
  last: number,
  t: number,
): number {
  const k = nearestIndex(fgT.subarray(first, last + 1), last - first + 1, t);
  return first + k;
}

/** The region covered by the most half-open intervals (see densestPoint). */
function densestRegion(
  starts: Float64Array,
  ends: Float64Array,
): [number, number] | undefined {
  const mid = densestPoint(starts.slice(), ends.slice());
  if (mid === undefined) return undefined;
  // Grow from the densest point to where its coverage ends.
  let lo = -Infinity, hi = Infinity;
  for (let k = 0; k < starts.length; k++) {
    if (starts[k] <= mid && mid < ends[k]) {
      lo = Math.max(lo, starts[k]);
      hi = Math.min(hi, ends[k]);
    }
  }
  return [lo, hi];
}

/**
 * A test for "bg frame j shows the same picture as frame j + 1" over bg
 * frames lo..hi: their distance is far below the typical step between
 * neighbours (relative, so a static shot, where every step is tiny, has no
 * freeze).
 */
function frozenTest(
  lo: number,
  hi: number,
  m: number,
  costs: CostModel,
): (j: number) => boolean {
  const bgCost = costs.bgCost;
  lo = Math.max(0, lo);
  hi = Math.min(m - 1, hi);
  if (!bgCost || hi - lo < 3) return () => false;
  const step = new Float64Array(hi - lo);
  for (let j = lo; j < hi; j++) step[j - lo] = bgCost(j, j + 1);
  const typical = median(step);
  return (j) => j >= lo && j < hi && step[j - lo] <= 0.15 * typical;
}

/**
 * Each fg frame ends on the bg frame whose picture shows the nearest moment.
 * A bg frame's moment is its time less its run's offset; a frozen frame
 * shows the moment of its freeze's first frame; a frame after a drop shows
 * a later moment. So around a freeze or a drop the frame on the time line
 * is not always the nearest picture: neighbours within two frames are
 * checked, and one replaces the frame on the line only when its moment is
 * nearer and its content agrees (a lower cost). Without that second test a
 * static stretch of the bg, whose frames look frozen too, would be snapped
 * to its first frame.
 */
function nearestMoments(
  out: Int32Array,
  fgT: Float64Array,
  bgT: Float64Array,
  m: number,
  segments: readonly Segment[],
  frozen: (j: number) => boolean,
  costs: CostModel,
): void {
  const ranges = segments.map((g) => ({
    lo: out[g.first],
    hi: out[g.last],
    offset: g.offset,
  }));
  const n = out.length;
  const fit = new Map<number, number>();
  // Which run a bg frame belongs to: the one whose range holds it alone;
  // near a boundary (a drop or a cut puts the first frames of the next run
  // where the previous line still reaches), the run under whose line its
  // picture matches the fg better.
  const offsetOf = (j: number): number => {
    const cached = fit.get(j);
    if (cached !== undefined) return cached;
    const near = ranges
      .map((r) => ({
        r,
        d: j < r.lo ? r.lo - j : j > r.hi ? j - r.hi : 0,
      }))
      .sort((a, b) => a.d - b.d)
      .slice(0, 2);
    let offset = near[0].r.offset;
    if (near.length === 2 && near[1].d <= near[0].d + 1) {
      const costUnder = (o: number) => {
        const i = nearestIndex(fgT, n, bgT[j] - o);
        return costs.cost(i, j);
      };
      if (costUnder(near[1].r.offset) < costUnder(near[0].r.offset)) {
        offset = near[1].r.offset;
      }
    }
    fit.set(j, offset);
    return offset;
  };
  const moment = (j: number): number => {
    let s = j;
    while (s > 0 && frozen(s - 1)) s--;
    return bgT[s] - offsetOf(s);
  };
  for (let i = 0; i < out.length; i++) {
    const j0 = out[i];
    let best = j0;
    let bestGap = Math.abs(moment(j0) - fgT[i]);
    let bestCost = costs.cost(i, j0);
    // Neighbours, and the first frame after the freeze j0 sits in.
    let last = j0;
    while (last < m - 1 && frozen(last)) last++;
    const candidates = [j0 - 2, j0 - 1, j0 + 1, j0 + 2];
    if (last + 1 > j0 + 2) candidates.push(last + 1);
    for (const j of candidates) {
      if (j < 0 || j >= m) continue;
      const gap = Math.abs(moment(j) - fgT[i]);
      if (gap >= bestGap - 1e-9) continue;
      const c = costs.cost(i, j);
      if (c < bestCost) {
        best = j;
        bestGap = gap;
        bestCost = c;
      }
    }
    out[i] = best;
  }
}

function median(values: ArrayLike<number>): number {
  // A typed copy sorts natively: no comparator calls, no boxed numbers
  // (the anchors' rules take medians of every frame's cost and margin).
  const s = Float64Array.from(values).sort();
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Longest subsequence of `idx` (increasing fg indices) whose `bg[idx]` is
 * non-decreasing; patience sorting, O(k log k).
 */
function longestNonDecreasing(idx: number[], bg: Int32Array): Int32Array {
  const k = idx.length;
  const tails: number[] = []; // position in idx of the tail of each length
  const parent = new Int32Array(k).fill(-1);
  for (let p = 0; p < k; p++) {
    const v = bg[idx[p]];
    // First tail whose value is > v (non-decreasing allows equal values).
    let a = 0;
    let b = tails.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (bg[idx[tails[mid]]] <= v) a = mid + 1;
      else b = mid;
    }
    if (a > 0) parent[p] = tails[a - 1];
    tails[a] = p;
  }
  const out = new Int32Array(tails.length);
  for (let q = tails.length - 1, p = tails[q]; q >= 0; q--, p = parent[p]) {
    out[q] = idx[p];
  }
  return out;
}
