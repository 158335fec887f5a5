/**
 * The visual report of a run (`--plot FILE.png`): the frame map (fg index
 * across, bg index up) over the line the frame rates and the offset predict,
 * the per-frame similarity (and validator confidence) underneath on the same
 * x axis with the match threshold, and a strip of matched fg/bg thumbnails.
 *
 * Where the alignment is unsure shows at a glance: every pixel column is
 * coloured by the worst similarity of the frames it covers (green sure,
 * amber doubtful, red no match), in the map's line, its background and the
 * similarity bars, so a single bad frame among thousands still shows.
 *
 * Layout ({@link PLOT_WIDTH} × {@link PLOT_HEIGHT} pixels, see
 * {@link plotGeometry}): a header with the title, figures and legend; the
 * frame map; the similarity panel; the thumbnail strip, each pair labelled
 * with a letter that also marks its frame under the map.
 *
 * @module
 */

import { basename } from "node:path";
import { Canvas, type Rgb, textWidth } from "./_plot_canvas.ts";
import { spreadIndices } from "./coarse_scan.ts";
import type { GrayImage } from "./frame.ts";
import type { Rect } from "./frame_reader.ts";
import { grabGray } from "./frame_grab.ts";
import { prepareOutput, removeQuietly, temporaryPath } from "./output_path.ts";
import { type CompositeResult, MATCH_THRESHOLD } from "./pipeline.ts";
import { analysisRegions } from "./placement.ts";
import type { MediaInfo } from "./probe.ts";

/** One matched pair shown in the thumbnail strip. */
export interface PlotThumb {
  /** fg frame index. */
  readonly fgIndex: number;
  /** bg frame index it was matched to. */
  readonly bgIndex: number;
  /** The fg frame (or the part of it that lies inside the bg). */
  readonly fg: GrayImage;
  /** The bg frame under the placement. */
  readonly bg: GrayImage;
}

/** What {@link renderPlot} draws. */
export interface PlotData {
  /** bg frame index for every fg frame. */
  readonly frameMap: Int32Array;
  /** fg frame rate. */
  readonly fgFps: number;
  /** bg frame rate. */
  readonly bgFps: number;
  /** bg time minus fg time of the same moment, in seconds. */
  readonly offsetSeconds: number;
  /** Similarity of each matched pair, 0..1, one per fg frame. */
  readonly similarity: Float32Array;
  /** Validator confidence per fg frame (NaN = not validated). */
  readonly confidence?: Float32Array;
  /** Matched pairs for the thumbnail strip (at most {@link MAX_THUMBS}). */
  readonly thumbs: readonly PlotThumb[];
  /** Heading; defaults to none. */
  readonly title?: string;
  /** Similarity at which a frame counts as matched (default {@link MATCH_THRESHOLD}). */
  readonly threshold?: number;
}

/** Width of every plot in pixels. */
export const PLOT_WIDTH = 1200;
/** Height of every plot in pixels. */
export const PLOT_HEIGHT = 760;
/** Most thumbnail pairs the strip holds. */
export const MAX_THUMBS = 8;

/** Colours of the plot, by meaning (0xRRGGBB). */
export const PLOT_COLORS = {
  /** Similarity well above the threshold. */
  sure: 0x2ca02c,
  /** Matched, but not by much. */
  doubtful: 0xf0a020,
  /** Below the match threshold. */
  noMatch: 0xd62728,
  /** Map background behind doubtful columns. */
  doubtfulBackground: 0xfff0d0,
  /** Map background behind columns below the threshold. */
  noMatchBackground: 0xfbd5d5,
  /** The line the fps ratio and the offset predict. */
  fpsLine: 0x6a8fd8,
  /** Validator confidence. */
  confidence: 0x1f3fbf,
  /** The match threshold. */
  threshold: 0x404040,
  /** Panel background. */
  background: 0xffffff,
  /** Grid lines. */
  grid: 0xe4e4e4,
  /** Frames, ticks and text. */
  ink: 0x202020,
} as const;

