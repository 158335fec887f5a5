/**
 * Which parts of the fg have no match in the bg: stretches of consecutive fg
 * frames whose moment lies outside the bg (a fg that starts before or ends
 * after it), or that fail a pixel check. Users are told the fg seconds
 * concerned instead of getting a silent wrong overlay.
 *
 * @module
 */

/** A run of fg frames without a match. */
export interface UncoveredStretch {
  /** First fg frame of the run. */
  readonly start: number;
  /** Last fg frame of the run (inclusive). */
  readonly end: number;
  /** Presentation time of `start`, seconds from the fg's first frame. */
  readonly startSeconds: number;
  /** Presentation time just after `end` (its time plus one frame). */
  readonly endSeconds: number;
}

/**
 * fg frames whose moment (fg time + offset) falls outside the bg's frames,
 * by more than half a bg frame: there is no bg frame showing them. Fingerprint
 * similarity cannot tell this (neighbouring moments look alike); time can.
 */
export function outsideBg(
  fgTimes: Float64Array,
  offsetSeconds: number,
  bgTimes: Float64Array,
  bgFps: number,
): Uint8Array {
  const half = 0.5 / bgFps;
  const first = bgTimes[0] - half, last = bgTimes[bgTimes.length - 1] + half;
  return Uint8Array.from(fgTimes, (t) => {
    const moment = t + offsetSeconds;
    return moment < first || moment > last ? 1 : 0;
  });
}

/**
 * Runs of at least `minFrames` flagged frames. Shorter runs (a flash, a cut
 * frame) are not reported: they are noise to a user asking "which seconds
 * are missing?".
 */
export function uncoveredStretches(
  missing: Uint8Array,
  times: Float64Array,
  minFrames: number,
): UncoveredStretch[] {
  const n = missing.length;
  const out: UncoveredStretch[] = [];
  const step = n > 1 ? (times[n - 1] - times[0]) / (n - 1) : 0;
  let i = 0;
  while (i < n) {
    if (!missing[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && missing[j + 1]) j++;
    if (j - i + 1 >= minFrames) {
      out.push({
        start: i,
        end: j,
        startSeconds: times[i],
        endSeconds: j + 1 < n ? times[j + 1] : times[j] + step,
      });
    }
    i = j + 1;
  }
  return out;
}

/** "0.00–1.20 s, 7.40–8.00 s" for messages. */
export function describeStretches(
  stretches: readonly UncoveredStretch[],
): string {
  return stretches.map((s) =>
    `${s.startSeconds.toFixed(2)}–${s.endSeconds.toFixed(2)} s`
  ).join(", ");
}
