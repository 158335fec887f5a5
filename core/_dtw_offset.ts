/**
 * Private helper of the `dtw` aligner: the coarse offset search.
 *
 * Estimates `offset` (bg time − fg time of the same moment, seconds) without
 * an n × m matrix: a few dozen fg frames spread over the fg are compared, for
 * every candidate offset on a bg-frame grid, with the bg frame nearest in
 * time. The grid spans every offset at which the fg overlaps the bg at all, so
 * the fg may sit anywhere inside the bg or overhang it on either side.
 *
 * @module
 */

import type { CostModel, Timeline } from "./types.ts";
import { medianStep } from "./_dtw_band.ts";
import { nearestIndex } from "./timeline.ts";

/** Tuning of {@link estimateOffset}. */
export interface OffsetSearchOptions {
  /** fg frames sampled (evenly spread). */
  readonly samples: number;
  /** Min fraction of samples that must land inside the bg for a candidate. */
  readonly minOverlap: number;
  /** Best distinct coarse candidates re-scored with the fine cost. */
  readonly candidates: number;
  /** Optional external guess, scored like any other candidate. */
  readonly hint?: number;
  /** Progress: samples scanned so far. */
  readonly onSample?: (done: number, total: number) => void;
}

/** What {@link estimateOffset} found. */
export interface OffsetEstimate {
  /** Best offset in seconds (on the bg-frame grid or the hint; phase not refined). */
  readonly offset: number;
  /** Mean fine cost of the samples at `offset`. */
  readonly score: number;
  /** Samples overlapping the bg at `offset`. */
  readonly overlap: number;
  /** coarseCost() calls made. */
  readonly coarseCalls: number;
  /** cost() calls made. */
  readonly fineCalls: number;
}

/**
 * Coarse offset search; work is O(samples · (n·r + m)) lookups with at most
 * samples · min(candidates, m) coarseCost() calls, since a sample's nearest
 * bg frame only changes when the sweep passes a bg frame and the last value is
 * reused.
 */