/** Quality of a similarity value: 0 no match, 1 doubtful, 2 sure. */
export type SimilarityClass = 0 | 1 | 2;

/**
 * Classifies a similarity: below `threshold` no match; sure from halfway
 * between the threshold and 1; doubtful in between. NaN counts as no match.
 */
export function similarityClass(
  value: number,
  threshold = MATCH_THRESHOLD,
): SimilarityClass {
  if (!(value >= threshold)) return 0;
  return value >= threshold + (1 - threshold) / 2 ? 2 : 1;
}

const CLASS_COLORS: readonly Rgb[] = [
  PLOT_COLORS.noMatch,
  PLOT_COLORS.doubtful,
  PLOT_COLORS.sure,
];
const CLASS_BACKGROUNDS: readonly Rgb[] = [
  PLOT_COLORS.noMatchBackground,
  PLOT_COLORS.doubtfulBackground,
  PLOT_COLORS.background,
];

/** Where everything sits in a plot of some data. */
export interface PlotGeometry {
  /** Image width ({@link PLOT_WIDTH}). */
  readonly width: number;
  /** Image height ({@link PLOT_HEIGHT}). */
  readonly height: number;
  /** The frame map's drawing area. */
  readonly map: Rect;
  /** The similarity panel's drawing area (same x extent as `map`). */
  readonly similarity: Rect;
  /** The bg index range the map's y axis spans, bottom to top. */
  readonly bgRange: readonly [number, number];
  /** Each thumbnail pair's boxes (the images are fitted inside, centred). */
  readonly thumbs: readonly { readonly fg: Rect; readonly bg: Rect }[];
  /** The pixel column showing fg frame `i` (in both panels). */
  fgX(i: number): number;
  /** The row of bg index `j` in the map panel. */
  bgY(j: number): number;
  /** The row of similarity `v` (0..1) in the similarity panel. */
  simY(v: number): number;
  /** The fg frames a pixel column covers (inclusive range). */
  columnFrames(x: number): readonly [number, number];
  /** The bg index the fps ratio and the offset predict for fg frame `i`. */
  expectedBg(i: number): number;
}

const LEFT = 72;
const RIGHT = 16;
const MAP_TOP = 56;
const MAP_HEIGHT = 330;
const SIM_TOP = 440;
const SIM_HEIGHT = 110;
const STRIP_TOP = 596;
const STRIP_LABEL = 14;
const THUMB_HEIGHT = 140;
const TEXT = 2;

function checkData(data: PlotData): void {
  const n = data.frameMap.length;
  if (n === 0) throw new RangeError("nothing to plot: the frame map is empty");
  if (data.similarity.length !== n) {
    throw new RangeError(
      `similarity has ${data.similarity.length} values for ${n} fg frames`,
    );
  }
  if (data.confidence && data.confidence.length !== n) {
    throw new RangeError(
      `confidence has ${data.confidence.length} values for ${n} fg frames`,
    );
  }
  if (!(data.fgFps > 0) || !(data.bgFps > 0)) {
    throw new RangeError(
      `frame rates must be positive: fg ${data.fgFps}, bg ${data.bgFps}`,
    );
  }
  if (!Number.isFinite(data.offsetSeconds)) {
    throw new RangeError(`offset must be finite: ${data.offsetSeconds}`);
  }
  if (data.thumbs.length > MAX_THUMBS) {
    throw new RangeError(
      `at most ${MAX_THUMBS} thumbnail pairs, got ${data.thumbs.length}`,
    );
  }
}

