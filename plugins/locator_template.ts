/**
 * `template` locator: finds where the fg's content sits inside the bg, and at
 * what scale, by coarse-to-fine normalised cross-correlation (NCC).
 *
 * Why this shape: fg and bg samples are not the same moments (the videos start
 * at different times and the camera may move), so every fg sample is searched
 * in every bg sample. An exhaustive search at full resolution would cost
 * positions × template pixels × pairs, far too much, so the exhaustive pass
 * runs on a coarse pyramid level picked to fit a work budget, and only a few
 * candidates per fg sample are refined level by level in ±2 px windows. Each
 * fg sample then votes with its best (bg sample, position); the placement is
 * the position most samples agree on, weighted by score, so one fg sample that
 * matched the wrong moment cannot move it.
 *
 * Scaled search (`unscaled: false`): a sweep over geometric scales from
 * `minScale` to 100% runs each scale at the pyramid level where the resized
 * fg's short side is just above `sweepMinSide` pixels, so every scale costs
 * about the same and small scales are not drowned in positions. The best few
 * (scale, position) candidates are refined level by level in scale (± a few
 * pixels of template size) and position together, down to the request's
 * resolution and a 0.1% scale grid; then every fg sample is searched at the
 * winning scale and votes as in the unscaled case.
 *
 * Precision levels: 0 ballpark (the coarsest level only), 1 coarse (refined
 * down to half resolution), 2 balanced (down to full resolution), 3 fine (2 +
 * phase correlation as an independent check, and the placement chosen by the
 * summed NCC of every sample that voted for it), 4 precise (3 + a parabolic
 * fit of that summed NCC surface: fractional x and y). Whatever the level, the
 * confidence is one measure: the NCC at the request's resolution of the fg
 * resized to the found scale against the bg under the found (rounded)
 * position, clamped to [0, 1], so a rough level can never look surer than an
 * exact one.
 *
 * NCC is invariant to gain and offset, so a regraded bg (levels, contrast)
 * still matches.
 *
 * @module
 */

import { defaultPoolSize, WorkerPool } from "../core/worker_pool.ts";
import {
  cropFrame,
  type GrayImage,
  grayStdDev,
  resizeArea,
} from "../core/frame.ts";
import {
  type IntegralImages,
  integralImages,
  nccAt,
  nccMap,
  type PreparedTemplate,
  prepareTemplate,
  pyramid,
} from "../core/ncc.ts";
import { release } from "../core/release.ts";
import { phaseCorrelate } from "../core/phase_correlation.ts";
import { parabolicOffset, parabolicPeakValue } from "../core/subpixel.ts";
import type {
  LocateRequest,
  LocateResult,
  Locator,
  Placement,
  PluginDefinition,
  RefinePair,
  SampleMatch,
} from "../core/types.ts";

/** Tuning of the `template` locator. */
export interface TemplateOptions {
  /**
   * Fg samples whose gray-level standard deviation is below this are blank
   * (black, white, flat title cards) and are skipped: NCC is meaningless on
   * them.
   */
  readonly minStd: number;
  /**
   * Fg samples whose mean absolute gradient (gray levels per pixel, at the
   * input scale) is below this are featureless (smooth fades) and skipped.
   */
  readonly minGradient: number;
  /**
   * Multiply-adds the exhaustive coarse search may spend over all
   * (fg, bg) pairs; the finest pyramid level within it is chosen. ~1e8 is
   * roughly 0.1 s.
   */
  readonly coarseBudget: number;
  /**
   * The coarse level never shrinks the fg's short side below this many
   * pixels, even if the budget is exceeded: smaller templates match noise.
   */
  readonly minCoarseSide: number;
  /** Local maxima kept from each (fg, bg) pair's coarse score map. */
  readonly peaksPerPair: number;
  /**
   * Most candidates per fg sample carried from the coarse level into each
   * finer level. Many are cheap at small levels and guard against the right
   * bg sample ranking low where pyramid phase blurs the comparison.
   */
  readonly candidates: number;
  /**
   * Multiply-adds one fg sample may spend refining at one level; the number
   * of candidates refined there shrinks to fit (large frames at full
   * resolution), but never below `minCandidates`.
   */
  readonly refineBudget: number;
  /** Candidates refined at every level whatever the budget. */
  readonly minCandidates: number;
  /** Half-width of the refinement window at each finer level, in pixels. */
  readonly refineRadius: number;
  /** Per-sample positions within this many pixels vote together. */
  readonly voteRadius: number;
  /** Smallest scale (fg pixels → bg pixels) the scaled search tries. */
  readonly minScale: number;
  /** Largest scale the scaled search tries (also capped by what fits). */
  readonly maxScale: number;
  /** Ratio between neighbouring scales of the sweep (precision ≥ 1). */
  readonly scaleRatio: number;
  /** Ratio between neighbouring scales of the sweep at precision 0. */
  readonly ballparkScaleRatio: number;
  /** The scale grid of the final answer (0.001 = 0.1%). */
  readonly scaleStep: number;
  /**
   * The sweep runs each scale at the coarsest pyramid level where the
   * resized fg's short side keeps at least this many pixels.
   */
  readonly sweepMinSide: number;
  /**
   * Multiply-adds the scale sweep may spend over all (fg, bg) pairs; beyond
   * it the sweep uses the most textured fg samples against a spread of bg
   * samples (every sample is still searched at the winning scale).
   */
  readonly sweepBudget: number;
  /** (scale, position) candidates carried from the sweep into refinement. */
  readonly scaleCandidates: number;
  /**
   * Half-range of each scaled refinement step, in pixels of template size
   * at that level.
   */
  readonly scaleRefineSteps: number;
  /**
   * Precision `refine` works at (it has no precision argument): 2 integer
   * pixels; 3 adds the phase correlation cross-check; 4 also makes x and y
   * fractional.
   */
  readonly refinePrecision: number;
  /** Half-range of scales `refine` searches around a scaled guess (0.01 = ±1%). */
  readonly refineScaleRange: number;
  /** Phase correlation peaks below this are no evidence and are ignored. */
  readonly minPhasePeak: number;
  /** Threads the scale sweep may use (1 = this thread only). */
  readonly workers: number;
  /**
   * Multiply-adds from which a scale sweep is split over `workers` threads.
   * Each worker starts, loads this module and builds its own pyramids, which
   * costs a few tenths of a second: on 2 cores comp's 9 × 40 coarse samples
   * at the default budget (3e8) took 0.41–0.57 s here on one thread and
   * 0.66–0.76 s on two; a 3e9 sweep 2.7–3.8 s on one and 2.4–2.5 s on two.
   */
  readonly parallelSweep: number;
}

/** Default {@link TemplateOptions}. */
export const templateDefaults: Readonly<TemplateOptions> = {
  minStd: 3,
  minGradient: 0.2,
  coarseBudget: 1.5e8,
  minCoarseSide: 8,
  peaksPerPair: 2,
  candidates: 16,
  refineBudget: 2e7,
  minCandidates: 2,
  refineRadius: 2,
  voteRadius: 1,
  minScale: 0.1,
  maxScale: 1,
  scaleRatio: 1.06,
  ballparkScaleRatio: 1.1,
  scaleStep: 0.001,
  sweepMinSide: 8,
  sweepBudget: 3e8,
  scaleCandidates: 8,
  scaleRefineSteps: 2,
  refinePrecision: 2,
  refineScaleRange: 0.01,
  minPhasePeak: 0.1,
  workers: defaultPoolSize(),
  parallelSweep: 1e9,
};

/** One hypothesis for one fg sample: bg sample and top-left at some level. */
export interface Candidate {
  bg: number;
  x: number;
  y: number;
  score: number;
}

/** Per-sample outcome before voting. */
export interface SampleBest extends Candidate {
  fg: number;
}

/**
 * Creates the `template` locator. Unknown option keys are ignored; missing
 * ones take {@link templateDefaults}.
 */
export function createTemplate(
  options: Partial<TemplateOptions> = {},
): Locator {
  // Options may come from the command line: keep only finite numbers.
  const merged: Record<string, number> = { ...templateDefaults };
  for (const key of Object.keys(templateDefaults)) {
    const v = (options as Record<string, unknown>)[key];
    if (typeof v === "number" && Number.isFinite(v)) merged[key] = v;
  }
  const opts = merged as unknown as TemplateOptions;
  return {
    name: "template",
    locate: (request) => locate(request, opts),
    refine: (pairs, guess, radius) => refine(pairs, guess, radius, opts),
  };
}

