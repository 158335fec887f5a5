/**
 * `template` locator: finds where the fg's content sits inside the bg by
 * coarse-to-fine normalised cross-correlation (NCC).
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
 * NCC is invariant to gain and offset, so a regraded bg (levels, contrast)
 * still matches.
 *
 * @module
 */

import type { GrayImage } from "../core/frame.ts";
import {
  type IntegralImages,
  integralImages,
  nccMap,
  type PreparedTemplate,
  prepareTemplate,
  pyramid,
} from "../core/ncc.ts";
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
};

/** One hypothesis for one fg sample: bg sample and top-left at some level. */
interface Candidate {
  bg: number;
  x: number;
  y: number;
  score: number;
}

/** Per-sample outcome before voting. */
interface SampleBest extends Candidate {
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
    refine: (pairs, guess, radius) => refine(pairs, guess, radius),
  };
}

/** Registry entry of the `template` locator. */
export const plugin: PluginDefinition<"locator"> = {
  kind: "locator",
  name: "template",
  description:
    "Coarse-to-fine normalised cross-correlation over every fg×bg sample pair, with voting",
  create: (o) => createTemplate(o as Partial<TemplateOptions>),
};

// ---------------------------------------------------------------------------
// locate

function locate(request: LocateRequest, o: TemplateOptions): LocateResult {
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

  // A scale search (another issue) will loop over candidate scales here,
  // resizing the fg samples per scale and calling searchUnscaled on them.
  if (!request.unscaled) {
    throw new RangeError("scaled search not implemented yet");
  }
  if (fw > bw || fh > bh) {
    throw new RangeError(
      `locate: fg ${fw}×${fh} is larger than bg ${bw}×${bh}; an unscaled search cannot fit it`,
    );
  }
  const best = searchUnscaled(
    informative.map((k) => fg[k]),
    bg,
    o,
  ).map((b, i) => ({ ...b, fg: informative[i] }));
  return vote(best, 1, o);
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
  const short = Math.min(fw, fh);
  let maxLevel = 0;
  while ((short >> (maxLevel + 1)) >= Math.max(1, o.minCoarseSide)) maxLevel++;
  for (let l = 0; l < maxLevel; l++) {
    if (coarseWork(fw, fh, bw, bh, l, pairs) <= o.coarseBudget) return l;
  }
  return maxLevel;
}

/**
 * The best (bg sample, top-left, score) of each fg sample at scale 1, in the
 * samples' pixel scale. Samples are informative and fit inside the bg.
 */
function searchUnscaled(
  fg: readonly GrayImage[],
  bg: readonly GrayImage[],
  o: TemplateOptions,
): Candidate[] {
  const fw = fg[0].width, fh = fg[0].height;
  const bw = bg[0].width, bh = bg[0].height;
  const level = chooseLevel(fw, fh, bw, bh, fg.length * bg.length, o);

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
    for (let l = level - 1; l >= 0; l--) {
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
 * Clusters the per-sample positions (within `voteRadius` of a cluster's best
 * member) and picks the cluster with the highest total score.
 */
function vote(
  samples: SampleBest[],
  scale: number,
  o: TemplateOptions,
): LocateResult {
  const order = [...samples].sort((a, b) => b.score - a.score);
  const clusters: { seed: SampleBest; total: number }[] = [];
  for (const s of order) {
    const c = clusters.find((c) =>
      Math.abs(c.seed.x - s.x) <= o.voteRadius &&
      Math.abs(c.seed.y - s.y) <= o.voteRadius
    );
    // Negative correlations are evidence of nothing; they must not outvote.
    const weight = Math.max(0, s.score);
    if (c) c.total += weight;
    else clusters.push({ seed: s, total: weight });
  }
  let win = clusters[0];
  for (const c of clusters) if (c.total > win.total) win = c;
  const matches: SampleMatch[] = [...samples]
    .sort((a, b) => a.fg - b.fg)
    .map((s) => ({
      fg: s.fg,
      bg: s.bg,
      placement: { x: s.x, y: s.y, scale, confidence: clamp01(s.score) },
    }));
  return {
    placement: {
      x: win.seed.x,
      y: win.seed.y,
      scale,
      confidence: clamp01(win.seed.score),
    },
    matches,
  };
}

function clamp01(v: number): number {
  return v > 1 ? 1 : v > 0 ? v : 0;
}

// ---------------------------------------------------------------------------
// refine

function refine(
  pairs: readonly RefinePair[],
  guess: Placement,
  radius: number,
): Placement {
  if (pairs.length === 0) throw new RangeError("refine: no pairs");
  if (guess.scale !== 1) {
    throw new RangeError("scaled refine not implemented yet");
  }
  const r = Math.max(0, Math.floor(radius));
  const gx = Math.round(guess.x), gy = Math.round(guess.y);
  const side = 2 * r + 1;
  const cells = side * side;
  const sum = new Float64Array(cells);
  const count = new Int32Array(cells);
  const map = new Float32Array(cells);
  for (const p of pairs) {
    const lx = gx - r - p.originX, ly = gy - r - p.originY;
    nccMap(p.bg, prepareTemplate(p.fg), lx, ly, lx + side - 1, ly + side - 1, {
      out: map,
    });
    for (let i = 0; i < cells; i++) {
      const v = map[i];
      if (v === v) {
        sum[i] += v;
        count[i]++;
      }
    }
  }
  // Prefer positions every pair could score; then the summed score (the
  // consensus peak); then closeness to the guess (flat content ties at 0).
  let bi = -1;
  for (let i = 0; i < cells; i++) {
    if (count[i] === 0) continue;
    if (bi < 0 || count[i] > count[bi]) {
      bi = i;
      continue;
    }
    if (count[i] < count[bi]) continue;
    if (sum[i] > sum[bi]) bi = i;
    else if (sum[i] === sum[bi] && dist2(i, side, r) < dist2(bi, side, r)) {
      bi = i;
    }
  }
  if (bi < 0) {
    throw new RangeError(
      `refine: the fg does not fit in any bg window within ${r} px of (${gx}, ${gy})`,
    );
  }
  return {
    x: gx - r + (bi % side),
    y: gy - r + Math.floor(bi / side),
    scale: guess.scale,
    confidence: clamp01(sum[bi] / count[bi]),
  };
}

function dist2(i: number, side: number, r: number): number {
  const dx = (i % side) - r, dy = Math.floor(i / side) - r;
  return dx * dx + dy * dy;
}
