/**
 * "Same frames at another rate": film transferred to PAL plays its 24 fps
 * frames at 25 fps (4.2% fast), NTSC material is retimed between 30 and
 * 29.97 fps, and so on. Such a bg shows fg frame k at bg frame k + c, not at
 * the bg frame of the same moment in seconds, so an alignment on real time
 * drifts away from it (a frame every second at 24 ↔ 25 fps) while every
 * frame still looks nearly alike. The pipeline analyses this hypothesis
 * beside the real-time one when the two rates lie close, and keeps the one
 * whose frames match better.
 *
 * @module
 */

import type { Timeline } from "./types.ts";

/** Rates further apart than this are never the same frames retimed. */
const MAX_SPEED_CHANGE = 0.05;

/**
 * The factor that puts fg frame times on the bg's frame clock (fg index /
 * bg rate) when the two rates differ by a retiming's worth (0 < |change| ≤
 * 5%), else undefined.
 */
export function sameFramesFactor(
  fgFps: number,
  bgFps: number,
): number | undefined {
  const k = fgFps / bgFps;
  if (!(k > 0) || Math.abs(k - 1) < 1e-9) return undefined;
  return Math.abs(k - 1) <= MAX_SPEED_CHANGE ? k : undefined;
}

/** `line` with its times scaled by `factor` (1: the line itself). */
export function scaledTimeline(line: Timeline, factor: number): Timeline {
  if (factor === 1) return line;
  return {
    count: line.count,
    fps: line.fps / factor,
    times: line.times.map((t) => t * factor),
  };
}