/** Registry entry of the `template` locator. */
export const plugin: PluginDefinition<"locator"> = {
  kind: "locator",
  name: "template",
  description:
    "Coarse-to-fine normalised cross-correlation over every fg×bg sample pair and scale, with voting",
  create: (o) => createTemplate(o as Partial<TemplateOptions>),
};

/** Precision 0..4 from any number (default 2). */
function precisionLevel(p: number): number {
  return Number.isFinite(p) ? Math.max(0, Math.min(4, Math.round(p))) : 2;
}

// ---------------------------------------------------------------------------
// locate

async function locate(
  request: LocateRequest,
  o: TemplateOptions,
): Promise<LocateResult> {
  const { fg, bg } = request;
  if (fg.length === 0) throw new RangeError("locate: no fg samples");
  if (bg.length === 0) throw new RangeError("locate: no bg samples");
  const fw = fg[0].width, fh = fg[0].height;
  const bw = bg[0].width, bh = bg[0].height;
  for (const f of fg) {
    if (f.width !== fw || f.height !== fh) {
      throw new RangeError("locate: fg samples differ in size");
    }
  }
  for (const b of bg) {
    if (b.width !== bw || b.height !== bh) {
      throw new RangeError("locate: bg samples differ in size");
    }
  }

  const informative: number[] = [];
  for (let k = 0; k < fg.length; k++) {
    if (!isBlank(fg[k], o)) informative.push(k);
  }
  if (informative.length === 0) {
    throw new Error(
      `all ${fg.length} fg samples are blank or featureless; nothing to locate`,
    );
  }
  const samples = informative.map((k) => fg[k]);
  const precision = precisionLevel(request.precision);
  let found: Found;
  if (request.unscaled) {
    if (fw > bw || fh > bh) {
      throw new RangeError(
        `locate: fg ${fw}×${fh} is larger than bg ${bw}×${bh}; an unscaled search cannot fit it`,
      );
    }
    found = locateUnscaled(samples, bg, precision, o);
  } else {
    found = await locateScaled(samples, bg, precision, o);
  }
  const scale = found.placement.scale;
  const matches: SampleMatch[] = [...found.samples]
    .sort((a, b) => a.fg - b.fg)
    .map((s) => ({
      fg: informative[s.fg],
      bg: s.bg,
      placement: { x: s.x, y: s.y, scale, confidence: clamp01(s.score) },
    }));
  return { placement: found.placement, matches };
}

/** What both searches hand back: per-sample bests and the final placement. */
interface Found {
  /** Per informative sample, in request pixels, scored by NCC there. */
  samples: SampleBest[];
  placement: Placement;
}

/**
 * Scale 1: the exhaustive coarse search and level-by-level refinement of
 * {@link searchUnscaled}, stopped at the level the precision asks for, then
 * the vote; levels 3 and 4 polish the winner on every sample that voted for
 * it.
 */
function locateUnscaled(
  fg: readonly GrayImage[],
  bg: readonly GrayImage[],
  precision: number,
  o: TemplateOptions,
): Found {
  const fw = fg[0].width, fh = fg[0].height;
  const bw = bg[0].width, bh = bg[0].height;
  const levels = searchLevels(
    fw,
    fh,
    bw,
    bh,
    fg.length * bg.length,
    precision,
    o,
  );
  const samples = toRequestPixels(
    searchUnscaled(fg, bg, o, levels),
    levels.stop,
    (k, c) => rescore(bg[c.bg], fg[k], c),
    bw - fw,
    bh - fh,
  );
  const { seed, members } = vote(samples, o.voteRadius << levels.stop);
  let placement: Placement = {
    x: seed.x,
    y: seed.y,
    scale: 1,
    confidence: clamp01(seed.score),
  };
  if (precision >= 3) {
    const templates = fg.map(prepareTemplate);
    placement = polish(
      members,
      { range: unitRange(fw, fh, o), centre: 1, half: 0, fitW: bw, fitH: bh },
      (m) => ({
        image: bg[m.bg],
        originX: 0,
        originY: 0,
        template: templates[m.fg],
      }),
      () => fg[seed.fg],
      seed,
      precision,
      o,
    );
  }
  return { samples, placement };
}

/** The pyramid levels a search starts at and stops at. */
interface SearchLevels {
  /** Level of the exhaustive pass (undefined: the budget picks it). */
  coarse?: number;
  /** Finest level refined to. */
  stop: number;
}

/**
 * Levels per precision: 0 the coarsest level the fg's short side allows (a
 * thumbnail), no refinement; 1 the budgeted coarse level refined to half
 * resolution; 2 and up down to the request's resolution.
 */
function searchLevels(
  fw: number,
  fh: number,
  bw: number,
  bh: number,
  pairs: number,
  precision: number,
  o: TemplateOptions,
): SearchLevels {
  if (precision >= 2) return { stop: 0 };
  if (precision === 0) {
    const coarse = maxLevel(fw, fh, o);
    return { coarse, stop: coarse };
  }
  const coarse = chooseLevel(fw, fh, bw, bh, pairs, o);
  return { coarse, stop: Math.min(1, coarse) };
}

/**
 * Scales per-sample positions found at pyramid level `stop` to request
 * pixels; when that is not the request's level, the score is measured again
 * there (`rescore`), so every level reports the same measure.
 */
function toRequestPixels(
  found: readonly Candidate[],
  stop: number,
  rescore: (fg: number, c: Candidate) => number,
  maxX: number,
  maxY: number,
): SampleBest[] {
  return found.map((c, k) => {
    if (stop === 0) return { ...c, fg: k };
    // A coarse pixel covers 2^stop request pixels; keep the fg inside.
    const at = {
      ...c,
      x: Math.min(maxX, c.x << stop),
      y: Math.min(maxY, c.y << stop),
    };
    return { ...at, fg: k, score: rescore(k, at) };
  });
}

/** NCC of `template` in `image` at the candidate's position, clamped inside. */
function rescore(
  image: GrayImage,
  template: GrayImage | PreparedTemplate,
  c: { x: number; y: number },
): number {
  const x = Math.max(
    0,
    Math.min(image.width - template.width, Math.round(c.x)),
  );
  const y = Math.max(
    0,
    Math.min(image.height - template.height, Math.round(c.y)),
  );
  return nccAt(image, template, x, y);
}

/** Std dev and mean absolute gradient test, at the input scale. */
function isBlank(g: GrayImage, o: TemplateOptions): boolean {
  const { width: w, height: h, data } = g;
  const n = w * h;
  if (n === 0) return true;
  let s = 0, q = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    s += v;
    q += v * v;
  }
  const mean = s / n;
  const std = Math.sqrt(Math.max(0, q / n - mean * mean));
  if (std < o.minStd) return true;
  let grad = 0, count = 0;
  for (let y = 0; y + 1 < h; y++) {
    let p = y * w;
    for (let x = 0; x + 1 < w; x++, p++) {
      const v = data[p];
      grad += Math.abs(data[p + 1] - v) + Math.abs(data[p + w] - v);
    }
    count += w - 1;
  }
  return count > 0 && grad / (2 * count) < o.minGradient;
}

/** Multiply-adds of an exhaustive search of every pair at `level`. */
function coarseWork(
  fw: number,
  fh: number,
  bw: number,
  bh: number,
  level: number,
  pairs: number,
): number {
  const tw = fw >> level, th = fh >> level;
  const positions = ((bw >> level) - tw + 1) * ((bh >> level) - th + 1);
  return positions * tw * th * pairs;
}

/** The coarsest level keeping the fg's short side at `minCoarseSide` or more. */
function maxLevel(fw: number, fh: number, o: TemplateOptions): number {
  const short = Math.min(fw, fh);
  let level = 0;
  while ((short >> (level + 1)) >= Math.max(1, o.minCoarseSide)) level++;
  return level;
}

/**
 * Picks the coarse level: the finest whose exhaustive search fits the budget,
 * but never one where the fg's short side drops below `minCoarseSide`.
 */
