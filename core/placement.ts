/**
 * Spatial placement of the fg inside the bg, in two steps around temporal
 * alignment:
 *
 * 1. coarse: well-spread fg frames and a spread of bg frames (the videos do
 *    not start together, so every fg sample is tried against every bg
 *    sample) at reduced size, searched by the locator; the winning pairs
 *    also give the aligner a hint of the time offset;
 * 2. exact: once the frame map is known, a few same-moment pairs at full
 *    resolution pin the position to the pixel.
 *
 * @module
 */

import { InputError, NoMatchError } from "./errors.ts";
import type { GrayImage } from "./frame.ts";
import { decodeAll, type Rect } from "./frame_reader.ts";
import { type MediaInfo, seekPosition } from "./probe.ts";
import { downscale2 } from "./ncc.ts";
import type { Locator, Placement, RefinePair } from "./types.ts";

/** Longest side of the bg in the coarse search (the fg is scaled alike). */
const COARSE_WIDTH = 480;
const COARSE_HEIGHT = 270;

/** The coarse result: a placement in bg pixels and a time-offset hint. */
export interface CoarsePlacement {
  /** Placement in full bg pixels (accurate to about `uncertainty`). */
  readonly placement: Placement;
  /** bg time minus fg time of the winning pairs (median), in seconds. */
  readonly offsetHint?: number;
  /** Positional uncertainty of the coarse step in bg pixels. */
  readonly uncertainty: number;
}

/** Evenly spread indices in [0, count), `k` of them, inside [from, to] fractions. */
export function spread(
  count: number,
  k: number,
  from = 0,
  to = 1,
): number[] {
  const n = Math.min(k, count);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = from + (to - from) * (i + 0.5) / n;
    const idx = Math.min(count - 1, Math.max(0, Math.floor(f * count)));
    if (out[out.length - 1] !== idx) out.push(idx);
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[s.length >> 1];
}

async function sampleFrames(
  info: MediaInfo,
  indices: number[],
  width: number,
  height: number,
  signal?: AbortSignal,
): Promise<GrayImage[]> {
  const frames = await decodeAll({
    path: info.path,
    format: { width, height, channels: 1 },
    select: indices,
    signal,
  });
  return frames.map((data) => ({ width, height, data }));
}