/** The layout of a plot of `data`: panels, axes and thumbnail boxes. */
export function plotGeometry(data: PlotData): PlotGeometry {
  checkData(data);
  const n = data.frameMap.length;
  const plotWidth = PLOT_WIDTH - LEFT - RIGHT;
  const map: Rect = {
    x: LEFT,
    y: MAP_TOP,
    width: plotWidth,
    height: MAP_HEIGHT,
  };
  const similarity: Rect = {
    x: LEFT,
    y: SIM_TOP,
    width: plotWidth,
    height: SIM_HEIGHT,
  };
  const expectedBg = (i: number) =>
    (i / data.fgFps + data.offsetSeconds) * data.bgFps;
  // The y axis holds the map and the predicted line, with a little room.
  let lo = Math.min(expectedBg(0), expectedBg(n - 1));
  let hi = Math.max(expectedBg(0), expectedBg(n - 1));
  for (const j of data.frameMap) {
    if (j < lo) lo = j;
    if (j > hi) hi = j;
  }
  const pad = Math.max(1, (hi - lo) * 0.04);
  lo = Math.floor(lo - pad);
  hi = Math.ceil(hi + pad);
  const thumbs = data.thumbs.map((_, k) => {
    const cell = (PLOT_WIDTH - 16) / data.thumbs.length;
    const x = 8 + k * cell;
    const box = (cell - 20) / 2;
    const y = STRIP_TOP + STRIP_LABEL + 4;
    return {
      fg: {
        x: Math.round(x + 6),
        y,
        width: Math.floor(box),
        height: THUMB_HEIGHT,
      },
      bg: {
        x: Math.round(x + 14 + box),
        y,
        width: Math.floor(box),
        height: THUMB_HEIGHT,
      },
    };
  });
  return {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    map,
    similarity,
    bgRange: [lo, hi],
    thumbs,
    fgX: (i) =>
      LEFT + Math.min(plotWidth - 1, Math.floor(((i + 0.5) * plotWidth) / n)),
    bgY: (j) =>
      MAP_TOP + MAP_HEIGHT - 1 -
      Math.round(((j - lo) / (hi - lo)) * (MAP_HEIGHT - 1)),
    simY: (v) =>
      SIM_TOP + SIM_HEIGHT - 1 -
      Math.round(Math.min(1, Math.max(0, v)) * (SIM_HEIGHT - 1)),
    columnFrames: (x) => {
      const c = x - LEFT;
      const first = Math.floor((c * n) / plotWidth);
      const last = Math.ceil(((c + 1) * n) / plotWidth) - 1;
      return [Math.max(0, first), Math.min(n - 1, Math.max(first, last))];
    },
    expectedBg,
  };
}

/** "Nice" tick spacing (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = Math.max(span / count, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function signed(v: number, digits: number): string {
  return `${v >= 0 ? "+" : ""}${v.toFixed(digits)}`;
}

/** Draws the plot and returns it as PNG bytes ({@link PLOT_WIDTH} × {@link PLOT_HEIGHT}). */
export function renderPlot(data: PlotData): Promise<Uint8Array> {
  return drawPlot(data).encodePng();
}