function chooseLevel(
  fw: number,
  fh: number,
  bw: number,
  bh: number,
  pairs: number,
  o: TemplateOptions,
): number {
  const top = maxLevel(fw, fh, o);
  for (let l = 0; l < top; l++) {
    if (coarseWork(fw, fh, bw, bh, l, pairs) <= o.coarseBudget) return l;
  }
  return top;
}

/**
 * The best (bg sample, top-left, score) of each fg sample at scale 1, in
 * pixels of pyramid level `levels.stop`. Samples are informative and fit
 * inside the bg.
 */
function searchUnscaled(
  fg: readonly GrayImage[],
  bg: readonly GrayImage[],
  o: TemplateOptions,
  levels: SearchLevels = { stop: 0 },
): Candidate[] {
  const fw = fg[0].width, fh = fg[0].height;
  const bw = bg[0].width, bh = bg[0].height;
  const level = levels.coarse ??
    chooseLevel(fw, fh, bw, bh, fg.length * bg.length, o);
  const stop = Math.min(level, levels.stop);

  const fgPyr = fg.map((f) => pyramid(f, level));
  const bgPyr = bg.map((b) => pyramid(b, level));
  // Coarse bg integrals are reused by every fg sample; finer levels only see
  // ±radius windows, where nccMap's per-call local table is cheaper.
  const coarseIntegrals: IntegralImages[] = bgPyr.map((p) =>
    integralImages(p[level])
  );
  const templates: PreparedTemplate[][] = fgPyr.map((p) =>
    p.map(prepareTemplate)
  );

  const tw = fw >> level, th = fh >> level;
  const cw = (bw >> level) - tw + 1, ch = (bh >> level) - th + 1;
  const map = new Float32Array(cw * ch);
  const peaks = Math.max(1, Math.floor(o.peaksPerPair));
  const keep = Math.max(1, Math.floor(o.candidates));
  const radius = Math.max(1, Math.floor(o.refineRadius));
  // How many candidates to refine into level l: as many as the budget allows.
  const keepAt = (l: number): number => {
    const cost = (2 * radius + 1) ** 2 * (fw >> l) * (fh >> l);
    const fit = Math.floor(o.refineBudget / Math.max(1, cost));
    return Math.max(1, Math.min(keep, Math.max(o.minCandidates, fit)));
  };

  const result: Candidate[] = [];
  for (let k = 0; k < fg.length; k++) {
    let cands: Candidate[] = [];
    const t = templates[k][level];
    for (let j = 0; j < bg.length; j++) {
      nccMap(bgPyr[j][level], t, 0, 0, cw - 1, ch - 1, {
        integral: coarseIntegrals[j],
        out: map,
      });
      for (const p of topPeaks(map, cw, ch, peaks)) {
        cands.push({ bg: j, x: p.x, y: p.y, score: p.score });
      }
    }
    cands = prune(cands, keep);
    for (let l = level - 1; l >= stop; l--) {
      cands = cands.slice(0, keepAt(l));
      const tl = templates[k][l];
      cands = prune(
        cands.map((c) =>
          climb(bgPyr[c.bg][l], tl, c, 2 * c.x, 2 * c.y, radius)
        ),
        keep,
      );
    }
    result.push(cands[0]);
  }
  // Freed now, not at V8's next collection (a window of 34 coarse frames
  // leaves ~11 MB): the pyramids above level 0 (the caller's images), the
  // integrals, the templates.
  release(
    ...[...fgPyr, ...bgPyr].flatMap((p) =>
      p.slice(1).map((g) => g.data.buffer)
    ),
    ...coarseIntegrals.flatMap((i) => [i.sum.buffer, i.sumSq.buffer]),
    ...templates.flat().map((t) => t.data.buffer),
  );
  return result;
}

/**
 * Searches ±radius around (cx, cy); while the peak sits on the window's edge
 * (the coarse estimate was off by more than the window), re-centres and
 * searches again, a few times at most.
 */
function climb(
  image: GrayImage,
  t: PreparedTemplate,
  c: Candidate,
  cx: number,
  cy: number,
  radius: number,
): Candidate {
  let x = cx, y = cy, score = -Infinity;
  for (let step = 0; step < 4; step++) {
    const p = nccMap(image, t, x - radius, y - radius, x + radius, y + radius);
    if (p.score === -Infinity) break;
    const moved = p.x !== x || p.y !== y;
    const onEdge = Math.abs(p.x - x) === radius || Math.abs(p.y - y) === radius;
    x = p.x;
    y = p.y;
    score = p.score;
    if (!moved || !onEdge) break;
  }
  return { bg: c.bg, x, y, score };
}

/** Sorts by score (descending), drops duplicates, keeps `n`. */
function prune(cands: Candidate[], n: number): Candidate[] {
  cands.sort((a, b) => b.score - a.score);
  const out: Candidate[] = [];
  for (const c of cands) {
    if (out.some((d) => d.bg === c.bg && d.x === c.x && d.y === c.y)) continue;
    out.push(c);
    if (out.length >= n) break;
  }
  return out;
}

/**
 * The `n` highest local maxima of a score map (a pixel no lower than its 8
 * neighbours), at least 2 px apart so one broad peak is not counted twice.
 */
function topPeaks(
  map: Float32Array,
  w: number,
  h: number,
  n: number,
): { x: number; y: number; score: number }[] {
  const peaks: { x: number; y: number; score: number }[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = map[y * w + x];
      if (!(v > -Infinity)) continue;
      if (peaks.length === n && v <= peaks[n - 1].score) continue;
      let isMax = true;
      for (let dy = -1; dy <= 1 && isMax; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= w) continue;
          if (map[yy * w + xx] > v) {
            isMax = false;
            break;
          }
        }
      }
      if (!isMax) continue;
      const near = peaks.findIndex((p) =>
        Math.abs(p.x - x) <= 2 && Math.abs(p.y - y) <= 2
      );
      if (near >= 0) {
        if (peaks[near].score >= v) continue;
        peaks.splice(near, 1);
      }
      peaks.push({ x, y, score: v });
      peaks.sort((a, b) => b.score - a.score);
      if (peaks.length > n) peaks.length = n;
    }
  }
  return peaks;
}

/**
 * Clusters the per-sample positions (within `radius` of a cluster's best
 * member) and picks the cluster with the highest total score: its best
 * member (the seed) and every member.
 */
function vote(
  samples: readonly SampleBest[],
  radius: number,
): { seed: SampleBest; members: SampleBest[] } {
  const order = [...samples].sort((a, b) => b.score - a.score);
  const clusters: { seed: SampleBest; total: number; members: SampleBest[] }[] =
    [];
  for (const s of order) {
    const c = clusters.find((c) =>
      Math.abs(c.seed.x - s.x) <= radius && Math.abs(c.seed.y - s.y) <= radius
    );
    // Negative correlations are evidence of nothing; they must not outvote.
    const weight = Math.max(0, s.score);
    if (c) {
      c.total += weight;
      c.members.push(s);
    } else clusters.push({ seed: s, total: weight, members: [s] });
  }
  let win = clusters[0];
  for (const c of clusters) if (c.total > win.total) win = c;
  return { seed: win.seed, members: win.members };
}

function clamp01(v: number): number {
  return v > 1 ? 1 : v > 0 ? v : 0;
}

// ---------------------------------------------------------------------------
// scaled search

/** A template size at some pyramid level, and the scale it stands for. */
interface TemplateSize {
  width: number;
  height: number;
  /** The grid scale (multiple of `scaleStep`) this size represents. */
  scale: number;
}

/**
 * The scale grid: scales are `i / denom` for integer i in [first, last], so
 * the answer's resolution is exactly `scaleStep` and sizes compare exactly.
 */
interface ScaleRange {
  denom: number;
  first: number;
  last: number;
  fw: number;
  fh: number;
}

/**
 * The grid scales from `minScale` to `maxScale` at which the fg (fw × fh)
 * fits inside bw × bh at size round(fw·s) × round(fh·s) and keeps at least
 * 2 px a side; undefined when none does.
 */
