/**
 * `align`: where does the fg's content sit inside the bg? Each input is a
 * still picture or a video; the answer is the fg's top-left corner in bg
 * pixels, the scale mapping fg pixels onto bg pixels, and a confidence.
 *
 * The stages are comp's locate stage (core/coarse_scan.ts, the locator):
 *
 * 1. samples at the coarse scale (the bg at most 480×270): a still is
 *    resized in memory, a video is decoded once (`scanCoarse`) and
 *    `numFrames` informative fg frames are kept, spread over it; the bg
 *    keeps a wider spread, because the videos need not start together;
 * 2. `Locator.locate`: every fg sample against every bg sample, voting;
 * 3. (precision ≥ 2) `Locator.refine` at full resolution on the best
 *    pairs; for a bg video each pair's moment is then chosen among the bg
 *    frames around its sample (a sample a few frames off shows moving
 *    content a few pixels off), and the placement refined again on those
 *    same-moment pairs.
 *
 * comp's exact stage (core/placement.ts `exactPlacement`) is not reused for
 * step 3: it assumes scale 1 (its windows and clamps use the fg's own size)
 * and carries comp's re-alignment bookkeeping.
 *
 * @module
 */

import { grabGray } from "./frame_grab.ts";
import { scanCoarse, spreadIndices } from "./coarse_scan.ts";
import { fgLargerThanBg, InputError } from "./errors.ts";
import {
  cropFrame,
  type FrameFormat,
  type GrayImage,
  grayStdDev,
  resizeArea,
  toGray,
} from "./frame.ts";
import type { Rect } from "./frame_reader.ts";
import { type Logger, silentLogger } from "./log.ts";
import {
  downscale2,
  nccMap,
  type PreparedTemplate,
  prepareTemplate,
} from "./ncc.ts";
import { coarseSizes, refineHalvedFirst } from "./placement.ts";
import type { MediaInfo } from "./probe.ts";
import { type Registry, registry as defaultRegistry } from "./registry.ts";
import { loadStillGray, type Media, openMedia } from "./still_image.ts";
import type {
  LocateResult,
  Placement,
  RefinePair,
  SampleMatch,
} from "./types.ts";

/** Options of {@link alignMedia}. */
export interface AlignMediaOptions {
  /** The picture or video to find. */
  readonly fg: string;
  /** The picture or video to find it in. */
  readonly bg: string;
  /** 0 ballpark … 4 precise (default 2: coarse search + full-resolution refinement). */
  readonly precision?: number;
  /** fg video frames to match, spread over it (default 7). */
  readonly numFrames?: number;
  /** True (default): the fg is at exactly 100%; false: search scales 10–100%. */
  readonly unscaled?: boolean;
  /** Also search at the other scale mode and report it (default true). */
  readonly alternative?: boolean;
  /** Locator name (default `template`). */
  readonly locator?: string;
  /** Plugin registry (default: the built-in one). */
  readonly registry?: Registry;
  /** Reporting sink (default silent). */
  readonly logger?: Logger;
  /** Aborts decoding. */
  readonly signal?: AbortSignal;
}

/** One input as `align` saw it. */
export interface MediaSummary {
  /** The path as given. */
  readonly path: string;
  /** Still picture or video. */
  readonly kind: "image" | "video";
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Frames (1 for a still). */
  readonly frames: number;
  /** Frame rate, for videos. */
  readonly fps?: number;
}

/** A fg frame and the bg frame it was matched with. */
export interface FramePair {
  /** fg frame index (0 for a still). */
  readonly fg: number;
  /** bg frame index (0 for a still). */
  readonly bg: number;
}

/** The best placement in the scale mode not asked for. */
export interface AlignAlternative {
  /** Placement in bg pixels. */
  readonly placement: Placement;
  /** True: the 100% search; false: the scaled search. */
  readonly unscaled: boolean;
  /** Precision it was found at (the coarse search only: 0 or 1). */
  readonly precision: number;
}