/** Draws the plot onto a canvas (what {@link renderPlot} encodes). */
function drawPlot(data: PlotData): Canvas {
  const g = plotGeometry(data);
  const n = data.frameMap.length;
  const threshold = data.threshold ?? MATCH_THRESHOLD;
  const c = new Canvas(g.width, g.height, PLOT_COLORS.background);
  const { map, similarity: sim } = g;
  const ink = PLOT_COLORS.ink;

  // Per pixel column: the frames it covers, their worst similarity, and the
  // span of bg indices they map to.
  const columns = map.width;
  const worst = new Float32Array(columns);
  const low = new Int32Array(columns), high = new Int32Array(columns);
  const conf = new Float32Array(columns);
  let matched = 0, sum = 0;
  for (let i = 0; i < n; i++) {
    const v = data.similarity[i];
    if (v >= threshold) matched++;
    sum += Number.isFinite(v) ? v : 0;
  }
  for (let x = 0; x < columns; x++) {
    const [a, b] = g.columnFrames(map.x + x);
    let w = Infinity, lo = Infinity, hi = -Infinity, cs = 0, cn = 0;
    for (let i = a; i <= b; i++) {
      const v = data.similarity[i];
      w = Number.isFinite(v) ? Math.min(w, v) : -Infinity;
      lo = Math.min(lo, data.frameMap[i]);
      hi = Math.max(hi, data.frameMap[i]);
      const q = data.confidence?.[i];
      if (q !== undefined && Number.isFinite(q)) {
        cs += q;
        cn++;
      }
    }
    worst[x] = w;
    low[x] = lo;
    high[x] = hi;
    conf[x] = cn > 0 ? cs / cn : NaN;
  }

  // Header: title, figures, legend.
  const figures = `OFFSET ${signed(data.offsetSeconds, 3)} S   FPS ${+data.fgFps
    .toFixed(3)} -> ${+data.bgFps.toFixed(
      3,
    )}   MATCHED ${matched}/${n}   MEAN ${(sum / n).toFixed(3)}`;
  c.text(8, 22, figures, ink, TEXT);
  const legend: [string, Rgb][] = [
    ["SURE", PLOT_COLORS.sure],
    ["DOUBTFUL", PLOT_COLORS.doubtful],
    ["NO MATCH", PLOT_COLORS.noMatch],
    ["FPS LINE", PLOT_COLORS.fpsLine],
    ["THRESHOLD", PLOT_COLORS.threshold],
    ...(data.confidence
      ? [["CONFIDENCE", PLOT_COLORS.confidence] as [string, Rgb]]
      : []),
  ];
  let lx = g.width - RIGHT;
  for (let k = legend.length - 1; k >= 0; k--) {
    const [label, color] = legend[k];
    lx -= textWidth(label, TEXT);
    c.text(lx, 6, label, ink, TEXT);
    lx -= 14;
    c.fillRect(lx, 5, 10, 12, color);
    lx -= 14;
  }
  // The title gets what the legend leaves of the first line.
  let title = data.title ?? "";
  while (title.length > 0 && 8 + textWidth(title, TEXT) > lx - 16) {
    title = title.slice(0, -4) + "...";
    if (title === "...") title = "";
  }
  c.text(8, 6, title, ink, TEXT);

  // Frame map: coloured column backgrounds, grid, predicted line, the map.
  for (let x = 0; x < columns; x++) {
    const bgColor = CLASS_BACKGROUNDS[similarityClass(worst[x], threshold)];
    if (bgColor !== PLOT_COLORS.background) {
      c.fillRect(map.x + x, map.y, 1, map.height, bgColor);
    }
  }
  const [bgLo, bgHi] = g.bgRange;
  const yStep = tickStep(bgHi - bgLo, 6);
  for (let j = Math.ceil(bgLo / yStep) * yStep; j <= bgHi; j += yStep) {
    const y = g.bgY(j);
    c.fillRect(map.x, y, map.width, 1, PLOT_COLORS.grid);
    const label = String(j);
    c.text(map.x - 8 - textWidth(label, TEXT), y - 5, label, ink, TEXT);
  }
  const xStep = tickStep(n, 10);
  for (let i = 0; i < n; i += xStep) {
    const x = g.fgX(i);
    c.fillRect(x, map.y, 1, map.height, PLOT_COLORS.grid);
    c.fillRect(x, sim.y, 1, sim.height, PLOT_COLORS.grid);
    const label = String(i);
    const lxi = Math.min(
      g.width - textWidth(label, TEXT) - 2,
      x - textWidth(label, TEXT) / 2,
    );
    c.text(lxi, map.y + map.height + 6, label, ink, TEXT);
    c.text(lxi, sim.y + sim.height + 6, label, ink, TEXT);
  }
  c.text(8, map.y - 14, "BG FRAME", ink, TEXT);
  c.line(
    map.x,
    g.bgY(g.expectedBg(0)),
    map.x + map.width - 1,
    g.bgY(g.expectedBg(n - 1)),
    PLOT_COLORS.fpsLine,
  );
  for (let x = 0; x < columns; x++) {
    // Join each column to the previous one so steps stay connected.
    let top = g.bgY(high[x]), bottom = g.bgY(low[x]);
    if (x > 0) {
      top = Math.min(top, g.bgY(low[x - 1]));
      bottom = Math.max(bottom, g.bgY(high[x - 1]));
    }
    c.fillRect(
      map.x + x,
      top - 1,
      1,
      bottom - top + 3,
      CLASS_COLORS[similarityClass(worst[x], threshold)],
    );
  }
  c.strokeRect(map.x - 1, map.y - 1, map.width + 2, map.height + 2, ink);

  // Similarity panel: bars coloured by class, threshold, confidence.
  c.text(
    8,
    sim.y - 18,
    data.confidence ? "SIMILARITY AND CONFIDENCE" : "SIMILARITY",
    ink,
    TEXT,
  );
  for (let x = 0; x < columns; x++) {
    const v = Number.isFinite(worst[x]) ? worst[x] : 0;
    const top = g.simY(v);
    c.fillRect(
      sim.x + x,
      top,
      1,
      sim.y + sim.height - top,
      CLASS_COLORS[similarityClass(worst[x], threshold)],
    );
  }
  c.fillRect(sim.x, g.simY(threshold), sim.width, 1, PLOT_COLORS.threshold);
  for (
    const [v, label] of [[0, "0"], [threshold, String(threshold)], [
      1,
      "1",
    ]] as const
  ) {
    c.text(sim.x - 8 - textWidth(label, TEXT), g.simY(v) - 5, label, ink, TEXT);
  }
  if (data.confidence) {
    for (let x = 0; x < columns; x++) {
      if (!Number.isFinite(conf[x])) continue;
      let top = g.simY(conf[x]), bottom = top;
      if (x > 0 && Number.isFinite(conf[x - 1])) {
        top = Math.min(top, g.simY(conf[x - 1]));
        bottom = Math.max(bottom, g.simY(conf[x - 1]));
      }
      c.fillRect(sim.x + x, top, 1, bottom - top + 2, PLOT_COLORS.confidence);
    }
  }
  c.strokeRect(sim.x - 1, sim.y - 1, sim.width + 2, sim.height + 2, ink);
  const axis = "FG FRAME";
  c.text(
    g.width - RIGHT - textWidth(axis, TEXT),
    sim.y + sim.height + 22,
    axis,
    ink,
    TEXT,
  );

  // Thumbnails: letter-marked under the map, framed in their class colour.
  data.thumbs.forEach((t, k) => {
    const letter = String.fromCharCode(65 + k);
    const x = g.fgX(Math.max(0, Math.min(n - 1, t.fgIndex)));
    c.fillRect(x - 1, map.y + map.height + 1, 3, 4, ink);
    c.text(x - 2, map.y + map.height + 20, letter, ink, TEXT);
    const box = g.thumbs[k];
    const color = CLASS_COLORS[
      similarityClass(data.similarity[t.fgIndex] ?? NaN, threshold)
    ];
    c.text(
      box.fg.x,
      STRIP_TOP,
      `${letter}  FG ${t.fgIndex}  BG ${t.bgIndex}`,
      ink,
      TEXT,
    );
    for (const [img, r] of [[t.fg, box.fg], [t.bg, box.bg]] as const) {
      const drawn = c.image(img, r);
      for (let w = 1; w <= 2; w++) {
        c.strokeRect(
          drawn.x - w,
          drawn.y - w,
          drawn.width + 2 * w,
          drawn.height + 2 * w,
          color,
        );
      }
    }
  });
  return c;
}