function scaleRange(
  fw: number,
  fh: number,
  bw: number,
  bh: number,
  o: TemplateOptions,
): ScaleRange | undefined {
  const denom = Math.max(1, Math.round(1 / o.scaleStep));
  const fits = (i: number) =>
    Math.round(fw * i / denom) <= bw && Math.round(fh * i / denom) <= bh;
  let first = Math.max(1, Math.ceil(o.minScale * denom - 1e-9));
  while (Math.round(Math.min(fw, fh) * first / denom) < 2) first++;
  let last = Math.floor(
    Math.min(o.maxScale, (bw + 0.5) / fw, (bh + 0.5) / fh) * denom + 1e-9,
  );
  while (last >= first && !fits(last)) last--;
  return last >= first ? { denom, first, last, fw, fh } : undefined;
}

/**
 * The distinct template sizes at pyramid `level` for grid scales in
 * [lo, hi] (clamped to the range), dropping sizes larger than fitW × fitH.
 * Each size stands for the grid scale nearest its own aspect-averaged ratio
 * (so an fg identical to the bg reports exactly 1), kept within the grid
 * scales that round to it.
 */
function sizesBetween(
  r: ScaleRange,
  lo: number,
  hi: number,
  level: number,
  fitW: number,
  fitH: number,
): TemplateSize[] {
  const f = 2 ** level;
  const a = Math.max(r.first, Math.ceil(lo * r.denom - 1e-9));
  const b = Math.min(r.last, Math.floor(hi * r.denom + 1e-9));
  const groups: { width: number; height: number; i0: number; i1: number }[] =
    [];
  for (let i = a; i <= b; i++) {
    const width = Math.max(1, Math.round(r.fw * i / r.denom / f));
    const height = Math.max(1, Math.round(r.fh * i / r.denom / f));
    if (width > fitW || height > fitH) continue;
    const g = groups[groups.length - 1];
    if (g && g.width === width && g.height === height) g.i1 = i;
    else groups.push({ width, height, i0: i, i1: i });
  }
  // The range may cut the end groups short: their scale must not depend on
  // where a search happened to stop.
  const sizeAt = (i: number) =>
    `${Math.max(1, Math.round(r.fw * i / r.denom / f))}x${
      Math.max(1, Math.round(r.fh * i / r.denom / f))
    }`;
  if (groups.length > 0) {
    const g0 = groups[0], g1 = groups[groups.length - 1];
    const k0 = `${g0.width}x${g0.height}`, k1 = `${g1.width}x${g1.height}`;
    while (g0.i0 > r.first && sizeAt(g0.i0 - 1) === k0) g0.i0--;
    while (g1.i1 < r.last && sizeAt(g1.i1 + 1) === k1) g1.i1++;
  }
  return groups.map((g) => {
    const natural = (g.width + g.height) * f / (r.fw + r.fh) * r.denom;
    const i = Math.max(g.i0, Math.min(g.i1, Math.round(natural)));
    return { width: g.width, height: g.height, scale: i / r.denom };
  });
}

/**
 * Fg samples resized to any template size, cached. A size is made by area
 * resampling from the smallest pyramid level still at least twice its size
 * (as good as resampling the original, and far cheaper for small sizes);
 * templates for a coarse pyramid level (`coarse`) only need a source level at
 * least their own size: the bg they are compared with was halved as well.
 */
export class FgTemplates {
  readonly #images: readonly GrayImage[];
  readonly #pyramids: GrayImage[][] = [];
  readonly #cache = new Map<
    string,
    { image: GrayImage; prepared?: PreparedTemplate }
  >();

  constructor(images: readonly GrayImage[]) {
    this.#images = images;
  }

  /** Sample k resized to width × height. */
  image(k: number, width: number, height: number, coarse = false): GrayImage {
    return this.#entry(k, width, height, coarse).image;
  }

  /** Sample k resized to width × height, ready for {@link nccMap}. */
  prepared(
    k: number,
    width: number,
    height: number,
    coarse = false,
  ): PreparedTemplate {
    const e = this.#entry(k, width, height, coarse);
    return e.prepared ??= prepareTemplate(e.image);
  }

  #entry(k: number, width: number, height: number, coarse: boolean) {
    const key = `${k}:${width}x${height}:${coarse ? 1 : 0}`;
    let e = this.#cache.get(key);
    if (!e) {
      const src = this.#images[k];
      let pyr = this.#pyramids[k];
      if (!pyr) {
        const levels = Math.max(
          0,
          Math.floor(Math.log2(Math.min(src.width, src.height))) - 2,
        );
        pyr = this.#pyramids[k] = pyramid(src, levels);
      }
      const need = coarse ? 1 : 2;
      let l = 0;
      while (
        l + 1 < pyr.length && pyr[l + 1].width >= need * width &&
        pyr[l + 1].height >= need * height
      ) l++;
      const from = pyr[l];
      const image = from.width === width && from.height === height
        ? from
        : resizeArea({ ...from, channels: 1 }, width, height);
      e = { image: { width, height, data: image.data } };
      this.#cache.set(key, e);
    }
    return e;
  }
}

/** Bg samples' pyramids and whole-level integral images, built on demand. */
export class BgLevels {
  readonly #images: readonly GrayImage[];
  readonly #pyramids: GrayImage[][] = [];
  readonly #integrals = new Map<string, IntegralImages>();

  constructor(images: readonly GrayImage[]) {
    this.#images = images;
  }

  /** Bg sample j at pyramid level l. */
  level(j: number, l: number): GrayImage {
    let pyr = this.#pyramids[j];
    if (!pyr || pyr.length <= l) {
      pyr = this.#pyramids[j] = pyramid(this.#images[j], Math.max(l, 1));
    }
    if (pyr.length <= l) {
      throw new RangeError(`bg sample ${j} has no pyramid level ${l}`);
    }
    return pyr[l];
  }

  /** Integral images of bg sample j at level l. */
  integral(j: number, l: number): IntegralImages {
    const key = `${j}:${l}`;
    let ii = this.#integrals.get(key);
    if (!ii) {
      ii = integralImages(this.level(j, l));
      this.#integrals.set(key, ii);
    }
    return ii;
  }
}

/** A (scale, position) hypothesis of one (fg, bg) pair at some level. */
export interface ScaledCandidate extends SampleBest {
  /** Pyramid level of x and y. */
  level: number;
  /** Grid scale (fg → bg, level independent). */
  scale: number;
  /** Straight from the sweep (its scale is only as good as the sweep grid). */
  fresh: boolean;
}

/** Up to `n` indices of `0..count-1`, evenly spread. */
function spread(count: number, n: number): number[] {
  if (n >= count) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i + 0.5) * count / n));
}

/** One template size of the sweep at its pyramid level. */
export interface SweepEntry {
  /** Pyramid level searched. */
  readonly level: number;
  /** Template size at that level. */
  readonly w: number;
  /** Template size at that level. */
  readonly h: number;
  /** Positions searched at that level. */
  readonly cw: number;
  /** Positions searched at that level. */
  readonly ch: number;
  /** The scale the resized template really has. */
  readonly scale: number;
  /** Multiply-adds of one (fg, bg) pair at this size. */
  readonly cost: number;
}

/** A slice of the sweep: fg sample `fg` at sizes `entries` against bg samples `bg`. */
export interface SweepPart {
  /** The fg sample. */
  readonly fg: number;
  /** The sizes to try. */
  readonly entries: readonly SweepEntry[];
  /** The bg samples to try. */
  readonly bg: readonly number[];
  /** Peaks kept per map. */
  readonly peaks: number;
}

/** The best peaks of every (size, bg sample) of one slice of the sweep. */
export function sweepPart(
  fgT: FgTemplates,
  bgL: BgLevels,
  part: SweepPart,
): ScaledCandidate[] {
  const map = new Float32Array(
    Math.max(1, ...part.entries.map((e) => e.cw * e.ch)),
  );
  const out: ScaledCandidate[] = [];
  for (const e of part.entries) {
    const t = fgT.prepared(part.fg, e.w, e.h, e.level > 0);
    for (const j of part.bg) {
      nccMap(bgL.level(j, e.level), t, 0, 0, e.cw - 1, e.ch - 1, {
        integral: bgL.integral(j, e.level),
        out: map,
      });
      for (const p of topPeaks(map, e.cw, e.ch, part.peaks)) {
        out.push({
          fg: part.fg,
          bg: j,
          level: e.level,
          scale: e.scale,
          x: p.x,
          y: p.y,
          score: p.score,
          fresh: true,
        });
      }
    }
  }
  return out;
}

