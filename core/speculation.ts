/**
 * Composing before the analysis ends. When the frame rates match, the map
 * is usually one run of consecutive bg frames, and the lock knows the
 * placement and the offset a fraction of a second into the decode. The
 * encoder can then start on that guess and, while it decodes both files
 * anyway, hand the analysis their coarse frames (side outputs), so the
 * files are decoded once instead of twice. The analysis then ends exactly
 * as it would have; if its placement and map differ from the guess in any
 * frame, the video is composed again from them, so the output is always
 * what the analysis says.
 *
 * @module
 */

import type { MediaInfo } from "./probe.ts";
import { nearestIndex } from "./timeline.ts";
import type { Placement } from "./types.ts";

/** Frame rates this close (ratio) give a map of consecutive bg frames. */
const SAME_RATE = 1e-3;

/** A placement and frame map the encoder started on. */
export interface Guess {
  /** The placement, pinned at full resolution. */
  readonly placement: Placement;
  /** bg index under each fg frame: one run of consecutive frames. */
  readonly frameMap: Int32Array;
}

/** True when the frame rates match closely enough for one-run maps. */
export function sameRate(fg: MediaInfo, bg: MediaInfo): boolean {
  return Math.abs(bg.fps / fg.fps - 1) <= SAME_RATE;
}

/**
 * The first bg frame of a one-run map for the time offset `hint` (bg time −
 * fg time), or undefined when the map cannot be one run: different frame
 * rates, or a run that would leave the bg.
 */
export function oneRunStart(
  fg: MediaInfo,
  bg: MediaInfo,
  hint: number,
): number | undefined {
  if (fg.frames === 0 || !sameRate(fg, bg)) return undefined;
  const k = nearestIndex(bg.times, bg.times.length, fg.times[0] + hint);
  return k >= 0 && k + fg.frames <= bg.frames ? k : undefined;
}

/** bg frames start, start + 1, … under fg frames 0 … n − 1. */
export function oneRunMap(start: number, n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => start + i);
}

/** True when the analysis ended where the encoder started. */
export function guessHeld(
  guess: Guess,
  placement: Placement,
  frameMap: Int32Array,
): boolean {
  const p = guess.placement;
  if (
    p.x !== placement.x || p.y !== placement.y || p.scale !== placement.scale
  ) return false;
  if (guess.frameMap.length !== frameMap.length) return false;
  for (let i = 0; i < frameMap.length; i++) {
    if (guess.frameMap[i] !== frameMap[i]) return false;
  }
  return true;
}

/**
 * The exact-search picks available early: consecutive candidate fg frames
 * already decoded (`fgSeen`) whose one-run bg frame, with `span` frames
 * either side, lies within the bg frames seen (`bgSeen`); the first pair.
 */
export function earlyPicks(
  candidates: ReadonlySet<number>,
  start: number,
  fgSeen: number,
  bgSeen: number,
  span: number,
): { fg: number; bg: number }[] {
  const sorted = [...candidates].sort((a, b) => a - b);
  for (const i of sorted) {
    if (!candidates.has(i + 1) || i + 1 >= fgSeen) continue;
    if (start + i - span < 0 || start + i + 1 + span >= bgSeen) continue;
    return [{ fg: i, bg: start + i }, { fg: i + 1, bg: start + i + 1 }];
  }
  return [];
}