/**
 * Writes the plot to `path` (PNG). The file appears only when complete
 * (temporary file, then rename); it is never one of `inputs`, and an
 * existing file is replaced only with `overwrite` (default true).
 */
export async function writePlot(
  path: string,
  data: PlotData,
  options: { inputs?: readonly string[]; overwrite?: boolean } = {},
): Promise<void> {
  const png = await renderPlot(data);
  await prepareOutput(path, options.inputs ?? [], options.overwrite ?? true);
  const temp = temporaryPath(path);
  try {
    await Deno.writeFile(temp, png);
    await Deno.rename(temp, path);
  } finally {
    await removeQuietly(temp);
  }
}

/** fg frames for the thumbnail strip: spread evenly, with the worst one among them. */
export function thumbIndices(
  similarity: Float32Array,
  count: number,
  threshold = MATCH_THRESHOLD,
): number[] {
  const picks = spreadIndices(similarity.length, count);
  let worst = -1;
  for (let i = 0; i < similarity.length; i++) {
    if (worst < 0 || !(similarity[i] >= similarity[worst])) worst = i;
  }
  if (
    worst >= 0 && !(similarity[worst] >= threshold) && !picks.includes(worst)
  ) {
    // Replace the nearest spread pick, so the strip shows the failure.
    let near = 0;
    for (let k = 1; k < picks.length; k++) {
      if (Math.abs(picks[k] - worst) < Math.abs(picks[near] - worst)) near = k;
    }
    picks[near] = worst;
    picks.sort((a, b) => a - b);
  }
  return picks;
}

