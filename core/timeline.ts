/**
 * Lookups on frame timelines (sorted presentation times).
 *
 * @module
 */

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