export function estimateOffset(
  fg: Timeline,
  bg: Timeline,
  costs: CostModel,
  opts: OffsetSearchOptions,
): OffsetEstimate {
  const n = fg.count;
  const m = bg.count;
  const fgT = fg.times;
  const bgT = bg.times;
  const S = Math.max(1, Math.min(opts.samples, n));
  const idx = new Int32Array(S);
  const ft = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    // Evenly spread with a golden-ratio jitter: a fixed stride can alias with
    // the frame-rate ratio (stride 6.25 at 25 → 30 fps only ever sees 4 of
    // the 5 rounding phases) or with periodic content, biasing the scores.
    const u = (s * 0.6180339887498949 + 0.5) % 1;
    idx[s] = Math.min(n - 1, Math.floor(((s + u) * n) / S));
    ft[s] = fgT[idx[s]];
  }
  const dt = medianStep(bgT, m, bg.fps);
  const half = dt / 2;
  // A sample "overlaps" when its shifted time falls within half a frame of
  // the bg's span; outside it the nearest bg frame is a clamped end frame
  // that says nothing about the content.
  const bgStart = bgT[0] - half;
  const bgEnd = bgT[m - 1] + half;
  let ftMin = Infinity;
  let ftMax = -Infinity;
  for (let s = 0; s < S; s++) {
    if (ft[s] < ftMin) ftMin = ft[s];
    if (ft[s] > ftMax) ftMax = ft[s];
  }
  const offMin = bgStart - ftMax;
  const C = Math.max(1, Math.floor((bgEnd - ftMin - offMin) / dt) + 1);
  const offsetOf = (k: number) => offMin + k * dt;

  // Overlap count per candidate via a difference array: O(S + C).
  const kLo = new Int32Array(S);
  const kHi = new Int32Array(S);
  const diff = new Int32Array(C + 1);
  for (let s = 0; s < S; s++) {
    const a = Math.max(0, Math.ceil((bgStart - ft[s] - offMin) / dt - 1e-9));
    const b = Math.min(C - 1, Math.floor((bgEnd - ft[s] - offMin) / dt + 1e-9));
    kLo[s] = a;
    kHi[s] = b;
    if (b >= a) {
      diff[a]++;
      diff[b + 1]--;
    }
  }
  const count = new Int32Array(C);
  let maxCount = 0;
  for (let k = 0, run = 0; k < C; k++) {
    run += diff[k];
    count[k] = run;
    if (run > maxCount) maxCount = run;
  }
  // Why a minimum overlap: with only a handful of samples inside the bg, a
  // wrong offset can score a near-zero mean by luck (a black frame, a static
  // title). A third of the samples means at least ~20 independent looks at
  // the content. When the bg is too short to ever cover a third of the fg,
  // the best achievable overlap is required instead.
  const required = Math.max(
    1,
    Math.min(Math.ceil(S * opts.minOverlap), maxCount),
  );

  const sum = new Float64Array(C);
  let coarseCalls = 0;
  for (let s = 0; s < S; s++) {
    const i = idx[s];
    let j = 0;
    let lastJ = -1;
    let lastC = 0;
    for (let k = kLo[s]; k <= kHi[s]; k++) {
      if (count[k] < required) continue;
      const t = ft[s] + offsetOf(k);
      while (j + 1 < m && bgT[j + 1] <= t) j++;
      const jn = j + 1 < m && bgT[j + 1] - t < t - bgT[j] ? j + 1 : j;
      if (jn !== lastJ) {
        lastC = costs.coarseCost(i, jn);
        coarseCalls++;
        lastJ = jn;
      }
      sum[k] += lastC;
    }
    opts.onSample?.(s + 1, S);
  }

  // Best distinct coarse candidates: sorted by mean, ties to larger overlap.
  const valid: number[] = [];
  for (let k = 0; k < C; k++) if (count[k] >= required) valid.push(k);
  const score = (k: number) => sum[k] / count[k];
  valid.sort((a, b) => score(a) - score(b) || count[b] - count[a]);
  const picked: number[] = [];
  // Neighbouring grid points of one minimum score alike; 3 frames apart
  // makes the refined set cover genuinely different offsets.
  const sep = 3;
  for (const k of valid) {
    if (picked.length >= opts.candidates) break;
    if (picked.every((q) => Math.abs(q - k) > sep)) picked.push(k);
  }

  // Fine scoring, each (sample, bg frame) pair computed once.
  const cache = new Map<number, number>();
  let fineCalls = 0;
  const fine = (off: number): { mean: number; overlap: number } => {
    let total = 0;
    let hits = 0;
    for (let s = 0; s < S; s++) {
      const t = ft[s] + off;
      if (t < bgStart || t > bgEnd) continue;
      const jn = nearestIndex(bgT, m, t);
      const key = s * m + jn;
      let c = cache.get(key);
      if (c === undefined) {
        c = costs.cost(idx[s], jn);
        fineCalls++;
        cache.set(key, c);
      }
      total += c;
      hits++;
    }
    return hits >= required
      ? { mean: total / hits, overlap: hits }
      : { mean: Infinity, overlap: hits };
  };

  let bestOff = offsetOf(picked.length > 0 ? picked[0] : 0);
  let best = fine(bestOff);
  const consider = (off: number) => {
    const r = fine(off);
    if (
      r.mean < best.mean || (r.mean === best.mean && r.overlap > best.overlap)
    ) {
      best = r;
      bestOff = off;
    }
  };
  for (const k of picked) {
    for (let d = -1; d <= 1; d++) consider(offsetOf(k + d));
  }
  // The hint is a candidate like the others: it wins only on content.
  if (opts.hint !== undefined && Number.isFinite(opts.hint)) {
    consider(opts.hint);
    const kh = Math.round((opts.hint - offMin) / dt);
    for (let d = -1; d <= 1; d++) consider(offsetOf(kh + d));
  }

  // The result is on the bg-frame grid (or is the hint); its sub-frame phase
  // is refined by the aligner from the band costs, where every frame votes.
  const offset = bestOff;
  const final = fine(offset);
  return {
    offset,
    score: final.mean,
    overlap: final.overlap,
    coarseCalls,
    fineCalls,
  };
}