/**
 * Runs sweep slices in worker threads, or here. Big sweeps (a comp's 9 × 40
 * samples) are split over the cores; small ones (one image pair) would lose
 * more to starting workers than they gain.
 */
async function runSweep(
  fg: readonly GrayImage[],
  bg: readonly GrayImage[],
  fgT: FgTemplates,
  bgL: BgLevels,
  parts: readonly SweepPart[],
  total: number,
  o: TemplateOptions,
): Promise<ScaledCandidate[]> {
  const workers = Math.min(o.workers, parts.length);
  if (workers < 2 || total < o.parallelSweep) {
    return parts.flatMap((part) => sweepPart(fgT, bgL, part));
  }
  const pool = new WorkerPool(
    new URL("./locator_template_worker.ts", import.meta.url),
    workers,
    { type: "init", fg, bg } satisfies SweepInit,
  );
  try {
    const results = await Promise.all(
      parts.map((part) =>
        pool.run<ScaledCandidate[]>({ type: "part", part } satisfies SweepTask)
      ),
    );
    return results.flat();
  } finally {
    pool.terminate();
  }
}

/** What the sweep worker gets first: every sample. */
export interface SweepInit {
  /** Discriminator. */
  readonly type: "init";
  /** The fg samples. */
  readonly fg: readonly GrayImage[];
  /** The bg samples. */
  readonly bg: readonly GrayImage[];
}

/** One slice for the sweep worker. */
export interface SweepTask {
  /** Discriminator. */
  readonly type: "part";
  /** The slice. */
  readonly part: SweepPart;
}

/**
 * The scale sweep: every scale of a geometric grid at the coarsest level
 * where the resized fg keeps `sweepMinSide` pixels a side, exhaustively over
 * the bg; the best few (scale, position) candidates of all pairs swept.
 * `all` tells whether every (fg, bg) pair was swept (or the budget made it
 * use the most textured fg samples against a spread of bg samples).
 */
async function sweep(
  fg: readonly GrayImage[],
  bg: readonly GrayImage[],
  fgT: FgTemplates,
  bgL: BgLevels,
  range: ScaleRange,
  precision: number,
  o: TemplateOptions,
): Promise<{ cands: ScaledCandidate[]; all: boolean }> {
  const fw = fg[0].width, fh = fg[0].height;
  const bw = bg[0].width, bh = bg[0].height;
  const ratio = Math.max(
    1.001,
    precision === 0 ? o.ballparkScaleRatio : o.scaleRatio,
  );
  const lo = range.first / range.denom, hi = range.last / range.denom;
  const scales: number[] = [];
  for (let s = lo; s < hi - 1e-9; s *= ratio) scales.push(s);
  scales.push(hi);
  const minSide = Math.max(2, o.sweepMinSide);
  const plan: SweepEntry[] = [];
  for (const s of scales) {
    let l = 0;
    while (
      Math.min(fw, fh) * s / 2 ** (l + 1) >= minSide &&
      Math.round(fw * s / 2 ** (l + 1)) <= bw >> (l + 1) &&
      Math.round(fh * s / 2 ** (l + 1)) <= bh >> (l + 1)
    ) l++;
    const w = Math.max(1, Math.round(fw * s / 2 ** l));
    const h = Math.max(1, Math.round(fh * s / 2 ** l));
    const cw = (bw >> l) - w + 1, ch = (bh >> l) - h + 1;
    if (cw < 1 || ch < 1) continue;
    // The scale the resized template really has (rounding at small sizes).
    const scale = Math.round((w + h) * 2 ** l / (fw + fh) * range.denom) /
      range.denom;
    plan.push({ level: l, w, h, cw, ch, scale, cost: cw * ch * w * h });
  }
  const perPair = plan.reduce((t, e) => t + e.cost, 0);
  const maxPairs = Math.max(
    1,
    Math.floor(o.sweepBudget / Math.max(1, perPair)),
  );
  const byTexture = fg.map((g, k) => ({ k, std: grayStdDev(g) }))
    .sort((a, b) => b.std - a.std)
    .map((e) => e.k);
  let fgSel = byTexture, bgSel = spread(bg.length, bg.length);
  if (maxPairs < fg.length * bg.length) {
    if (maxPairs >= bg.length) {
      fgSel = byTexture.slice(0, Math.floor(maxPairs / bg.length));
    } else {
      fgSel = byTexture.slice(0, 1);
      bgSel = spread(bg.length, maxPairs);
    }
  }
  const peaks = Math.max(1, Math.floor(o.peaksPerPair));
  // Each fg sample's sizes in two interleaved halves: even slices for two
  // workers even when only one fg sample is swept.
  const parts: SweepPart[] = fgSel.flatMap((k) =>
    [0, 1].map((half) => ({
      fg: k,
      entries: plan.filter((_, i) => i % 2 === half),
      bg: bgSel,
      peaks,
    }))
  ).filter((part) => part.entries.length > 0);
  const all = await runSweep(
    fg,
    bg,
    fgT,
    bgL,
    parts,
    perPair * fgSel.length * bgSel.length,
    o,
  );
  // Neighbouring scales find the same match: keep one of each. Ties keep
  // the slices' order, so threads and this thread agree.
  all.sort((a, b) =>
    b.score - a.score || a.fg - b.fg || a.bg - b.bg || a.scale - b.scale ||
    a.y - b.y || a.x - b.x
  );
  const kept: ScaledCandidate[] = [];
  const centre = (c: ScaledCandidate) => [
    (c.x + fw * c.scale / 2 ** (c.level + 1)) * 2 ** c.level,
    (c.y + fh * c.scale / 2 ** (c.level + 1)) * 2 ** c.level,
  ];
  for (const c of all) {
    const [cx, cy] = centre(c);
    const dup = kept.some((d) => {
      if (d.fg !== c.fg || d.bg !== c.bg) return false;
      if (Math.abs(Math.log(d.scale / c.scale)) > 0.15) return false;
      const [dx, dy] = centre(d);
      const near = 0.25 * Math.min(d.scale, c.scale) * Math.min(fw, fh);
      return Math.abs(dx - cx) <= near && Math.abs(dy - cy) <= near;
    });
    if (dup) continue;
    kept.push(c);
    if (kept.length >= Math.max(1, o.scaleCandidates)) break;
  }
  return {
    cands: kept,
    all: fgSel.length === fg.length && bgSel.length === bg.length,
  };
}

/**
 * Refines sweep candidates level by level down to `stop`: at each level,
 * every template size within ± `scaleRefineSteps` pixels (the first step
 * also spans the sweep's grid gap) and positions around twice the coarser
 * answer; fewer candidates go on as templates grow. Sorted best first.
 */