/** What {@link alignMedia} found. */
export interface AlignMediaResult {
  /** Top-left of the fg in bg pixels, its scale, and the match's NCC. */
  readonly placement: Placement;
  /** Whether the confidence reaches {@link FOUND_CONFIDENCE}. */
  readonly found: boolean;
  /** The scale mode searched. */
  readonly unscaled: boolean;
  /** The precision level used. */
  readonly precision: number;
  /** The fg input. */
  readonly fg: MediaSummary;
  /** The bg input. */
  readonly bg: MediaSummary;
  /** fg frames that voted (blank or featureless frames do not). */
  readonly framesUsed: number;
  /** The frame pairs the final placement was measured on. */
  readonly pairs: readonly FramePair[];
  /** bg time minus fg time of the same moment, when both are videos. */
  readonly offsetSeconds?: number;
  /** The other scale mode's best placement, when it could be searched. */
  readonly alternatives: readonly AlignAlternative[];
  /** Why there is no alternative, when there is none. */
  readonly alternativeNote?: string;
  /** Seconds per stage, and `total`. */
  readonly timings: Record<string, number>;
}

/**
 * Confidence (NCC) from which the fg counts as found in the bg. Measured
 * here: true matches, re-encoded, regraded or noisy, score 0.98–1; a crop
 * of other content 0.36; a sharp picture over a blurred copy of itself (a
 * 35% thumbnail over its own blurred fill, searched at 100%) 0.73.
 */
export const FOUND_CONFIDENCE = 0.8;

/** Names of the precision levels, 0..4. */
export const PRECISION_NAMES: readonly string[] = [
  "ballpark",
  "coarse",
  "balanced",
  "fine",
  "precise",
];

/**
 * Template pixels above which the moment search halves fg and bg frames:
 * the moment shows in the picture as a whole, not in its finest detail.
 */
const MOMENT_TEMPLATE_PIXELS = 250_000;

/** Relative scale step of the moment search around a scaled placement. */
const MOMENT_SCALE_STEP = 0.0025;

/** Gray-level standard deviation below which a fg frame is blank. */
const BLANK_STD = 3;

/** fg frames scanned per frame asked for, so blank ones can be passed over. */
const OVERSAMPLE = 2;

/** Samples at the coarse scale. */
interface Samples {
  readonly images: readonly GrayImage[];
  /** Frame index of each image. */
  readonly indices: readonly number[];
}

/** Coarse sizes and the factors mapping coarse pixels to full ones. */
interface Geometry {
  /** Coarse bg size. */
  readonly bw: number;
  readonly bh: number;
  /** Coarse fg size. */
  readonly fw: number;
  readonly fh: number;
  /** Uncertainty of a coarse position, in full bg pixels. */
  readonly radius: number;
}

/**
 * The coarse sizes: the bg as comp shrinks it; the fg by the same factor,
 * and for a scaled search of a fg larger than the bg, shrunk further until
 * it fits (the scales it could have start below that anyway).
 */
function geometry(fg: MediaInfo, bg: MediaInfo, unscaled: boolean): Geometry {
  const { s, bw, bh } = coarseSizes(fg, bg);
  const fit = unscaled
    ? 1
    : Math.min(1, bg.width / fg.width, bg.height / fg.height);
  const f = s * fit;
  return {
    bw,
    bh,
    fw: Math.max(1, Math.min(bw, Math.round(fg.width * f))),
    fh: Math.max(1, Math.min(bh, Math.round(fg.height * f))),
    radius: Math.ceil(1 / s) + 1,
  };
}

/** A coarse placement in full bg pixels (scale relative to the full fg). */
function toFull(
  p: Placement,
  g: Geometry,
  fg: MediaInfo,
  bg: MediaInfo,
  unscaled: boolean,
): Placement {
  const sx = g.bw / bg.width, sy = g.bh / bg.height;
  const scale = unscaled
    ? 1
    : p.scale * ((g.fw / fg.width) / sx + (g.fh / fg.height) / sy) / 2;
  return { x: p.x / sx, y: p.y / sy, scale, confidence: p.confidence };
}

function summary(m: Media): MediaSummary {
  const i = m.info;
  return {
    path: i.path,
    kind: m.kind,
    width: i.width,
    height: i.height,
    frames: i.frames,
    fps: m.kind === "video" ? i.fps : undefined,
  };
}

