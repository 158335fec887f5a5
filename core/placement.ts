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
import type { Locator, Placement } from "./types.ts";

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

/** Picks up to `k` fg frames spread over the video whose matches are clearest. */
export function refineFrames(margin: Float32Array, k = 3): number[] {
  const n = margin.length;
  const picks: number[] = [];
  for (let part = 0; part < k; part++) {
    const lo = Math.floor(n * (0.1 + 0.8 * part / k));
    const hi = Math.max(lo + 1, Math.floor(n * (0.1 + 0.8 * (part + 1) / k)));
    let best = lo;
    for (let i = lo; i < Math.min(hi, n); i++) {
      if (margin[i] > margin[best]) best = i;
    }
    if (best < n && !picks.includes(best)) picks.push(best);
  }
  return picks;
}

/**
 * Pins the placement on same-moment full-resolution pairs (fg frame i and
 * bg frame map[i]) within `radius` px of the coarse guess.
 */
export async function exactPlacement(
  fg: MediaInfo,
  bg: MediaInfo,
  locator: Locator,
  guess: Placement,
  radius: number,
  pairs: readonly { fg: number; bg: number }[],
  signal?: AbortSignal,
): Promise<Placement> {
  const w = Math.round(fg.width * guess.scale);
  const h = Math.round(fg.height * guess.scale);
  const window: Rect = {
    x: Math.max(0, guess.x - radius),
    y: Math.max(0, guess.y - radius),
    width: 0,
    height: 0,
  };
  const x1 = Math.min(bg.width, guess.x + w + radius);
  const y1 = Math.min(bg.height, guess.y + h + radius);
  const win: Rect = { ...window, width: x1 - window.x, height: y1 - window.y };
  const grab = async (
    info: MediaInfo,
    index: number,
    crop: Rect | undefined,
    width: number,
    height: number,
  ): Promise<GrayImage> => {
    const [data] = await decodeAll({
      path: info.path,
      format: { width, height, channels: 1 },
      crop,
      startSeconds: seekPosition(info, index),
      maxFrames: 1,
      signal,
    });
    if (!data) {
      throw new InputError(`cannot decode frame ${index} of ${info.path}`);
    }
    return { width, height, data };
  };
  const loaded = [];
  // Two at a time: each is a seek plus a short decode; more would only
  // compete for the two cores.
  for (let k = 0; k < pairs.length; k += 2) {
    loaded.push(
      ...await Promise.all(
        pairs.slice(k, k + 2).map(async (p) => ({
          fg: await grab(fg, p.fg, undefined, fg.width, fg.height),
          bg: await grab(bg, p.bg, win, win.width, win.height),
          originX: win.x,
          originY: win.y,
        })),
      ),
    );
  }
  return await locator.refine(loaded, guess, radius);
}