function refineCandidates(
  cands: readonly ScaledCandidate[],
  stop: number,
  fgT: FgTemplates,
  bgL: BgLevels,
  range: ScaleRange,
  o: TemplateOptions,
): ScaledCandidate[] {
  const maxDim = Math.max(range.fw, range.fh);
  const radius = Math.max(1, Math.floor(o.refineRadius));
  const steps = Math.max(1, o.scaleRefineSteps);
  const gap = Math.max(0, o.scaleRatio - 1);
  // Big templates: ±1 px and climbing (the coarser level was right to a
  // pixel there); small ones can afford the full window.
  const radiusFor = (w: number, h: number) => (w * h > 50_000 ? 1 : radius);
  const stepDown = (
    c: ScaledCandidate,
    l: number,
    r: number,
  ): ScaledCandidate => {
    const delta = 2 ** l / maxDim;
    const half = Math.max(steps * delta, c.fresh ? c.scale * gap : 0);
    const image = bgL.level(c.bg, l);
    const best = searchSizes(
      range,
      c.scale,
      half,
      l,
      image.width,
      image.height,
      (size) => [{
        image,
        originX: 0,
        originY: 0,
        template: fgT.prepared(c.fg, size.width, size.height, l > 0),
        // A whole-level table pays off on small levels; at full size,
        // nccMap's per-call table over the window is cheaper.
        integral: l > 0 ? bgL.integral(c.bg, l) : undefined,
      }],
      2 * c.x,
      2 * c.y,
      r,
    );
    if (!best) {
      return {
        ...c,
        level: l,
        x: 2 * c.x,
        y: 2 * c.y,
        score: -1,
        fresh: false,
      };
    }
    return {
      ...c,
      level: l,
      scale: best.size.scale,
      x: best.window.x,
      y: best.window.y,
      score: best.window.sum / best.window.count,
      fresh: false,
    };
  };
  let work = [...cands];
  const top = Math.max(...work.map((c) => c.level));
  for (let l = top - 1; l >= stop; l--) {
    const above = work.filter((c) => c.level === l + 1).sort((a, b) =>
      b.score - a.score
    );
    if (above.length === 0) continue;
    const ref = above[0];
    const w = Math.round(range.fw * ref.scale / 2 ** l);
    const h = Math.round(range.fh * ref.scale / 2 ** l);
    const r = radiusFor(w, h);
    const cost = (2 * steps + 1) * (2 * r + 1) ** 2 * w * h;
    const fit = Math.floor(o.refineBudget / Math.max(1, cost));
    // Where the budget binds (big templates), a candidate clearly behind the
    // best one at the coarser level is not worth a full-size search.
    const pool = fit >= o.minCandidates
      ? above
      : above.filter((c) => c.score >= ref.score - 0.03);
    const keep = Math.max(
      1,
      Math.max(o.minCandidates, Math.min(o.scaleCandidates, fit)),
    );
    // Candidates from neighbouring sweep scales often converge on the same
    // answer: refine each answer once.
    const stepped: ScaledCandidate[] = [];
    for (const c of pool.slice(0, keep)) {
      const d = stepDown(c, l, r);
      const twin = stepped.some((e) =>
        e.fg === d.fg && e.bg === d.bg && e.x === d.x && e.y === d.y &&
        e.scale === d.scale
      );
      if (!twin) stepped.push(d);
    }
    work = [...stepped, ...work.filter((c) => c.level <= l)];
  }
  return work.sort((a, b) => b.score - a.score);
}

/**
 * Scales from `minScale` to 100%: the sweep finds candidate (scale,
 * position)s, refinement pins the best down to the level the precision asks
 * for, then every fg sample is searched at that scale (as an unscaled search
 * of the resized samples) and votes; levels 2+ re-fit scale and position on
 * the full-resolution grid.
 */
async function locateScaled(
  fg: readonly GrayImage[],
  bg: readonly GrayImage[],
  precision: number,
  o: TemplateOptions,
): Promise<Found> {
  const fw = fg[0].width, fh = fg[0].height;
  const bw = bg[0].width, bh = bg[0].height;
  const range = scaleRange(fw, fh, bw, bh, o);
  if (!range) {
    throw new RangeError(
      `locate: a ${fw}×${fh} fg does not fit in ${bw}×${bh} at any scale from ${o.minScale} to ${o.maxScale}`,
    );
  }
  const fgT = new FgTemplates(fg);
  const bgL = new BgLevels(bg);
  const swept = await sweep(fg, bg, fgT, bgL, range, precision, o);
  const stop = precision === 1 ? 1 : 0;
  const ranked = precision === 0
    ? swept.cands
    : refineCandidates(swept.cands, stop, fgT, bgL, range, o);
  const best = ranked[0];
  const scale = best.scale;
  const w0 = Math.max(1, Math.min(bw, Math.round(fw * scale)));
  const h0 = Math.max(1, Math.min(bh, Math.round(fh * scale)));
  const rescoreAt = (k: number, c: Candidate) =>
    rescore(bg[c.bg], fgT.prepared(k, w0, h0), c);

  let samples: SampleBest[];
  let voteLevel: number;
  if (fg.length === 1 && bg.length === 1) {
    // One pair, already refined: its best is the sample's best. (With more
    // bg samples the search below picks the moment: the sweep's coarse
    // levels cannot tell neighbouring frames apart.)
    const at = {
      ...best,
      x: Math.min(bw - w0, best.x << best.level),
      y: Math.min(bh - h0, best.y << best.level),
    };
    samples = [{
      fg: 0,
      bg: best.bg,
      x: at.x,
      y: at.y,
      score: best.level === 0 ? best.score : rescoreAt(0, at),
    }];
    voteLevel = best.level;
  } else {
    const resized = fg.map((_, k) => fgT.image(k, w0, h0));
    const levels = searchLevels(
      w0,
      h0,
      bw,
      bh,
      fg.length * bg.length,
      precision,
      o,
    );
    samples = toRequestPixels(
      searchUnscaled(resized, bg, o, levels),
      levels.stop,
      rescoreAt,
      bw - w0,
      bh - h0,
    );
    voteLevel = levels.stop;
  }
  const { seed, members } = vote(samples, o.voteRadius << voteLevel);
  // Level 2 on one pair: the refinement above already fitted scale and
  // position at full resolution on the 0.1% grid; polishing would repeat it.
  const refinedAlready = precision === 2 && fg.length === 1 &&
    bg.length === 1 && best.level === 0;
  if (precision < 2 || refinedAlready) {
    return {
      samples,
      placement: {
        x: seed.x,
        y: seed.y,
        scale,
        confidence: clamp01(seed.score),
      },
    };
  }
  const half = Math.max(1, o.scaleRefineSteps) / Math.max(fw, fh) +
    1 / range.denom;
  const polished = polish(
    precision >= 3 ? members : [seed],
    { range, centre: scale, half, fitW: bw, fitH: bh },
    (m, size) => ({
      image: bg[m.bg],
      originX: 0,
      originY: 0,
      template: fgT.prepared(m.fg, size.width, size.height),
    }),
    (size) => fgT.image(seed.fg, size.width, size.height),
    seed,
    precision,
    o,
  );
  // Samples were searched at the sweep's scale; report them at the final one.
  const final = polished.scale;
  const fw1 = Math.round(fw * final), fh1 = Math.round(fh * final);
  const rescored = final === scale ? samples : samples.map((s) => ({
    ...s,
    score: rescore(bg[s.bg], fgT.prepared(s.fg, fw1, fh1), s),
  }));
  return { samples: rescored, placement: polished };
}

/** Which sizes a polish may try: grid scales within centre ± half. */
interface SizeSpan {
  range: ScaleRange;
  centre: number;
  half: number;
  fitW: number;
  fitH: number;
}

/**
 * Levels 2-4 at the request's resolution: scale and position re-fitted
 * around the seed on the members' summed NCC (level 2 passes the seed
 * alone; 3 every sample that voted for it, so the placement is the one the
 * frames agree on, and adds the phase correlation check; 4 makes x and y
 * fractional). The confidence is the seed pair's NCC at the result.
 */
function polish(
  members: readonly SampleBest[],
  span: SizeSpan,
  layerFor: (m: SampleBest, size: TemplateSize) => Layer,
  reference: (size: TemplateSize) => GrayImage,
  seed: SampleBest,
  precision: number,
  o: TemplateOptions,
): Placement {
  const layers = (size: TemplateSize) => members.map((m) => layerFor(m, size));
  let best = searchSizes(
    span.range,
    span.centre,
    span.half,
    0,
    span.fitW,
    span.fitH,
    layers,
    seed.x,
    seed.y,
    1,
  );
  if (!best) {
    return {
      x: seed.x,
      y: seed.y,
      scale: span.centre,
      confidence: clamp01(seed.score),
    };
  }
  if (precision >= 3) {
    best = phaseCheck(best, layers(best.size), reference(best.size), o);
  }
  const { x, y } = precision >= 4
    ? subpixel(layers(best.size), best.window.x, best.window.y, best.window)
    : best.window;
  const ref = layerFor(seed, best.size);
  return {
    x,
    y,
    scale: best.size.scale,
    confidence: clamp01(rescore(ref.image, ref.template, best.window)),
  };
}

/** The grid holding only scale 1 (the fg's own size). */
function unitRange(fw: number, fh: number, o: TemplateOptions): ScaleRange {
  const denom = Math.max(1, Math.round(1 / o.scaleStep));
  return { denom, first: denom, last: denom, fw, fh };
}

// ---------------------------------------------------------------------------
// windows of positions, summed over pairs

/** One pair at one level: a bg image (a window of a frame) and a template. */
interface Layer {
  image: GrayImage;
  /** Frame coordinates of the image's top-left pixel. */
  originX: number;
  originY: number;
  template: PreparedTemplate;
  /** Integral images of `image`, when many windows will be searched in it. */
  integral?: IntegralImages;
}