/** Longest side of a decoded thumbnail in pixels (the strip shows them smaller). */
const THUMB_DECODE = 240;

async function grabFrame(
  info: MediaInfo,
  index: number,
  crop: Rect | undefined,
  signal?: AbortSignal,
): Promise<GrayImage> {
  const w0 = crop?.width ?? info.width, h0 = crop?.height ?? info.height;
  const s = Math.min(1, THUMB_DECODE / Math.max(w0, h0));
  const width = Math.max(1, Math.round(w0 * s));
  const height = Math.max(1, Math.round(h0 * s));
  try {
    const [frame] = await grabGray(
      info,
      index,
      1,
      { width, height },
      crop,
      signal,
    );
    return frame;
  } catch (err) {
    if (signal?.aborted) throw err;
    // A frame ffmpeg cannot deliver (past a truncated end) shows as black.
    return { width, height, data: new Uint8Array(width * height) };
  }
}

/**
 * The plot data of a finished run: its map and similarity, and `thumbs`
 * matched pairs (default 5) decoded from the inputs: the fg, and the bg
 * under the placement, the same region of both.
 */
export async function plotDataOf(
  result: CompositeResult,
  options: {
    thumbs?: number;
    title?: string;
    confidence?: Float32Array;
    signal?: AbortSignal;
  } = {},
): Promise<PlotData> {
  const regions = analysisRegions(
    result.fg,
    result.bg,
    result.placement,
    result.content,
  );
  const picks = thumbIndices(
    result.similarity,
    Math.min(MAX_THUMBS, options.thumbs ?? 5),
  );
  const thumbs: PlotThumb[] = [];
  for (const i of picks) {
    const j = result.frameMap[i];
    const [fg, bg] = await Promise.all([
      grabFrame(result.fg, i, regions.fg, options.signal),
      grabFrame(result.bg, j, regions.bg, options.signal),
    ]);
    thumbs.push({ fgIndex: i, bgIndex: j, fg, bg });
  }
  return {
    frameMap: result.frameMap,
    fgFps: result.fg.fps,
    bgFps: result.bg.fps,
    offsetSeconds: result.offsetSeconds,
    similarity: result.similarity,
    confidence: options.confidence ?? result.validation?.confidence,
    thumbs,
    title: options.title ??
      `${basename(result.fg.path)} over ${basename(result.bg.path)}`,
  };
}