/** `count` informative samples spread over those given (blank ones passed over). */
function informative(samples: Samples, count: number): Samples {
  const keep: number[] = [];
  samples.images.forEach((g, k) => {
    if (grayStdDev(g) >= BLANK_STD) keep.push(k);
  });
  const chosen = spreadIndices(keep.length, count).map((i) => keep[i]);
  return {
    images: chosen.map((k) => samples.images[k]),
    indices: chosen.map((k) => samples.indices[k]),
  };
}

/** Finds where the fg sits in the bg; see the module doc. */
export async function alignMedia(
  options: AlignMediaOptions,
): Promise<AlignMediaResult> {
  const log = options.logger ?? silentLogger;
  const reg = options.registry ?? defaultRegistry;
  const precision = options.precision ?? 2;
  const numFrames = options.numFrames ?? 7;
  const unscaled = options.unscaled ?? true;
  const signal = options.signal;
  if (!Number.isInteger(precision) || precision < 0 || precision > 4) {
    throw new RangeError(`--precision must be 0..4, got ${precision}`);
  }
  if (!Number.isInteger(numFrames) || numFrames < 1) {
    throw new RangeError(
      `--num-frames must be a positive integer, got ${numFrames}`,
    );
  }
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  let mark = t0;
  const lap = (stage: string) => {
    const now = performance.now();
    timings[stage] = (timings[stage] ?? 0) + (now - mark) / 1000;
    mark = now;
  };

  // Locators take the level of `refine` as an option (refine has no
  // precision argument); `locate` gets it per request.
  const locator = await reg.create("locator", options.locator ?? "template", {
    refinePrecision: precision,
  });
  const [fgMedia, bgMedia] = await Promise.all([
    openMedia(options.fg, "fg"),
    openMedia(options.bg, "bg"),
  ]);
  const fg = fgMedia.info, bg = bgMedia.info;
  if (unscaled && (fg.width > bg.width || fg.height > bg.height)) {
    throw fgLargerThanBg(
      fg,
      bg,
      "pass --unscaled false to search smaller scales, or swap FG and BG",
    );
  }
  lap("open");

  const geo = geometry(fg, bg, unscaled);
  const bgFormat: FrameFormat = { width: geo.bw, height: geo.bh, channels: 1 };
  const fgFormat: FrameFormat = { width: geo.fw, height: geo.fh, channels: 1 };
  const bgSampleCount = Math.max(40, 6 * numFrames);
  const grayStill = async (m: Media) =>
    m.kind === "video"
      ? undefined
      : m.still
      ? toGray(m.still)
      : await loadStillGray(m.info, signal);
  const stills = await Promise.all([grayStill(fgMedia), grayStill(bgMedia)]);
  const fgStill = stills[0], bgStill = stills[1];
  const sampleOf = async (
    media: Media,
    still: GrayImage | undefined,
    format: FrameFormat,
    count: number,
    label: string,
  ): Promise<Samples> => {
    if (still) {
      const small = resizeArea(
        { ...still, channels: 1 },
        format.width,
        format.height,
      );
      const image = {
        width: small.width,
        height: small.height,
        data: small.data,
      };
      return { images: [image], indices: [0] };
    }
    const scan = await scanCoarse({
      info: media.info,
      format,
      samples: count,
      label,
      progress: log.progress,
      signal,
    });
    return { images: scan.samples, indices: scan.sampleIndices };
  };
  const [fgAll, bgSamples] = await Promise.all([
    sampleOf(fgMedia, fgStill, fgFormat, OVERSAMPLE * numFrames, "analyse fg"),
    sampleOf(bgMedia, bgStill, bgFormat, bgSampleCount, "analyse bg"),
  ]);
  const fgSamples = informative(fgAll, numFrames);
  if (fgSamples.images.length === 0) {
    throw new InputError(
      `every sampled fg frame is blank (flat), so there is nothing to look for: ${fg.path}`,
    );
  }
  lap("decode");

  const search = async (
    mode: boolean,
    level: number,
  ): Promise<LocateResult> => {
    try {
      return await locator.locate({
        fg: fgSamples.images,
        bg: bgSamples.images,
        unscaled: mode,
        precision: level,
      });
    } catch (err) {
      if (err instanceof RangeError || !(err instanceof Error)) throw err;
      throw new InputError(
        `could not search the fg in the bg: ${err.message}`,
        {
          cause: err,
        },
      );
    }
  };
  const coarse = await search(unscaled, precision);
  const coarseFull = toFull(coarse.placement, geo, fg, bg, unscaled);
  log.debug(
    `coarse x=${coarseFull.x.toFixed(1)} y=${coarseFull.y.toFixed(1)} scale=${
      coarseFull.scale.toFixed(4)
    } ncc=${
      coarseFull.confidence.toFixed(3)
    } from ${coarse.matches.length} fg frames`,
  );
  // Matches that agree with the vote are the pairs to pin on, best first.
  const agreeing = coarse.matches
    .filter((m) =>
      Math.abs(m.placement.x - coarse.placement.x) <= 1 &&
      Math.abs(m.placement.y - coarse.placement.y) <= 1 &&
      Math.abs(m.placement.scale / coarse.placement.scale - 1) <= 0.02
    )
    .sort((a, b) => b.placement.confidence - a.placement.confidence);
  const best = agreeing.length > 0 ? agreeing : [bestMatch(coarse.matches)];
  lap("locate");

  let placement = rounded(coarseFull);
  const scaledArea = fg.width * fg.height * coarseFull.scale ** 2;
  const pinCount = fgMedia.kind === "image" && bgMedia.kind === "image"
    ? 1
    : scaledArea > 1_000_000
    ? 1
    : 2;
  let pairs: FramePair[] = best.slice(0, pinCount).map((m) => ({
    fg: fgSamples.indices[m.fg],
    bg: bgSamples.indices[m.bg],
  }));

  if (precision >= 2) {
    ({ placement, pairs } = await pin(pairs, placement));
    lap("refine");
  }

  /**
   * Full-resolution refinement (halved first when large) on the pairs.
   * For a bg video, the coarse pair's moment can be off: along a camera
   * pan, a crop a little off in position, scale and time looks almost the
   * same at the coarse scale. So after a first refinement (which gets
   * scale and position close whatever the moment), each pair's moment is
   * chosen among the bg frames around it by NCC at that placement, and the
   * placement is refined again on the chosen frames.
   */
  async function pin(
    on: FramePair[],
    guess: Placement,
  ): Promise<{ placement: Placement; pairs: FramePair[] }> {
    const win = refineWindow(guess);
    // Each pair's fg frame, and the bg windows of every frame its moment
    // may be (one decode: the moment search below needs them all).
    const loaded = await Promise.all(on.map(async (p) => {
      const { first, last } = momentRange(p.bg);
      const [f, windows] = await Promise.all([
        fgStill ??
          grabGray(fg, p.fg, 1, fg, undefined, signal).then((g) => g[0]),
        bgStill
          ? [cropFrame({ ...bgStill, channels: 1 }, win)]
          : grabGray(bg, first, last - first + 1, win, win, signal),
      ]);
      const at = (j: number): RefinePair => ({
        fg: f,
        bg: windows[Math.min(windows.length - 1, j - first)],
        originX: win.x,
        originY: win.y,
      });
      return { fg: f, first, windows, at };
    }));
    const t = performance.now();
    let placed = await refineOn(
      on.map((p, k) => loaded[k].at(p.bg)),
      guess,
      geo.radius,
    );
    const t1 = performance.now();
    log.debug(
      `refine on ${on.length} pair(s): ${(t - mark) | 0} ms decoding, ${
        (t1 - t) | 0
      } ms refining → x=${placed.x} y=${placed.y} scale=${placed.scale}`,
    );
    if (bgStill) return { placement: placed, pairs: on };
    const moments = loaded.map((l) =>
      bestMoment(l.fg, l.windows, l.first, placed, win)
    );
    log.debug(
      `moments ${moments.map((m) => m.index).join(", ")} in ${
        (performance.now() - t1) | 0
      } ms`,
    );
    if (moments.some((j, k) => j.index !== on[k].bg)) {
      // From where the best-matching pair puts it: its scale may be better.
      const seed = moments.reduce((a, b) => b.score > a.score ? b : a).at;
      placed = await refineOn(
        moments.map((j, k) => loaded[k].at(j.index)),
        unscaled ? placed : seed,
        2,
      );
    }
    return {
      placement: placed,
      pairs: on.map((p, k) => ({ fg: p.fg, bg: moments[k].index })),
    };
  }

  /**
   * The bg frames a coarse pair's moment may really be: beyond the
   * samples' spacing, along a camera pan a crop a few pixels off at a
   * moment a few tenths of a second away looks almost the same at the
   * coarse scale (comp's exact stage searches the same reach).
   */
  function momentRange(around: number): { first: number; last: number } {
    const gap = bg.frames / Math.max(1, bgSamples.indices.length);
    const span = Math.max(
      Math.ceil(gap / 2) + 1,
      Math.min(16, Math.ceil(0.4 * bg.fps)),
    );
    return {
      first: Math.max(0, around - span),
      last: Math.min(bg.frames - 1, around + span),
    };
  }

  /** The bg region a refinement around `guess` can reach, in full pixels. */
  function refineWindow(guess: Placement): Rect {
    const margin = geo.radius + 2 +
      (unscaled
        ? 0
        : Math.ceil(0.03 * Math.max(fg.width, fg.height) * guess.scale));
    // Even origin, so a halved window keeps whole coordinates.
    const x0 = Math.max(0, Math.floor(guess.x) - margin) & ~1;
    const y0 = Math.max(0, Math.floor(guess.y) - margin) & ~1;
    const x1 = Math.min(
      bg.width,
      Math.ceil(guess.x + fg.width * guess.scale) + margin,
    );
    const y1 = Math.min(
      bg.height,
      Math.ceil(guess.y + fg.height * guess.scale) + margin,
    );
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }

  /** `Locator.refine`, on halved frames first when the radius and frames are large. */
  function refineOn(
    pairs: RefinePair[],
    guess: Placement,
    r: number,
  ): Promise<Placement> {
    return refineHalvedFirst(locator, pairs, guess, r, scaledArea);
  }

  /**
   * Among the bg windows (frames `first`, `first + 1`, …), the one that
   * best matches the fg near `at`. Moment and scale trade off along a pan
   * (a slightly smaller fg a few frames off scores almost as well), so for
   * a scaled search a few scales within ±1% of `at` are tried too, each
   * within ±2 px of `at`'s centre. Large frames are scanned halved first;
   * neighbouring moments of a slow pan differ by a fraction of a pixel, so
   * the best few frames (and theirs neighbours) are then compared at full
   * resolution.
   */
  function bestMoment(
    fgFrame: GrayImage,
    windows: readonly GrayImage[],
    first: number,
    at: Placement,
    win: Rect,
  ): { index: number; score: number; at: Placement } {
    let level = 0;
    while (scaledArea / 4 ** level > MOMENT_TEMPLATE_PIXELS) level++;
    const steps = unscaled ? [0] : [-4, -3, -2, -1, 0, 1, 2, 3, 4];
    const scales = steps.map((k) =>
      unscaled ? 1 : at.scale * (1 + MOMENT_SCALE_STEP * k)
    );
    const cx = at.x + fg.width * at.scale / 2;
    const cy = at.y + fg.height * at.scale / 2;
    /** Top-left of scale variant v in full bg pixels (scaled ones share `at`'s centre). */
    const topLeft = (v: number) =>
      unscaled ? { x: at.x, y: at.y } : {
        x: cx - fg.width * scales[v] / 2,
        y: cy - fg.height * scales[v] / 2,
      };
    const templates = new Map<string, PreparedTemplate>();
    const template = (v: number, l: number): PreparedTemplate => {
      const key = `${v}:${l}`;
      let t = templates.get(key);
      if (!t) {
        const f = 2 ** l;
        t = prepareTemplate(resizeArea(
          { ...fgFrame, channels: 1 },
          Math.max(1, Math.round(fg.width * scales[v] / f)),
          Math.max(1, Math.round(fg.height * scales[v] / f)),
        ));
        templates.set(key, t);
      }
      return t;
    };
    /** Best variant and top-left (full pixels) of one image at level l. */
    const score = (
      image: GrayImage,
      l: number,
      variants: readonly number[],
      near: (v: number) => { x: number; y: number },
      r: number,
    ) => {
      const f = 2 ** l;
      let hit = { v: variants[0], x: 0, y: 0, score: -Infinity };
      for (const v of variants) {
        const c = near(v);
        const lx = Math.round((c.x - win.x) / f);
        const ly = Math.round((c.y - win.y) / f);
        const peak = nccMap(
          image,
          template(v, l),
          lx - r,
          ly - r,
          lx + r,
          ly + r,
        );
        if (peak.score > hit.score) {
          hit = {
            v,
            x: win.x + peak.x * f,
            y: win.y + peak.y * f,
            score: peak.score,
          };
        }
      }
      return hit;
    };
    const all = scales.map((_, v) => v);
    const hits = windows.map((window) => {
      let small = window;
      for (let l = 0; l < level; l++) small = downscale2(small);
      return score(small, level, all, topLeft, 2);
    });
    let chosen = hits.map((h, q) => ({ q, ...h }));
    if (level > 0) {
      const top = [...chosen].sort((a, b) => b.score - a.score).slice(0, 3);
      const frames = new Set<number>();
      for (const t of top) {
        for (let q = t.q - 1; q <= t.q + 1; q++) {
          if (q >= 0 && q < windows.length) frames.add(q);
        }
      }
      const r = 2 ** (level - 1) + 1;
      chosen = [...frames].map((q) => {
        const h = hits[q];
        const near = all.filter((v) => Math.abs(v - h.v) <= 1);
        // Each variant's top-left, moved as the pass found it.
        const shift = (v: number) => ({
          x: h.x + topLeft(v).x - topLeft(h.v).x,
          y: h.y + topLeft(v).y - topLeft(h.v).y,
        });
        return { q, ...score(windows[q], 0, near, shift, r) };
      });
    }
    const best = chosen.reduce((a, b) => b.score > a.score ? b : a);
    return {
      index: first + best.q,
      score: best.score,
      at: {
        x: best.x,
        y: best.y,
        scale: scales[best.v],
        confidence: best.score,
      },
    };
  }

  const alternatives: AlignAlternative[] = [];
  let alternativeNote: string | undefined;
  if (options.alternative ?? true) {
    const other = !unscaled;
    if (other && (fg.width > bg.width || fg.height > bg.height)) {
      alternativeNote =
        "the fg is larger than the bg, so it cannot sit in it at 100%";
    } else {
      try {
        const level = Math.min(precision, 1);
        const alt = await search(other, level);
        alternatives.push({
          placement: rounded(toFull(alt.placement, geo, fg, bg, other)),
          unscaled: other,
          precision: level,
        });
      } catch (err) {
        alternativeNote = `the ${
          other ? "unscaled" : "scaled"
        } search failed: ${err instanceof Error ? err.message : String(err)}`;
        log.debug(alternativeNote);
      }
    }
    lap("alternative");
  }

  const offsets = fgMedia.kind === "video" && bgMedia.kind === "video"
    ? pairs.map((p) => bg.times[p.bg] - fg.times[p.fg]).sort((a, b) => a - b)
    : [];
  timings.total = (performance.now() - t0) / 1000;
  return {
    placement,
    found: placement.confidence >= FOUND_CONFIDENCE,
    unscaled,
    precision,
    fg: summary(fgMedia),
    bg: summary(bgMedia),
    framesUsed: coarse.matches.length,
    pairs,
    offsetSeconds: offsets.length ? offsets[offsets.length >> 1] : undefined,
    alternatives,
    alternativeNote,
    timings,
  };
}

/** The match with the highest confidence. */
function bestMatch(matches: readonly SampleMatch[]): SampleMatch {
  let best = matches[0];
  for (const m of matches) {
    if (m.placement.confidence > best.placement.confidence) best = m;
  }
  return best;
}

/** Whole-pixel position (coarse results carry no sub-pixel information). */
function rounded(p: Placement): Placement {
  return { ...p, x: Math.round(p.x), y: Math.round(p.y) };
}