/** NCC summed over layers on a rectangle of positions, and its best cell. */
interface WindowScore {
  /** Best position (frame coordinates). */
  x: number;
  y: number;
  /** Summed NCC there, and how many layers could score it. */
  sum: number;
  count: number;
  x0: number;
  y0: number;
  width: number;
  sums: Float64Array;
  counts: Int32Array;
}

/**
 * Sums every layer's NCC over positions [x0, x1] × [y0, y1] (frame
 * coordinates). The best position is the one the most layers could score
 * (a template leaving one window must not win by scoring fewer pairs), then
 * the highest sum, then the nearest to (px, py) (flat content ties at 0).
 */
function scoreWindow(
  layers: readonly Layer[],
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  px: number,
  py: number,
): WindowScore | undefined {
  const width = x1 - x0 + 1, height = y1 - y0 + 1;
  if (width <= 0 || height <= 0) return undefined;
  const cells = width * height;
  const sums = new Float64Array(cells);
  const counts = new Int32Array(cells);
  const map = new Float32Array(cells);
  for (const l of layers) {
    const lx = x0 - l.originX, ly = y0 - l.originY;
    nccMap(l.image, l.template, lx, ly, lx + width - 1, ly + height - 1, {
      out: map,
      integral: l.integral,
    });
    for (let i = 0; i < cells; i++) {
      const v = map[i];
      if (v === v) {
        sums[i] += v;
        counts[i]++;
      }
    }
  }
  const d2 = (i: number) =>
    (x0 + (i % width) - px) ** 2 + (y0 + Math.floor(i / width) - py) ** 2;
  let bi = -1;
  for (let i = 0; i < cells; i++) {
    if (counts[i] === 0) continue;
    if (bi < 0 || counts[i] > counts[bi]) {
      bi = i;
      continue;
    }
    if (counts[i] < counts[bi]) continue;
    if (sums[i] > sums[bi]) bi = i;
    else if (sums[i] === sums[bi] && d2(i) < d2(bi)) bi = i;
  }
  if (bi < 0) return undefined;
  return {
    x: x0 + (bi % width),
    y: y0 + Math.floor(bi / width),
    sum: sums[bi],
    count: counts[bi],
    x0,
    y0,
    width,
    sums,
    counts,
  };
}

/** True when `a` beats `b`: more layers scored, then a higher sum. */
function better(a: WindowScore, b: WindowScore): boolean {
  return a.count > b.count || (a.count === b.count && a.sum > b.sum);
}

/**
 * The summed NCC a window's peak would reach between pixels (the parabola
 * vertex along x plus the lift along y). Template sizes are compared on
 * this: at whole-pixel positions a fg that truly sits half a pixel off
 * loses to a template a pixel smaller (its misalignment then grows from 0
 * at the centre to ½ px at the edges instead of ½ px everywhere), which
 * would bias the scale.
 */
function peakValue(ws: WindowScore): number {
  const height = ws.sums.length / ws.width;
  const at = (dx: number, dy: number) => {
    const i = ws.x + dx - ws.x0, j = ws.y + dy - ws.y0;
    if (i < 0 || j < 0 || i >= ws.width || j >= height) return NaN;
    const c = j * ws.width + i;
    return ws.counts[c] === ws.count ? ws.sums[c] : NaN;
  };
  const c = ws.sum;
  return parabolicPeakValue(at(-1, 0), c, at(1, 0)) +
    parabolicPeakValue(at(0, -1), c, at(0, 1)) - c;
}

/** {@link better}, comparing the between-pixel peak heights. */
function betterPeak(a: WindowScore, b: WindowScore): boolean {
  return a.count > b.count ||
    (a.count === b.count && peakValue(a) > peakValue(b));
}

/** Positions a search may not leave (frame coordinates, inclusive). */
interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * {@link scoreWindow} on ±r around (cx, cy); while the best sits on an edge
 * of the window that is not a bound, re-centres there (`steps` windows at
 * most).
 */
function climbWindow(
  layers: readonly Layer[],
  cx: number,
  cy: number,
  r: number,
  bounds?: Bounds,
  steps = 4,
): WindowScore | undefined {
  let x = cx, y = cy;
  let last: WindowScore | undefined;
  for (let step = 0; step < steps; step++) {
    const x0 = Math.max(x - r, bounds?.x0 ?? -Infinity);
    const y0 = Math.max(y - r, bounds?.y0 ?? -Infinity);
    const x1 = Math.min(x + r, bounds?.x1 ?? Infinity);
    const y1 = Math.min(y + r, bounds?.y1 ?? Infinity);
    const ws = scoreWindow(layers, x0, y0, x1, y1, x, y);
    if (!ws) break;
    if (last && !better(ws, last)) break;
    last = ws;
    const onEdge = (ws.x === x - r && x0 === x - r) ||
      (ws.x === x + r && x1 === x + r) ||
      (ws.y === y - r && y0 === y - r) ||
      (ws.y === y + r && y1 === y + r);
    const moved = ws.x !== x || ws.y !== y;
    x = ws.x;
    y = ws.y;
    if (!moved || !onEdge) break;
  }
  return last;
}

/** The best template size and its window. */
interface SizedScore {
  size: TemplateSize;
  window: WindowScore;
}

/**
 * Every grid size at `level` for scales within `centre` ± `half`, each
 * climbed in position from (cx, cy); when the best size is at an end of the
 * range (the scale was further off), the range moves there, twice at most.
 */
function searchSizes(
  range: ScaleRange,
  centre: number,
  half: number,
  level: number,
  fitW: number,
  fitH: number,
  layersFor: (size: TemplateSize) => readonly Layer[],
  cx: number,
  cy: number,
  r: number,
  bounds?: Bounds,
): SizedScore | undefined {
  let best: SizedScore | undefined;
  half = Math.max(half, 1 / range.denom);
  let lo = centre - half, hi = centre + half;
  for (let attempt = 0; attempt < 3; attempt++) {
    const sizes = sizesBetween(range, lo, hi, level, fitW, fitH);
    let bi = -1;
    let bw: WindowScore | undefined;
    // One window per size; only the winner climbs (a window whose best is
    // on its edge still ranks the sizes, and climbing every size would
    // double the work).
    for (let i = 0; i < sizes.length; i++) {
      const ws = climbWindow(layersFor(sizes[i]), cx, cy, r, bounds, 1);
      if (ws && (!bw || betterPeak(ws, bw))) {
        bi = i;
        bw = ws;
      }
    }
    if (!bw) break;
    bw = climbWindow(layersFor(sizes[bi]), bw.x, bw.y, r, bounds) ?? bw;
    const improved = !best || betterPeak(bw, best.window);
    if (improved) best = { size: sizes[bi], window: bw };
    const canLower = bi === 0 &&
      Math.ceil(lo * range.denom - 1e-9) > range.first;
    const canRaise = bi === sizes.length - 1 &&
      Math.floor(hi * range.denom + 1e-9) < range.last;
    if (!improved || (!canLower && !canRaise)) break;
    // Move the range half its width past the winning end.
    const shift = canLower ? -half : half;
    lo = sizes[bi].scale - half + shift;
    hi = sizes[bi].scale + half + shift;
    cx = bw.x;
    cy = bw.y;
  }
  return best;
}

/**
 * Level 3's independent check: phase correlation between the reference
 * pair's resized fg and the bg under the found position. A confident shift
 * away from it names a second candidate; the summed NCC of all layers
 * decides between the two.
 */
function phaseCheck(
  best: SizedScore,
  layers: readonly Layer[],
  reference: GrayImage,
  o: TemplateOptions,
  bounds?: Bounds,
): SizedScore {
  const { width, height } = best.size;
  const ref = layers[0];
  const lx = best.window.x - ref.originX, ly = best.window.y - ref.originY;
  if (
    width < 16 || height < 16 || lx < 0 || ly < 0 ||
    lx + width > ref.image.width || ly + height > ref.image.height
  ) return best;
  const under = cropFrame({ ...ref.image, channels: 1 }, {
    x: lx,
    y: ly,
    width,
    height,
  });
  const pc = phaseCorrelate(reference, under);
  const dx = Math.round(pc.dx), dy = Math.round(pc.dy);
  if (pc.peak < o.minPhasePeak || (dx === 0 && dy === 0)) return best;
  const ax = best.window.x + dx, ay = best.window.y + dy;
  if (
    bounds &&
    (ax < bounds.x0 || ax > bounds.x1 || ay < bounds.y0 || ay > bounds.y1)
  ) return best;
  const alt = scoreWindow(layers, ax, ay, ax, ay, ax, ay);
  return alt && better(alt, best.window) ? { ...best, window: alt } : best;
}