/** Finds the fg in the bg at reduced size (scale 1 only, for now). */
export async function coarsePlacement(
  fg: MediaInfo,
  bg: MediaInfo,
  locator: Locator,
  options: { unscaled: boolean; precision: number; signal?: AbortSignal },
): Promise<CoarsePlacement> {
  if (options.unscaled && (fg.width > bg.width || fg.height > bg.height)) {
    throw new InputError(
      `the fg (${fg.width}×${fg.height}) is larger than the bg (${bg.width}×${bg.height}), so it cannot sit inside it at 100%`,
      {
        hint:
          "give the placement with --x-shift/--y-shift, or swap --fg and --bg",
      },
    );
  }
  const s = Math.min(1, COARSE_WIDTH / bg.width, COARSE_HEIGHT / bg.height);
  const bw = Math.max(1, Math.round(bg.width * s));
  const bh = Math.max(1, Math.round(bg.height * s));
  const fw = Math.max(1, Math.min(bw, Math.round(fg.width * s)));
  const fh = Math.max(1, Math.min(bh, Math.round(fg.height * s)));
  const fgIdx = spread(fg.frames, 9, 0.03, 0.97);
  const bgIdx = spread(bg.frames, 40);
  const [fgFrames, bgFrames] = await Promise.all([
    sampleFrames(fg, fgIdx, fw, fh, options.signal),
    sampleFrames(bg, bgIdx, bw, bh, options.signal),
  ]);
  let result;
  try {
    result = await locator.locate({
      fg: fgFrames,
      bg: bgFrames,
      unscaled: options.unscaled,
      precision: options.precision,
    });
  } catch (err) {
    if (err instanceof RangeError) throw err;
    throw new NoMatchError(
      `could not locate the fg in the bg: ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
  const p = result.placement;
  const placement: Placement = {
    x: clampInt(Math.round(p.x / (bw / bg.width)), 0, bg.width - fg.width),
    y: clampInt(Math.round(p.y / (bh / bg.height)), 0, bg.height - fg.height),
    scale: p.scale,
    confidence: p.confidence,
  };
  // Pairs that agree with the vote tell when the same moment occurs.
  const offsets = result.matches
    .filter((m) =>
      Math.abs(m.placement.x - p.x) <= 1 && Math.abs(m.placement.y - p.y) <= 1
    )
    .map((m) =>
      bg.times[bgIdx[Math.min(m.bg, bgIdx.length - 1)]] -
      fg.times[fgIdx[Math.min(m.fg, fgIdx.length - 1)]]
    );
  return {
    placement,
    offsetHint: offsets.length > 0 ? median(offsets) : undefined,
    uncertainty: Math.ceil(1 / s) + 1,
  };
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(Math.max(lo, hi), v));
}

/**
 * Picks up to `k` fg frames spread over the video for the exact search:
 * in each part, a frame whose moment falls closest to a bg frame's (so the
 * pair really is the same moment, not a tie between two bg frames) among
 * those whose match is clear.
 */
export function refineFrames(
  margin: Float32Array,
  misfit: Float64Array,
  k = 3,
): number[] {
  const n = margin.length;
  const positive = Array.from(margin).filter((v) => v > 0).sort((a, b) =>
    a - b
  );
  const clear = positive.length ? positive[positive.length >> 1] / 2 : 0;
  const picks: number[] = [];
  for (let part = 0; part < k; part++) {
    const lo = Math.floor(n * (0.1 + 0.8 * part / k));
    const hi = Math.min(
      n,
      Math.max(lo + 1, Math.floor(n * (0.1 + 0.8 * (part + 1) / k))),
    );
    let best = -1;
    for (let i = lo; i < hi; i++) {
      if (margin[i] < clear) continue;
      if (best < 0 || misfit[i] < misfit[best]) best = i;
    }
    if (best < 0) best = Math.min(n - 1, (lo + hi) >> 1);
    if (!picks.includes(best)) picks.push(best);
  }
  return picks;
}

/** The exact placement and the correction to the time offset it implies. */
export interface ExactPlacement {
  /** The placement, to the pixel. */
  readonly placement: Placement;
  /** Bg frames to add to the frame map's offset (0 when it was right). */
  readonly shift: number;
}

/** Pixels above which the time scan runs on halved frames first. */
const SCAN_PIXELS = 250_000;

/**
 * Pins the placement on full-resolution pairs: fg frame i against bg frames
 * map[i] + Δ for Δ in ±span, each searched within `radius` px of the guess.
 * Searching time and space together matters when the camera moves: a crop
 * a few pixels off at a slightly different moment can look almost as good
 * as the right one at coarse scale, and only exact same-moment pairs at full
 * resolution tell them apart. Returns the best placement and its Δ.
 */
export async function exactPlacement(
  fg: MediaInfo,
  bg: MediaInfo,
  locator: Locator,
  guess: Placement,
  radius: number,
  pairs: readonly { fg: number; bg: number }[],
  span: number,
  signal?: AbortSignal,
): Promise<ExactPlacement> {
  const w = Math.round(fg.width * guess.scale);
  const h = Math.round(fg.height * guess.scale);
  // An even origin keeps halved coordinates whole.
  const x0 = Math.max(0, guess.x - radius) & ~1;
  const y0 = Math.max(0, guess.y - radius) & ~1;
  const win: Rect = {
    x: x0,
    y: y0,
    width: Math.min(bg.width, guess.x + w + radius) - x0,
    height: Math.min(bg.height, guess.y + h + radius) - y0,
  };
  const grab = async (
    info: MediaInfo,
    index: number,
    count: number,
    crop: Rect | undefined,
    width: number,
    height: number,
  ): Promise<GrayImage[]> => {
    const frames = await decodeAll({
      path: info.path,
      format: { width, height, channels: 1 },
      crop,
      startSeconds: seekPosition(info, index),
      maxFrames: count,
      signal,
    });
    if (frames.length === 0) {
      throw new InputError(`cannot decode frame ${index} of ${info.path}`);
    }
    return frames.map((data) => ({ width, height, data }));
  };
  // Per pick: the fg frame and bg frames map[i]-span .. map[i]+span.
  const loaded: {
    fg: GrayImage;
    fgHalf?: GrayImage;
    bg: GrayImage[];
    first: number;
  }[] = [];
  for (const p of pairs) {
    const first = Math.max(0, p.bg - span);
    const last = Math.min(bg.frames - 1, p.bg + span);
    const [fgFrame, bgFrames] = await Promise.all([
      grab(fg, p.fg, 1, undefined, fg.width, fg.height),
      grab(bg, first, last - first + 1, win, win.width, win.height),
    ]);
    loaded.push({ fg: fgFrame[0], bg: bgFrames, first: first - p.bg });
  }
  const pairsAt = (delta: number, halve: boolean): RefinePair[] =>
    loaded.flatMap((l) => {
      const b = l.bg[delta - l.first];
      if (!b) return [];
      return [{
        fg: halve ? (l.fgHalf ??= downscale2(l.fg)) : l.fg,
        bg: halve ? downscale2(b) : b,
        originX: halve ? win.x / 2 : win.x,
        originY: halve ? win.y / 2 : win.y,
      }];
    });
  const halve = fg.width * fg.height > SCAN_PIXELS;
  const scanGuess = halve
    ? { ...guess, x: guess.x / 2, y: guess.y / 2 }
    : guess;
  const scanRadius = halve ? Math.ceil(radius / 2) : radius;
  let best: { delta: number; placement: Placement } | undefined;
  for (let delta = -span; delta <= span; delta++) {
    const ps = pairsAt(delta, halve);
    if (ps.length < pairs.length) continue;
    const placement = await locator.refine(
      ps,
      halve ? scanGuess : guess,
      halve ? scanRadius : radius,
    );
    // Ties go to the smaller |Δ|: the alignment's own choice wins unless
    // another moment is really better.
    if (
      !best || placement.confidence > best.placement.confidence + 1e-6 ||
      (Math.abs(placement.confidence - best.placement.confidence) <= 1e-6 &&
        Math.abs(delta) < Math.abs(best.delta))
    ) {
      best = {
        delta,
        placement: halve
          ? { ...placement, x: placement.x * 2, y: placement.y * 2 }
          : placement,
      };
    }
  }
  if (!best) throw new InputError("no frames to pin the placement on");
  let placement = best.placement;
  if (halve) {
    // Full resolution, at the chosen moment, around the scan's answer.
    placement = await locator.refine(pairsAt(best.delta, false), placement, 2);
  }
  return { placement, shift: best.delta };
}
