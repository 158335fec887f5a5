/**
 * Private helpers of the `dtw` aligner: time lookups on timelines and the
 * banded Viterbi DP itself.
 *
 * The DP lives here (not in the plugin) so `bench/dtw_bench.ts` can time it on
 * precomputed band costs without the cost model in the loop.
 *
 * @module
 */

/**
 * Median frame duration of a timeline in seconds.
 *
 * The median (not the mean or `1 / fps`) because variable-frame-rate streams
 * have occasional long gaps that should not skew the typical step; `fps` is
 * only the fallback when there are fewer than two frames.
 */
export function medianStep(
  times: Float64Array,
  count: number,
  fps: number,
): number {
  const fallback = fps > 0 ? 1 / fps : 1 / 25;
  if (count < 2) return fallback;
  // Sampling at most ~4k differences keeps this O(1)-ish on hour-long inputs
  // while still seeing every region of the stream.
  const stride = Math.max(1, Math.floor((count - 1) / 4096));
  const diffs: number[] = [];
  for (let k = 1; k < count; k += stride) {
    const d = times[k] - times[k - 1];
    if (d > 0 && Number.isFinite(d)) diffs.push(d);
  }
  if (diffs.length === 0) return fallback;
  diffs.sort((a, b) => a - b);
  return diffs[diffs.length >> 1];
}

/** The banded DP problem: one band of bg indices per fg frame (row). */
export interface BandProblem {
  /** Number of rows (fg frames). */
  readonly rows: number;
  /** Row stride of `costs` (≥ the widest band, normally 2w + 1). */
  readonly stride: number;
  /** First bg index of each row's band; non-decreasing. */
  readonly lo: Int32Array;
  /** Last bg index of each row's band (inclusive); non-decreasing, ≥ lo. */
  readonly hi: Int32Array;
  /** Cost of (row i, bg lo[i] + k) at `i * stride + k`. */
  readonly costs: Float32Array;
  /** Expected bg step e_i into row i (integer, ≥ 0); entry 0 is unused. */
  readonly expected: Int32Array;
  /** Steps allowed beyond e_i (so the max step of row i is e_i + extraSteps). */
  readonly extraSteps: number;
  /** Penalty per bg frame of deviation from the expected step. */
  readonly lambda: number;
}

/** Work done by {@link solveBand}. */
export interface BandStats {
  /** DP states evaluated (one per (row, bg index) in the bands). */
  readonly cells: number;
  /** Predecessor transitions evaluated (one per (row, bg index, step)). */
  readonly transitions: number;
  /** Total cost of the best path. */
  readonly total: number;
}

/**
 * Viterbi over the band: finds the non-decreasing path minimising
 * Σ cost(i, j_i) + λ·|j_i − j_{i−1} − e_i| with steps in [0, e_i + extra],
 * open at both ends, and writes it into `path` (length `rows`).
 *
 * Memory is two rolling Float64 rows plus one Uint8 backpointer (the step)
 * per cell, i.e. O(rows · stride), never O(n · m).
 */