/**
 * Level 4: the vertex of the parabola through the summed NCC at the best
 * position and its neighbours, per axis (positions fewer layers could score
 * are left out of the fit).
 */
function subpixel(
  layers: readonly Layer[],
  x: number,
  y: number,
  known?: WindowScore,
): { x: number; y: number } {
  const height = known ? known.sums.length / known.width : 0;
  const inside = known !== undefined && known.x === x && known.y === y &&
    x - 1 >= known.x0 && x + 1 < known.x0 + known.width &&
    y - 1 >= known.y0 && y + 1 < known.y0 + height;
  const ws = inside
    ? known
    : scoreWindow(layers, x - 1, y - 1, x + 1, y + 1, x, y);
  if (!ws || ws.x !== x || ws.y !== y) return { x, y };
  const at = (i: number, j: number) => {
    const c = (y + j - ws.y0) * ws.width + (x + i - ws.x0);
    return ws.counts[c] === ws.count ? ws.sums[c] : NaN;
  };
  return {
    x: x + parabolicOffset(at(-1, 0), at(0, 0), at(1, 0)),
    y: y + parabolicOffset(at(0, -1), at(0, 0), at(0, 1)),
  };
}

// ---------------------------------------------------------------------------
// refine

function refine(
  pairs: readonly RefinePair[],
  guess: Placement,
  radius: number,
  o: TemplateOptions,
): Placement {
  if (pairs.length === 0) throw new RangeError("refine: no pairs");
  const r = Math.max(0, Math.floor(radius));
  const gx = Math.round(guess.x), gy = Math.round(guess.y);
  const precision = precisionLevel(o.refinePrecision);
  const bounds: Bounds = { x0: gx - r, y0: gy - r, x1: gx + r, y1: gy + r };
  let best: SizedScore | undefined;
  let layersFor: (size: TemplateSize) => Layer[];
  let reference: (size: TemplateSize) => GrayImage;
  if (guess.scale === 1) {
    const templates = pairs.map((p) => prepareTemplate(p.fg));
    layersFor = () =>
      pairs.map((p, k) => ({
        image: p.bg,
        originX: p.originX,
        originY: p.originY,
        template: templates[k],
      }));
    reference = () => pairs[0].fg;
    const size = {
      width: pairs[0].fg.width,
      height: pairs[0].fg.height,
      scale: 1,
    };
    const window = scoreWindow(
      layersFor(size),
      gx - r,
      gy - r,
      gx + r,
      gy + r,
      gx,
      gy,
    );
    best = window && { size, window };
  } else {
    const fgT = new FgTemplates(pairs.map((p) => p.fg));
    layersFor = (size) =>
      pairs.map((p, k) => ({
        image: p.bg,
        originX: p.originX,
        originY: p.originY,
        template: fgT.prepared(k, size.width, size.height),
      }));
    reference = (size) => fgT.image(0, size.width, size.height);
    best = refineScaled(pairs, guess.scale, bounds, fgT, layersFor, o);
  }
  if (!best) {
    throw new RangeError(
      `refine: the fg does not fit in any bg window within ${r} px of (${gx}, ${gy})`,
    );
  }
  if (precision >= 3) {
    best = phaseCheck(
      best,
      layersFor(best.size),
      reference(best.size),
      o,
      bounds,
    );
  }
  const { x, y } = precision >= 4
    ? subpixel(
      layersFor(best.size),
      best.window.x,
      best.window.y,
      best.window,
    )
    : best.window;
  return {
    x,
    y,
    scale: guess.scale === 1 ? 1 : best.size.scale,
    confidence: clamp01(best.window.sum / best.window.count),
  };
}

/**
 * Scaled refinement: scales within ± `refineScaleRange` of the guess and
 * positions within the bounds, first at a pyramid level where the template
 * is small (there every scale of the range is cheap to try), then level by
 * level in ± `scaleRefineSteps` pixels of template size and ±2 px, down to
 * full resolution and the 0.1% grid; all pairs summed.
 */
function refineScaled(
  pairs: readonly RefinePair[],
  s0: number,
  bounds: Bounds,
  fgT: FgTemplates,
  layers0: (size: TemplateSize) => Layer[],
  o: TemplateOptions,
): SizedScore | undefined {
  const fw = pairs[0].fg.width, fh = pairs[0].fg.height;
  for (const p of pairs) {
    if (p.fg.width !== fw || p.fg.height !== fh) {
      throw new RangeError("refine: fg frames differ in size");
    }
  }
  if (!(s0 > 0)) throw new RangeError(`refine: scale ${s0} is not positive`);
  const denom = Math.max(1, Math.round(1 / o.scaleStep));
  const spanRange = Math.max(1 / denom, o.refineScaleRange);
  const range: ScaleRange = {
    denom,
    first: Math.max(1, Math.ceil((s0 - spanRange) * denom - 1e-9)),
    last: Math.floor((s0 + spanRange) * denom + 1e-9),
    fw,
    fh,
  };
  const maxDim = Math.max(fw, fh);
  const w0 = Math.round(fw * s0), h0 = Math.round(fh * s0);
  // Start where the template has ~1e5 pixels: every scale of the range is
  // cheap to try there; full resolution then only checks a few.
  let top = 0;
  while (
    top < 4 && (w0 * h0) / 4 ** top > 1e5 &&
    Math.min(w0, h0) >> (top + 1) >= 24
  ) top++;
  const m = 2 ** top;
  // Windows cropped to origins divisible by 2^top, so every level's origin
  // is a whole pixel.
  const aligned = pairs.map((p) => {
    const px = Math.round(p.originX), py = Math.round(p.originY);
    const ox = ((m - (px % m)) % m + m) % m, oy = ((m - (py % m)) % m + m) % m;
    const crop = top === 0 ? p.bg : cropFrame({ ...p.bg, channels: 1 }, {
      x: ox,
      y: oy,
      width: p.bg.width - ox,
      height: p.bg.height - oy,
    });
    return { pyr: pyramid(crop, top), originX: px + ox, originY: py + oy };
  });
  const layersAt = (l: number, size: TemplateSize): Layer[] =>
    l === 0 ? layers0(size) : pairs.map((_, k) => ({
      image: aligned[k].pyr[l],
      originX: aligned[k].originX / 2 ** l,
      originY: aligned[k].originY / 2 ** l,
      template: fgT.prepared(k, size.width, size.height, true),
    }));
  const steps = Math.max(1, o.scaleRefineSteps);
  let best: SizedScore | undefined;
  let scale = s0, x = 0, y = 0;
  for (let l = top; l >= 0; l--) {
    const f = 2 ** l;
    if (l > 0 && aligned.some((a) => a.pyr.length <= l)) continue;
    const lb: Bounds = {
      x0: Math.floor(bounds.x0 / f),
      y0: Math.floor(bounds.y0 / f),
      x1: Math.ceil(bounds.x1 / f),
      y1: Math.ceil(bounds.y1 / f),
    };
    const images = l === 0
      ? pairs.map((p) => p.bg)
      : aligned.map((a) => a.pyr[l]);
    const fitW = Math.min(...images.map((i) => i.width));
    const fitH = Math.min(...images.map((i) => i.height));
    const first = best === undefined;
    const cx = first ? Math.round((lb.x0 + lb.x1) / 2) : 2 * x;
    const cy = first ? Math.round((lb.y0 + lb.y1) / 2) : 2 * y;
    const reach = first
      ? Math.max(lb.x1 - lb.x0, lb.y1 - lb.y0)
      : Math.max(1, Math.floor(o.refineRadius));
    const found = searchSizes(
      range,
      scale,
      first ? spanRange : steps * f / maxDim,
      l,
      fitW,
      fitH,
      (size) => layersAt(l, size),
      cx,
      cy,
      reach,
      lb,
    );
    if (!found) continue;
    best = found;
    scale = found.size.scale;
    x = found.window.x;
    y = found.window.y;
    if (l === 0) return best;
  }
  return undefined;
}
