/**
 * Finding a video's black bars (letterbox top/bottom, pillarbox left/right)
 * from a few small gray frames, and mapping the content rectangle found there
 * to full-resolution pixels.
 *
 * A row or column is a bar only when it is near-black and flat in EVERY
 * given frame: one frame of a dark scene has near-black rows too, but across
 * well-spread frames only the bars stay black. The line where bar meets
 * content is often a blend (an analysis frame row straddling the boundary,
 * or a soft line left by scaling and compression); that line is measured and
 * trimmed, partly or wholly, so the content rectangle holds no bar pixels.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";
import type { Rect } from "./frame_reader.ts";

/**
 * The content region of a frame (everything but the bars), a crop rectangle
 * like the decoder's. From {@link detectContent} its edges are in the
 * analysed frames' pixels and may be fractional where an edge line was a
 * blend of bar and content; {@link scaleRect} makes them whole and even.
 */
export type ContentRect = Rect;

/** A width and a height in pixels. */
export interface Size {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/** Thresholds of {@link detectContent}; the defaults suit 8-bit video. */
export interface DetectContentOptions {
  /**
   * Highest mean luma of a bar line. Limited-range black is 16; 24 leaves
   * room for compression noise and for full-range black (0) alike.
   */
  readonly blackLevel?: number;
  /**
   * Highest standard deviation of the pixels along a bar line: compression
   * noise on a bar stays well below it, picture texture does not.
   */
  readonly maxDeviation?: number;
  /**
   * Smallest share of a dimension the content must keep. When bars would
   * leave less (a black or nearly black video), nothing can be told apart
   * and that dimension is taken whole.
   */
  readonly minContent?: number;
}

/** Contrast share above which the first content line counts as pure content. */
const PURE_CONTENT = 0.95;

/** Least mean |luma − bar| of the inner lines for a frame to judge an edge line. */
const MIN_EDGE_CONTRAST = 6;

/** Lines further in whose mean contrast a possible blend line is compared with. */
const REFERENCE_LINES = 4;

/** Lines beyond the bars that may be trimmed as a soft edge. */
const MAX_SOFT_LINES = 2;

/**
 * The content rectangle of frames that share one size: the frame minus the
 * black bars found in every frame. Bars are looked for on all four sides
 * (letterbox, pillarbox, or both). Without bars, the whole frame.
 *
 * Edges are integers except where the first line inside a bar is a blend:
 * then the edge moves into that line by the share of it that is bar, as
 * estimated from its contrast against the lines further in (e.g. 10.25 for
 * a line a quarter bar). A flat, unchanging line next to a bar (a soft edge
 * line) is trimmed whole. Never empty.
 *
 * @throws RangeError when no frames are given or their sizes differ.
 */
export function detectContent(
  frames: readonly GrayImage[],
  options: DetectContentOptions = {},
): ContentRect {
  if (frames.length === 0) throw new RangeError("no frames to look at");
  const { width, height } = frames[0];
  for (const f of frames) {
    if (f.width !== width || f.height !== height) {
      throw new RangeError(
        `frames differ in size: ${width}×${height} and ${f.width}×${f.height}`,
      );
    }
  }
  const settings = {
    blackLevel: options.blackLevel ?? 24,
    maxDeviation: options.maxDeviation ?? 8,
    minContent: options.minContent ?? 0.1,
  };
  const stats = frames.map(lineStats);
  const rows = contentSpan(
    stats.map((s) => s.rows),
    frames,
    "row",
    settings,
  );
  const cols = contentSpan(
    stats.map((s) => s.cols),
    frames,
    "col",
    settings,
  );
  return {
    x: cols.start,
    y: rows.start,
    width: cols.end - cols.start,
    height: rows.end - rows.start,
  };
}

/**
 * Maps a content rectangle from analysis frames of size `from` to frames of
 * size `to`, rounding INWARD to even coordinates and sizes (yuv420 chroma
 * covers 2×2 pixels, so an odd crop would mix a bar's chroma into the edge).
 * Inward, because the composed content must not include bar pixels: a side
 * loses less than two content lines to the rounding, and keeps no bar line. A side that
 * touches the frame border stays on it (there is no bar there), except that
 * an odd far border drops its last line to keep the size even. At least 2×2.
 */
export function scaleRect(
  rect: ContentRect,
  from: Size,
  to: Size,
): ContentRect {
  const sx = to.width / from.width, sy = to.height / from.height;
  const [x0, x1] = inwardEven(
    rect.x * sx,
    (rect.x + rect.width) * sx,
    to.width,
  );
  const [y0, y1] = inwardEven(
    rect.y * sy,
    (rect.y + rect.height) * sy,
    to.height,
  );
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** An even span [a, b) inside [lo, hi) of a line of `size` pixels. */
function inwardEven(lo: number, hi: number, size: number): [number, number] {
  // Products like 11 × 4 / 1 can land a hair off an integer; that is not a
  // blend and must not cost two lines.
  const snap = (v: number) =>
    Math.abs(v - Math.round(v)) < 1e-6 ? Math.round(v) : v;
  let a = 2 * Math.ceil(Math.max(0, snap(lo)) / 2);
  let b = 2 * Math.floor(Math.min(size, snap(hi)) / 2);
  if (b - a < 2) {
    // Too thin to round inward: the even pair nearest its middle.
    if (size < 2) return [0, size];
    const mid = (lo + hi) / 2;
    a = Math.max(0, Math.min(size - 2, 2 * Math.round((mid - 1) / 2)));
    a -= a % 2;
    b = a + 2;
  }
  return [a, b];
}

/** Per-line mean and standard deviation of one frame. */
interface LineStats {
  readonly mean: Float64Array;
  readonly deviation: Float64Array;
}

/** Row and column statistics of one frame, in one pass over its pixels. */
function lineStats(frame: GrayImage): { rows: LineStats; cols: LineStats } {
  const { width: w, height: h, data } = frame;
  const rowSum = new Float64Array(h), rowSq = new Float64Array(h);
  const colSum = new Float64Array(w), colSq = new Float64Array(w);
  for (let y = 0, p = 0; y < h; y++) {
    let s = 0, q = 0;
    for (let x = 0; x < w; x++, p++) {
      const v = data[p];
      s += v;
      q += v * v;
      colSum[x] += v;
      colSq[x] += v * v;
    }
    rowSum[y] = s;
    rowSq[y] = q;
  }
  return { rows: finish(rowSum, rowSq, w), cols: finish(colSum, colSq, h) };
}

function finish(sum: Float64Array, sq: Float64Array, n: number): LineStats {
  const mean = new Float64Array(sum.length);
  const deviation = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) {
    const m = sum[i] / n;
    mean[i] = m;
    deviation[i] = Math.sqrt(Math.max(0, sq[i] / n - m * m));
  }
  return { mean, deviation };
}

/** The settings with defaults filled in. */
interface Settings {
  readonly blackLevel: number;
  readonly maxDeviation: number;
  readonly minContent: number;
}

/** The content's extent [start, end) along one axis. */
function contentSpan(
  stats: readonly LineStats[],
  frames: readonly GrayImage[],
  axis: "row" | "col",
  settings: Settings,
): { start: number; end: number } {
  const n = stats[0].mean.length;
  const isBar = (i: number) =>
    stats.every((s) =>
      s.mean[i] <= settings.blackLevel &&
      s.deviation[i] <= settings.maxDeviation
    );
  let lead = 0;
  while (lead < n && isBar(lead)) lead++;
  let trail = 0;
  while (trail < n - lead && isBar(n - 1 - trail)) trail++;
  const inner = n - lead - trail;
  if (inner < Math.max(2, settings.minContent * n)) return { start: 0, end: n };
  if (lead === 0 && trail === 0) return { start: 0, end: n };

  // The bar's own level, so a blend's contrast is measured from it.
  let level = 0, count = 0;
  for (const s of stats) {
    for (let i = 0; i < lead; i++, count++) level += s.mean[i];
    for (let i = n - trail; i < n; i++, count++) level += s.mean[i];
  }
  level /= count;
  const edge = { frames, axis, stats, level, settings };
  const start = lead > 0 ? lead + softEdge(edge, lead, +1, n - trail) : 0;
  const end = trail > 0
    ? n - trail - softEdge(edge, n - 1 - trail, -1, lead - 1)
    : n;
  return end - start >= 1 ? { start, end } : { start: lead, end: n - trail };
}

/** What the soft-edge measurement needs. */
interface EdgeContext {
  readonly frames: readonly GrayImage[];
  readonly axis: "row" | "col";
  readonly stats: readonly LineStats[];
  readonly level: number;
  readonly settings: Settings;
}

/**
 * How much of the content side next to a bar is still bar, in lines: the
 * first line `first` (stepping `step` inward, never reaching `limit`) is
 * compared with the mean of the few lines beyond it. A blend of bar and content keeps
 * the content's share of its contrast against the bar level (area scaling
 * mixes linearly), so that share estimates how much of the line is content.
 */
function softEdge(
  ctx: EdgeContext,
  first: number,
  step: 1 | -1,
  limit: number,
): number {
  let trimmed = 0;
  for (let k = 0; k < MAX_SOFT_LINES; k++) {
    const line = first + k * step;
    if ((line + REFERENCE_LINES * step - limit) * step >= 0) break;
    if (isFlatLine(ctx, line)) {
      trimmed += 1;
      continue;
    }
    let own = 0, inside = 0;
    for (let f = 0; f < ctx.frames.length; f++) {
      let beyond = 0;
      for (let r = 1; r <= REFERENCE_LINES; r++) {
        beyond += contrast(ctx, f, line + r * step);
      }
      beyond /= REFERENCE_LINES;
      if (beyond < MIN_EDGE_CONTRAST) continue;
      own += contrast(ctx, f, line);
      inside += beyond;
    }
    if (inside === 0) break;
    const share = own / inside;
    if (share < PURE_CONTENT) trimmed += 1 - Math.max(0, share);
    break;
  }
  return trimmed;
}

/**
 * A soft edge line: flat along its length and the same in every frame, yet
 * too bright to be bar (a gray rule, or a bar edge lifted by ringing).
 */
function isFlatLine(ctx: EdgeContext, line: number): boolean {
  let lo = Infinity, hi = -Infinity;
  for (const s of ctx.stats) {
    if (s.deviation[line] > ctx.settings.maxDeviation) return false;
    lo = Math.min(lo, s.mean[line]);
    hi = Math.max(hi, s.mean[line]);
  }
  return ctx.frames.length > 1 && hi - lo <= ctx.settings.maxDeviation / 2;
}

/** Mean |luma − bar level| along one line of frame `f`. */
function contrast(ctx: EdgeContext, f: number, line: number): number {
  const { width, height, data } = ctx.frames[f];
  let sum = 0;
  if (ctx.axis === "row") {
    for (let x = 0, p = line * width; x < width; x++, p++) {
      sum += Math.abs(data[p] - ctx.level);
    }
    return sum / width;
  }
  for (let y = 0, p = line; y < height; y++, p += width) {
    sum += Math.abs(data[p] - ctx.level);
  }
  return sum / height;
}
