/**
 * The fg's own frame times for the output, when they are not a constant
 * rate. The encoder pairs fg frame k with its bg frame by index on a
 * constant-rate timeline (see compose.ts); a variable-frame-rate fg (phones,
 * screen recorders) would then be shown evenly spaced and drift from its
 * audio wherever its frames are not. An ffmpeg `setpts` expression of the
 * output frame index N puts every frame back at its own time.
 *
 * The times are approximated by a few straight runs (each within
 * `tolerance` of every frame's time) rather than listed frame by frame:
 * the expression is evaluated for every frame, so its length is a cost per
 * frame; a phone's jitter of a millisecond fits one run, each pause or burst
 * of drops adds one.
 *
 * @module
 */

/** A run of frames whose times lie on one line. */
export interface TimeRun {
  /** First frame index of the run. */
  readonly start: number;
  /** Time of `start` (seconds from the first frame). */
  readonly time: number;
  /** Seconds per frame along the run. */
  readonly step: number;
}

/**
 * Splits frame times `times[0..count)` (seconds, non-decreasing) into runs
 * whose lines pass within `tolerance` seconds of every frame's time. Each
 * run's line passes exactly through its first frame; its slope is the
 * middle of the slopes every later frame of the run allows.
 */
export function timeRuns(
  times: ArrayLike<number>,
  count: number,
  tolerance: number,
): TimeRun[] {
  const runs: TimeRun[] = [];
  let start = 0;
  while (start < count) {
    const t0 = times[start];
    let lo = -Infinity, hi = Infinity;
    let k = start + 1;
    for (; k < count; k++) {
      const d = k - start;
      const a = Math.max(lo, (times[k] - tolerance - t0) / d);
      const b = Math.min(hi, (times[k] + tolerance - t0) / d);
      if (a > b) break;
      lo = a;
      hi = b;
    }
    const step = k === start + 1 ? 0 : (lo + hi) / 2;
    runs.push({ start, time: t0, step });
    start = k;
  }
  return runs;
}

/** Most runs an expression may hold; the tolerance doubles until it fits. */
const MAX_RUNS = 500;

/**
 * The `setpts` expression (seconds, of the frame index N) that puts output
 * frame N at fg time `times[N] − times[0]`, or undefined when the first
 * `count` frames already follow `rate` (a constant-rate fg: the output keeps
 * its exact `N / rate` timestamps). `tolerance` defaults to a tenth of a
 * frame, at most 2 ms.
 */
export function fgTimeExpression(
  times: ArrayLike<number>,
  count: number,
  rate: number,
  tolerance = Math.min(0.002, 0.1 / rate),
): string | undefined {
  if (count < 2) return undefined;
  const base = times[0];
  const rel = new Float64Array(count);
  let constant = true;
  for (let k = 0; k < count; k++) {
    rel[k] = times[k] - base;
    if (Math.abs(rel[k] - k / rate) > tolerance) constant = false;
  }
  if (constant) return undefined;
  let tol = tolerance;
  let runs = timeRuns(rel, count, tol);
  while (runs.length > MAX_RUNS) {
    tol *= 2;
    runs = timeRuns(rel, count, tol);
  }
  // time(N) = line of the first run + Σ over later runs started by N of
  // (their line − the previous run's line): a flat sum (no nesting depth),
  // each term u + v·N gated by gte(N, start).
  const num = (v: number) => Number(v.toPrecision(12)).toString();
  const intercept = (r: TimeRun) => r.time - r.step * r.start;
  const first = runs[0];
  const terms = [`${num(intercept(first))}+${num(first.step)}*N`];
  for (let s = 1; s < runs.length; s++) {
    const u = intercept(runs[s]) - intercept(runs[s - 1]);
    const v = runs[s].step - runs[s - 1].step;
    terms.push(`gte(N\\,${runs[s].start})*(${num(u)}+${num(v)}*N)`);
  }
  return terms.join("+");
}
