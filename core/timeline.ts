/**
 * Lookups on frame timelines (sorted presentation times), and the offset
 * between two timelines that the most frame pairs agree on.
 *
 * @module
 */

import type { Timeline } from "./types.ts";

/**
 * Index of the frame whose time is nearest `t` (ties go to the earlier frame).
 * Times outside the stream map to its first / last frame, which is what makes
 * the centre line "clamped".
 */
export function nearestIndex(
  times: Float64Array,
  count: number,
  t: number,
): number {
  if (count <= 1 || t <= times[0]) return 0;
  if (t >= times[count - 1]) return count - 1;
  // Binary search for the last index with times[k] <= t.
  let a = 0;
  let b = count - 1;
  while (b - a > 1) {
    const mid = (a + b) >> 1;
    if (times[mid] <= t) a = mid;
    else b = mid;
  }
  return t - times[a] <= times[b] - t ? a : b;
}

/**
 * Midpoint of the region covered by the most half-open intervals
 * [starts[k], ends[k]), ties going to the region nearest 0; undefined when
 * there are no intervals. Sorts the arrays in place.
 *
 * Used for the sub-frame phase of the offset: every frame whose best match
 * is unambiguous restricts the offset to the interval that makes that match
 * the nearest bg frame in time, and the offset consistent with the most
 * frames is the estimate.
 */
export function densestPoint(
  starts: Float64Array,
  ends: Float64Array,
): number | undefined {
  const count = starts.length;
  if (count === 0) return undefined;
  starts.sort();
  ends.sort();
  let a = 0;
  let b = 0;
  let cover = 0;
  let best = -1;
  let bestDist = Infinity;
  let result: number | undefined;
  while (a < count) {
    // Ends first at equal positions: the intervals are half-open.
    if (ends[b] <= starts[a]) {
      cover--;
      b++;
      continue;
    }
    cover++;
    const x = starts[a++];
    const next = a < count && starts[a] < ends[b] ? starts[a] : ends[b];
    if (next > x) {
      const mid = (x + next) / 2;
      const dist = Math.abs(mid);
      if (cover > best || (cover === best && dist < bestDist)) {
        best = cover;
        bestDist = dist;
        result = mid;
      }
    }
  }
  return result;
}

/**
 * Throws a RangeError unless both timelines hold a time per frame and a bg
 * with frames exists for a fg with frames: what every aligner assumes.
 */
export function checkTimelines(fg: Timeline, bg: Timeline): void {
  if (!(fg.count >= 0) || fg.times.length < fg.count) {
    throw new RangeError(
      `fg timeline: ${fg.times.length} times for ${fg.count} frames`,
    );
  }
  if (!(bg.count >= 0) || bg.times.length < bg.count) {
    throw new RangeError(
      `bg timeline: ${bg.times.length} times for ${bg.count} frames`,
    );
  }
  if (bg.count === 0 && fg.count > 0) {
    throw new RangeError("bg timeline has no frames");
  }
}

/**
 * The offset (bg time − fg time) an alignment path implies: the median over
 * clearly matched frames (a positive margin of at least half the median
 * positive margin) whose bg frame is not clamped to either end; `fallback`
 * when fewer than min(n, 5) such frames exist.
 */
export function pathOffset(
  path: Int32Array,
  margin: Float32Array,
  fgTimes: Float64Array,
  bgTimes: Float64Array,
  bgCount: number,
  fallback: number,
): number {
  const n = path.length;
  const positive: number[] = [];
  for (let i = 0; i < n; i++) if (margin[i] > 0) positive.push(margin[i]);
  positive.sort((a, b) => a - b);
  const clear = positive.length > 0 ? positive[positive.length >> 1] / 2 : 0;
  const diffs: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = path[i];
    if (margin[i] > 0 && margin[i] >= clear && j > 0 && j < bgCount - 1) {
      diffs.push(bgTimes[j] - fgTimes[i]);
    }
  }
  diffs.sort((a, b) => a - b);
  return diffs.length >= Math.min(n, 5) ? diffs[diffs.length >> 1] : fallback;
}
