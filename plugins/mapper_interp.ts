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

import type { MapInput, Mapper, PluginDefinition } from "../core/types.ts";
import { nearestIndex } from "../core/_dtw_band.ts";

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
  const margins: number[] = [];
  for (let i = 0; i < n; i++) {
    if (alignment.margin[i] > 0) margins.push(alignment.margin[i]);
  }
  if (margins.length === 0) return new Int32Array(0);
  const minMargin = o.anchorMargin * median(margins);
  const costs = Array.from(alignment.cost.subarray(0, n));
  const medCost = median(costs);
  const sigma = 1.4826 * median(costs.map((c) => Math.abs(c - medCost)));
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
  const anchors = findAnchors(input, o);

  if (anchors.length === 0) {
    // Nothing trustworthy to interpolate between: the aligner's own path is
    // still the best evidence (inventing a straight line would not be).
    for (let i = 0; i < n; i++) out[i] = clampJ(alignment.bg[i]);
  } else {
    for (const a of anchors) out[a] = clampJ(alignment.bg[a]);
    // Before the first / after the last anchor: real-time playback from it.
    const first = anchors[0];
    const last = anchors[anchors.length - 1];
    for (let i = 0; i < first; i++) {
      out[i] = nearestIndex(bgT, m, bgT[out[first]] + (fgT[i] - fgT[first]));
    }
    for (let i = last + 1; i < n; i++) {
      out[i] = nearestIndex(bgT, m, bgT[out[last]] + (fgT[i] - fgT[last]));
    }
    // Between anchors: the straight line through them, in time.
    for (let q = 1; q < anchors.length; q++) {
      const a = anchors[q - 1];
      const b = anchors[q];
      if (b - a < 2) continue;
      const ta = bgT[out[a]];
      const fa = fgT[a];
      const df = fgT[b] - fa;
      // Equal fg times (broken timestamps) fall back to real-time slope.
      const slope = df > 0 ? (bgT[out[b]] - ta) / df : 1;
      for (let i = a + 1; i < b; i++) {
        out[i] = nearestIndex(bgT, m, ta + (fgT[i] - fa) * slope);
      }
    }
  }
  // Safety net: the result must be non-decreasing whatever came in.
  for (let i = 1; i < n; i++) if (out[i] < out[i - 1]) out[i] = out[i - 1];
  return out;
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
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
