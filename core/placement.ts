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

import { grabGray } from "./frame_grab.ts";
import { fgLargerThanBg, NoMatchError } from "./errors.ts";
import type { GrayImage } from "./frame.ts";
import type { Rect } from "./frame_reader.ts";
import { type MediaInfo, seekCost } from "./probe.ts";
import { resizeArea } from "./frame.ts";
import { downscale2 } from "./ncc.ts";
import {
  searchWindow,
  type WindowFound,
  type WindowSearcher,
} from "./window_search.ts";
import { release } from "./release.ts";
import type { LocateResult, Locator, Placement, RefinePair } from "./types.ts";

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

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[s.length >> 1];
}

/**
 * The coarse scale and the frame sizes at it. `s` scales the bg, `fs` the
 * fg: the same at 100%, but a scaled search may get a fg bigger than the bg,
 * which is shrunk further (aspect kept) to fit the bg samples.
 */
export function coarseSizes(
  fg: MediaInfo,
  bg: MediaInfo,
  unscaled = true,
): {
  s: number;
  fs: number;
  bw: number;
  bh: number;
  fw: number;
  fh: number;
} {
  const s = Math.min(1, COARSE_WIDTH / bg.width, COARSE_HEIGHT / bg.height);
  const bw = Math.max(1, Math.round(bg.width * s));
  const bh = Math.max(1, Math.round(bg.height * s));
  // At 100% the fg must keep exactly the bg's scale (the answer's scale is
  // then exactly 1); the clamps only absorb rounding.
  const fs = unscaled ? s : Math.min(s, bw / fg.width, bh / fg.height);
  const fw = Math.max(1, Math.min(bw, Math.round(fg.width * fs)));
  const fh = Math.max(1, Math.min(bh, Math.round(fg.height * fs)));
  return { s, fs, bw, bh, fw, fh };
}