export function solveBand(p: BandProblem, path: Int32Array): BandStats {
  const { rows, stride, lo, hi, costs, expected, extraSteps, lambda } = p;
  if (rows === 0) return { cells: 0, transitions: 0, total: 0 };
  let maxK = 0;
  for (let i = 1; i < rows; i++) {
    const k = expected[i] + extraSteps;
    if (k > maxK) maxK = k;
  }
  // Steps fit a byte except after huge VFR gaps; those rare cells keep their
  // step in a sparse map behind the marker 255.
  const back = new Uint8Array(rows * stride);
  let bigSteps: Map<number, number> | undefined;
  const pen = new Float64Array(maxK + 1);
  let prev = new Float64Array(stride);
  let cur = new Float64Array(stride);
  // Rows that no band transition can reach (only possible when a VFR gap
  // makes the band jump further than the max step) restart from the previous
  // row's best cell; kept sparse because they are rare.
  let restarts: Map<number, number> | undefined;

  // Open begin: any cell of row 0 can start the path.
  for (let k = 0; k <= hi[0] - lo[0]; k++) prev[k] = costs[k];
  let cells = hi[0] - lo[0] + 1;
  let transitions = 0;

  for (let i = 1; i < rows; i++) {
    const rlo = lo[i];
    const rhi = hi[i];
    const plo = lo[i - 1];
    const phi = hi[i - 1];
    const e = expected[i];
    const K = e + extraSteps;
    for (let s = 0; s <= K; s++) pen[s] = lambda * (s < e ? e - s : s - e);
    const base = i * stride - rlo;
    // Interior cells see every step 0..K inside the previous band: the hot
    // loop runs there without clamping. Edge cells clamp the step range.
    let jA = plo + K;
    if (jA < rlo) jA = rlo;
    let jB = phi;
    if (jB > rhi) jB = rhi;
    if (K > 254 || jB < jA) {
      jA = rhi + 1;
      jB = rhi;
    }
    for (let j = rlo; j <= rhi; j++) {
      if (j === jA) {
        // Hot loop: one (i, j) cell = K + 1 transitions.
        for (; j <= jB; j++) {
          const k = j - plo;
          let best = prev[k] + pen[0];
          let bestS = 0;
          // Unrolled by two (halves the loop overhead, ~10%); ties keep the
          // smaller step exactly like the plain loop.
          let s = 1;
          for (; s < K; s += 2) {
            const v1 = prev[k - s] + pen[s];
            const v2 = prev[k - s - 1] + pen[s + 1];
            if (v1 < best || v2 < best) {
              if (v1 <= v2) {
                best = v1;
                bestS = s;
              } else {
                best = v2;
                bestS = s + 1;
              }
            }
          }
          if (s === K) {
            const v = prev[k - s] + pen[s];
            if (v < best) {
              best = v;
              bestS = s;
            }
          }
          cur[j - rlo] = best + costs[base + j];
          back[base + j] = bestS;
        }
        transitions += (jB - jA + 1) * (K + 1);
        if (j > rhi) break;
      }
      let sMin = j - phi;
      if (sMin < 0) sMin = 0;
      let sMax = j - plo;
      if (sMax > K) sMax = K;
      let best = Infinity;
      let bestS = 0;
      for (let s = sMin, k = j - sMin - plo; s <= sMax; s++, k--) {
        const v = prev[k] + pen[s];
        if (v < best) {
          best = v;
          bestS = s;
        }
      }
      if (sMax >= sMin) transitions += sMax - sMin + 1;
      cur[j - rlo] = best + costs[base + j];
      if (bestS < 255) back[base + j] = bestS;
      else {
        back[base + j] = 255;
        (bigSteps ??= new Map()).set(base + j, bestS);
      }
    }
    cells += rhi - rlo + 1;
    if (!(cur[0] < Infinity) && !(cur[rhi - rlo] < Infinity)) {
      // Cheap test first (a reachable end cell settles it), then a scan.
      let reachable = false;
      for (let k = 0; k <= rhi - rlo && !reachable; k++) {
        reachable = cur[k] < Infinity;
      }
      if (!reachable) {
        let arg = 0;
        let min = Infinity;
        for (let k = 0; k <= phi - plo; k++) {
          if (prev[k] < min) {
            min = prev[k];
            arg = k;
          }
        }
        const from = plo + arg;
        (restarts ??= new Map()).set(i, from);
        for (let j = rlo; j <= rhi; j++) {
          const d = j - from - e;
          cur[j - rlo] = min + lambda * (d < 0 ? -d : d) + costs[base + j];
        }
      }
    }
    const t = prev;
    prev = cur;
    cur = t;
  }

  // Open end: the best cell of the last row.
  const last = rows - 1;
  let arg = 0;
  let total = Infinity;
  for (let k = 0; k <= hi[last] - lo[last]; k++) {
    if (prev[k] < total) {
      total = prev[k];
      arg = k;
    }
  }
  let j = lo[last] + arg;
  path[last] = j;
  for (let i = last; i > 0; i--) {
    const from = restarts?.get(i);
    if (from !== undefined) j = from;
    else {
      const cell = i * stride + (j - lo[i]);
      const step = back[cell];
      j -= step === 255 ? bigSteps!.get(cell)! : step;
    }
    path[i - 1] = j;
  }
  return { cells, transitions, total };
}