/** Finds the fg in the bg at reduced size (at 100%, or searching scales). */
export async function coarsePlacement(
  fg: MediaInfo,
  bg: MediaInfo,
  locator: Locator,
  fgSamples: { images: readonly GrayImage[]; indices: readonly number[] },
  bgSamples: { images: readonly GrayImage[]; indices: readonly number[] },
  options: { unscaled: boolean; precision: number },
): Promise<CoarsePlacement> {
  if (options.unscaled && (fg.width > bg.width || fg.height > bg.height)) {
    throw fgLargerThanBg(
      fg,
      bg,
      "search other scales (--unscaled false), or swap the inputs",
    );
  }
  const { s, fs, bw, bh } = coarseSizes(fg, bg, options.unscaled);
  const fgFrames = fgSamples.images, bgFrames = bgSamples.images;
  const fgIdx = fgSamples.indices, bgIdx = bgSamples.indices;
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
  // The locator's scale maps fg-sample pixels to bg-sample pixels.
  const scale = options.unscaled ? 1 : p.scale * fs / s;
  const placement: Placement = {
    x: clampInt(
      Math.round(p.x / (bw / bg.width)),
      0,
      bg.width - Math.round(fg.width * scale),
    ),
    y: clampInt(
      Math.round(p.y / (bh / bg.height)),
      0,
      bg.height - Math.round(fg.height * scale),
    ),
    scale,
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

/** Where the exact search may look: candidates and what each would cost. */
export interface PickInput {
  /** Per fg frame: how clearly it matched (the aligner's margin). */
  readonly margin: Float32Array;
  /** Per fg frame: |bg time of its match − its own time − offset| in seconds. */
  readonly misfit: Float64Array;
  /** The frame map. */
  readonly frameMap: Int32Array;
  /** fg keyframes (ascending). */
  readonly fgKeyframes: Int32Array;
  /** bg keyframes (ascending). */
  readonly bgKeyframes: Int32Array;
  /** One bg frame period in seconds. */
  readonly bgPeriod: number;
  /** bg frames decoded before each match (the time scan's reach). */
  readonly span: number;
  /** Only these fg frames may be picked (those kept at the coarse scale). */
  readonly allowed?: (fgIndex: number) => boolean;
}

/**
 * Picks up to `k` fg frames, at least n/2k apart, cheapest first, for the
 * exact search:
 * among frames that matched clearly and whose moment falls on a bg frame
 * (not between two), those whose fg and bg frames are cheapest to seek to
 * (nearest after a keyframe): each seek decodes from the keyframe before
 * it, which in long-GOP files costs seconds.
 */
export function refineFrames(input: PickInput, k = 3): number[] {
  const { margin, misfit, frameMap } = input;
  const n = margin.length;
  const positive = Array.from(margin).filter((v) => v > 0).sort((a, b) =>
    a - b
  );
  const clear = positive.length ? positive[positive.length >> 1] / 2 : 0;
  const cost = (i: number) =>
    seekCost(input.fgKeyframes, i) + seekCost(input.bgKeyframes, frameMap[i]);
  const gap = Math.max(1, Math.floor(n / (2 * k)));
  const picks: number[] = [];
  for (const strict of [2, 1, 0]) {
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) {
      if (input.allowed && !input.allowed(i)) continue;
      if (strict >= 1 && margin[i] < clear) continue;
      if (strict >= 2 && misfit[i] > 0.2 * input.bgPeriod) continue;
      candidates.push(i);
    }
    candidates.sort((a, b) => cost(a) - cost(b) || a - b);
    for (const i of candidates) {
      if (picks.length >= k) break;
      if (picks.every((p) => Math.abs(p - i) >= gap)) picks.push(i);
    }
    if (picks.length >= k) break;
  }
  // Each pick with its next frame: when the frame rates make every other fg
  // frame fall halfway between two bg frames, one of the two is a
  // same-moment pair, and the exact stage pins on the better matching ones.
  const paired: number[] = [];
  for (const i of picks) {
    paired.push(i);
    if (i + 1 < n && (!input.allowed || input.allowed(i + 1))) {
      if (!picks.includes(i + 1)) paired.push(i + 1);
    }
  }
  return paired;
}

/**
 * fg frames to keep at the coarse scale as candidates of the exact search:
 * `count` runs of `length` consecutive frames spread over the fg, each run
 * moved to start at the nearest keyframe when one is near (the
 * full-resolution pin seeks there, and a seek decodes from the keyframe
 * before its frame). The search pins on frames whose moment falls on a bg
 * frame, not between two; at 25↔30, 24↔60 or 60↔24 fps that is one frame
 * in every two to five, so a run of six holds one whatever the offset.
 */
export function exactCandidates(
  fg: { readonly frames: number; readonly keyframes: Int32Array },
  count = 4,
  length = 6,
): Set<number> {
  const out = new Set<number>();
  const reach = fg.frames / (2 * count);
  for (let k = 0; k < count; k++) {
    const target = Math.floor(((k + 0.5) / count) * fg.frames);
    let start = target, nearest = Infinity;
    for (const kf of fg.keyframes) {
      const d = Math.abs(kf - target);
      if (d <= reach && d < nearest) {
        nearest = d;
        start = kf;
      }
    }
    for (let i = start; i < start + length; i++) {
      if (i >= 0 && i < fg.frames) out.add(i);
    }
  }
  return out;
}

/** Coarse-scale gray frames already in memory, by frame index. */
export interface CoarseFrames {
  /** An fg frame at the coarse scale, if kept. */
  fg(index: number): GrayImage | undefined;
  /** A bg frame at the coarse scale, if kept. */
  bg(index: number): GrayImage | undefined;
}

/** The exact placement and the correction to the time offset it implies. */
export interface ExactPlacement {
  /** The placement, to the pixel. */
  readonly placement: Placement;
  /** Bg frames to add to the frame map's offset (0 when it was right). */
  readonly shift: number;
  /**
   * When `shift` is not 0: the placement pinned at the aligned moment, the
   * alternative the caller should weigh it against (along a camera pan a
   * crop a few pixels off at another moment looks almost the same, and a
   * few frame pairs cannot always tell; the whole video can).
   */
  readonly stay?: Placement;
}

/**
 * What one {@link exactPlacement} call leaves for a later one of the same
 * run (composing on a guess pins on the fg's first frames; the analysis
 * pins again over the whole fg, often on those frames too): the locator's
 * answer per window of coarse frames, and the full-resolution pins.
 */
export interface ExactMemo {
  /** Locator answers by group and window (the coarse frames are the run's own). */
  readonly located: Map<string, LocateResult>;
  /** Pins made: on which (fg, bg) frames, around which placement, with what result. */
  readonly pins: {
    readonly pairs: readonly { fg: number; bg: number }[];
    readonly around: Placement;
    readonly placement: Placement;
  }[];
}

/** An empty {@link ExactMemo}. */
export function exactMemo(): ExactMemo {
  return { located: new Map(), pins: [] };
}

/**
 * Pins the placement on same-moment pairs. First, at the coarse scale, each
 * picked fg frame is searched in bg frames map[i] + Δ for Δ in ±span (a
 * locate over those frames): when the camera moves, a crop a few pixels off
 * at a slightly different moment can look almost as good as the right one,
 * so the coarse step and the alignment may agree on the wrong pair, and
 * only searching time and space together finds the right one. Then, at the
 * chosen Δ, a full-resolution search pins the pixel.
 */
export async function exactPlacement(
  fg: MediaInfo,
  bg: MediaInfo,
  locator: Locator,
  picks: readonly { fg: number; bg: number }[],
  span: number,
  options: {
    unscaled: boolean;
    precision: number;
    signal?: AbortSignal;
    /** Coarse-scale frames already in memory (saves decoding them again). */
    coarse?: CoarseFrames;
    /** The placement the alignment was made with. */
    current: Placement;
    /** Picks also pinned at full resolution (default 2, 1 above a megapixel): those that matched best. */
    fullPicks?: number;
    /**
     * Also pin at the aligned moment when the moment moves (`stay`; default
     * true). A caller that has no second analysis to weigh it against
     * saves a full-resolution pin (two seeks).
     */
    weighStay?: boolean;
    /** Work of earlier calls in this run, reused where inputs are the same. */
    memo?: ExactMemo;
    /** Runs the coarse window searches (default: here, one after another). */
    search?: WindowSearcher;
  },
): Promise<ExactPlacement> {
  const { s, fs, bw, bh, fw, fh } = coarseSizes(fg, bg, options.unscaled);
  const signal = options.signal;
  // The scale is known by now (the coarse search found it): the coarse fg
  // frames are resized to it and searched at 100%, which is far cheaper than
  // a scale search per pick, and the full-resolution refine tunes it.
  const scale = options.current.scale;
  const sw = Math.max(1, Math.min(bw, Math.round(fw * scale * s / fs)));
  const sh = Math.max(1, Math.min(bh, Math.round(fh * scale * s / fs)));
  const atScale = (img: GrayImage): GrayImage =>
    img.width === sw && img.height === sh
      ? img
      : resizeArea({ ...img, channels: 1 }, sw, sh);
  if (picks.length === 0) {
    throw new RangeError("no frames to pin the placement on");
  }
  const coarse = options.coarse;
  /** A pick's fg frame at the coarse scale: kept by the scan, else decoded. */
  const fgCoarse = async (i: number): Promise<GrayImage> => {
    const kept = coarse?.fg(i);
    if (kept && kept.width === fw && kept.height === fh) return atScale(kept);
    const [f] = await grabGray(
      fg,
      i,
      1,
      { width: fg.width, height: fg.height },
      undefined,
      signal,
    );
    const small = resizeArea({ ...f, channels: 1 }, sw, sh);
    return { width: sw, height: sh, data: small.data };
  };
  /** bg frames first..last at the coarse scale: kept, else decoded. */
  const bgCoarse = async (
    first: number,
    last: number,
  ): Promise<GrayImage[]> => {
    const kept: GrayImage[] = [];
    for (let j = first; j <= last && coarse; j++) {
      const img = coarse.bg(j);
      if (!img) break;
      kept.push(img);
    }
    return kept.length === last - first + 1 ? kept : await grabGray(
      bg,
      first,
      last - first + 1,
      { width: bw, height: bh },
      undefined,
      signal,
    );
  };
  // Each pick against the bg frames around its own match only (cross pairs
  // are different moments and only cost time); then the picks vote.
  // Neighbouring picks (a frame and the next) share one window and one
  // search: the bg frames around them are the same. The windows are
  // searched side by side when a searcher runs them elsewhere (workers).
  const groups: {
    start: number;
    picks: typeof picks;
    first: number;
    last: number;
  }[] = [];
  for (let g = 0; g < picks.length;) {
    let h = g + 1;
    while (h < picks.length && picks[h].fg === picks[h - 1].fg + 1) h++;
    const group = picks.slice(g, h);
    const first = Math.max(0, Math.min(...group.map((p) => p.bg)) - span);
    const last = Math.min(
      bg.frames - 1,
      Math.max(...group.map((p) => p.bg)) + span,
    );
    groups.push({ start: g, picks: group, first, last });
    g = h;
  }
  const x = Math.round(options.current.x * bw / bg.width);
  const y = Math.round(options.current.y * bh / bg.height);
  /** One group's window: its frames fetched, searched, the locator's answer memoised. */
  const searchGroup = async (
    { picks: group, first, last }: typeof groups[number],
  ): Promise<WindowFound> => {
    const [fgImages, window] = await Promise.all([
      Promise.all(group.map((p) => fgCoarse(p.fg))),
      bgCoarse(first, last),
    ]);
    const key = `${group.map((p) => p.fg)}|${first}-${last}|${sw}x${sh}`;
    const known = options.memo?.located.get(key);
    const found = await (options.search ?? ((w) => searchWindow(locator, w)))({
      fg: fgImages,
      bg: window,
      at: group.map((p) => p.bg - first),
      x,
      y,
      locate: !known,
      precision: options.precision,
    });
    const located = known ?? found.located;
    if (located && !known) options.memo?.located.set(key, located);
    return { located, scan: found.scan };
  };
  // Side by side when a searcher runs them elsewhere (workers); here one
  // window at a time, so its frames can go before the next is fetched.
  const searched: WindowFound[] = [];
  if (options.search) {
    searched.push(...await Promise.all(groups.map(searchGroup)));
  } else for (const g of groups) searched.push(await searchGroup(g));
  const perPick: ({ delta: number; placement: Placement } | undefined)[] = picks
    .map(() => undefined);
  groups.forEach(({ start: g, picks: group, first }, n) => {
    const { located, scan } = searched[n];
    for (const m of located?.matches ?? []) {
      const p = group[m.fg];
      perPick[g + m.fg] = {
        delta: first + m.bg - p.bg,
        placement: m.placement,
      };
    }
    // The same window scanned moment by moment along the current position
    // (see moment_scan.ts): where it finds a better-matching moment than
    // the locator's pruned search, the group follows it.
    const mean = group.reduce(
      (a, _, k) =>
        a + (perPick[g + k] ? perPick[g + k]!.placement.confidence : -Infinity),
      0,
    ) / group.length;
    if (scan && scan.score > mean) {
      for (let k = 0; k < group.length; k++) {
        perPick[g + k] = {
          delta: scan.delta,
          placement: { x: scan.x, y: scan.y, scale: 1, confidence: scan.score },
        };
      }
    }
  });
  const found = perPick.filter((p) => p !== undefined);
  if (found.length === 0) {
    throw new NoMatchError(
      "could not find the fg in the bg around its matches",
    );
  }
  let vote = found[0].placement, support = -1;
  for (const a of found) {
    let total = 0;
    for (const b of found) {
      if (
        Math.abs(a.placement.x - b.placement.x) <= 1 &&
        Math.abs(a.placement.y - b.placement.y) <= 1
      ) total += b.placement.confidence;
    }
    if (total > support) {
      support = total;
      vote = a.placement;
    }
  }
  const deltas = found
    .filter((p) =>
      Math.abs(p.placement.x - vote.x) <= 1 &&
      Math.abs(p.placement.y - vote.y) <= 1
    )
    .map((p) => p.delta)
    .sort((a, b) => a - b);
  const shift = deltas[deltas.length >> 1];
  // Full resolution on the picks that matched their moment best at the
  // coarse scale (same-moment pairs, not frames halfway between two bg
  // frames, whose moving parts would pull the pixel); one big frame pins a
  // pixel as surely as two small ones.
  const count = Math.max(
    1,
    options.fullPicks ?? (fg.width * fg.height > 1_000_000 ? 1 : 2),
  );
  const agreeing = picks
    .map((p, k) => ({ p, m: perPick[k] }))
    .filter((e) =>
      e.m && Math.abs(e.m.placement.x - vote.x) <= 1 &&
      Math.abs(e.m.placement.y - vote.y) <= 1
    )
    .sort((a, b) => b.m!.placement.confidence - a.m!.placement.confidence)
    .map((e) => e.p);
  const full = agreeing.slice(0, count);
  /** The fg frames of `full` at full resolution, grabbed once. */
  let fgFull: Promise<GrayImage[]> | undefined;
  // The fg as it appears in the bg, in bg pixels.
  const fgW = Math.round(fg.width * scale), fgH = Math.round(fg.height * scale);
  const guess: Placement = {
    ...vote,
    scale,
    x: clampInt(Math.round(vote.x * bg.width / bw), 0, bg.width - fgW),
    y: clampInt(Math.round(vote.y * bg.height / bh), 0, bg.height - fgH),
  };
  const radius = Math.ceil(1 / s) + 1;
  /** Full-resolution pinning at moment shift Δ around a guess. */
  const pinAt = async (
    delta: number,
    around: Placement,
  ): Promise<Placement> => {
    // A pin made earlier in the run on agreeing picks at this moment,
    // around this placement, saw the very pixels this one would.
    const bgOf = (p: { bg: number }) =>
      Math.max(0, Math.min(bg.frames - 1, p.bg + delta));
    const same = (a: Placement, b: Placement) =>
      a.x === b.x && a.y === b.y && a.scale === b.scale;
    const made = options.memo?.pins.find((m) =>
      same(m.around, around) && m.pairs.length === full.length &&
      m.pairs.every((q) =>
        agreeing.some((p) => p.fg === q.fg && bgOf(p) === q.bg)
      )
    );
    if (made) return made.placement;
    // Started with the bg windows: the seeks run together.
    fgFull ??= Promise.all(
      full.map(async (p) =>
        (await grabGray(
          fg,
          p.fg,
          1,
          { width: fg.width, height: fg.height },
          undefined,
          signal,
        ))[0]
      ),
    );
    // Even window origin, so a halved window keeps whole coordinates.
    const x0 = Math.max(0, around.x - radius - 2) & ~1;
    const y0 = Math.max(0, around.y - radius - 2) & ~1;
    const win: Rect = {
      x: x0,
      y: y0,
      width: Math.min(bg.width, around.x + fgW + radius + 2) - x0,
      height: Math.min(bg.height, around.y + fgH + radius + 2) - y0,
    };
    const [fgs, windows] = await Promise.all([
      fgFull,
      Promise.all(full.map(async (l) => {
        return (await grabGray(
          bg,
          bgOf(l),
          1,
          { width: win.width, height: win.height },
          win,
          signal,
        ))[0];
      })),
    ]);
    const pairs: RefinePair[] = full.map((_, k) => ({
      fg: fgs[k],
      bg: windows[k],
      originX: win.x,
      originY: win.y,
    }));
    const placement = await refineHalvedFirst(
      locator,
      pairs,
      around,
      radius,
      fg.width * fg.height,
    );
    release(...windows.map((w) => w.data.buffer));
    options.memo?.pins.push({
      pairs: full.map((p) => ({ fg: p.fg, bg: bgOf(p) })),
      around,
      placement,
    });
    return placement;
  };
  const moved = await pinAt(shift, guess);
  const stay = shift === 0 || options.weighStay === false
    ? undefined
    : await pinAt(0, options.current);
  if (fgFull) release(...(await fgFull).map((f) => f.data.buffer));
  return stay ? { placement: moved, shift, stay } : { placement: moved, shift };
}

/**
 * The analysed regions: where fg and bg overlap under the placement, in
 * each video's own pixels, so both fingerprints see the same content.
 */
export function analysisRegions(
  fg: MediaInfo,
  bg: MediaInfo,
  p: Placement,
  content?: Rect,
): { fg: Rect | undefined; bg: Rect } {
  // With --engine mask only the fg's content (inside its bars) is compared.
  const c = content ?? { x: 0, y: 0, width: fg.width, height: fg.height };
  const px = p.x + c.x * p.scale, py = p.y + c.y * p.scale;
  const w = c.width * p.scale, h = c.height * p.scale;
  const x0 = Math.max(0, Math.round(px)), y0 = Math.max(0, Math.round(py));
  const x1 = Math.min(bg.width, Math.round(px + w));
  const y1 = Math.min(bg.height, Math.round(py + h));
  if (x1 - x0 < 2 || y1 - y0 < 2) {
    throw new RangeError(
      `the placement (${p.x}, ${p.y}) puts the fg outside the bg`,
    );
  }
  const bgRect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const fx = c.x + Math.round((x0 - px) / p.scale);
  const fy = c.y + Math.round((y0 - py) / p.scale);
  const fw = Math.min(c.x + c.width - fx, Math.round(bgRect.width / p.scale));
  const fh = Math.min(
    c.y + c.height - fy,
    Math.round(bgRect.height / p.scale),
  );
  const whole = fx === 0 && fy === 0 && fw === fg.width && fh === fg.height;
  return {
    fg: whole ? undefined : { x: fx, y: fy, width: fw, height: fh },
    bg: bgRect,
  };
}

/**
 * `Locator.refine`, on halved frames first when the radius and the frames
 * are large: the full-resolution pass then only checks ±2 px around the
 * halved answer (a quarter of the pixels for most of the search).
 */
export async function refineHalvedFirst(
  locator: Locator,
  pairs: readonly RefinePair[],
  guess: Placement,
  radius: number,
  fgArea: number,
): Promise<Placement> {
  let near = guess, r = radius;
  if (radius > 2 && fgArea > 250_000) {
    const halved = pairs.map((p) => ({
      fg: downscale2(p.fg),
      bg: downscale2(p.bg),
      originX: p.originX / 2,
      originY: p.originY / 2,
    }));
    const half = await locator.refine(
      halved,
      { ...guess, x: Math.round(guess.x / 2), y: Math.round(guess.y / 2) },
      Math.ceil(radius / 2) + 1,
    );
    release(...halved.flatMap((p) => [p.fg.data.buffer, p.bg.data.buffer]));
    near = { ...half, x: half.x * 2, y: half.y * 2 };
    r = 2;
  }
  return await locator.refine(pairs, near, r);
}
