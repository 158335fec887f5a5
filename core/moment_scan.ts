/**
 * The space-time search of the exact placement, along the moments.
 *
 * Along a camera pan, "a few pixels over at another moment" shows almost
 * the same picture as the truth: only what moves against the pan (a
 * subject, parallax) tells them apart, by a few thousandths of NCC. A
 * search over every position of every frame in a window must prune at
 * coarse pyramid levels, where those few thousandths vanish; on a slow pan
 * (0.2 px per frame) it kept a crop 2 px off at a moment 8 frames early
 * (NCC 0.9927) over the truth (0.9970) even with 128 candidates.
 *
 * This scan instead visits every moment in turn at full resolution,
 * following the position from one moment to the next (±`radius` px, so a
 * pan of up to `radius` px per frame is followed), and scores each moment
 * at its best position. Every moment is scored, so the answer is the best
 * moment, not the first local maximum a walk would stop at (scores come in
 * waves as a slow pan's sub-pixel phase turns). Pyramid levels cannot
 * stand in: a crop at an odd offset sits half a pixel off the half-
 * resolution grid, and there the truth scored lowest of all moments.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";
import { nccMap, prepareTemplate } from "./ncc.ts";

/** What {@link scanMoments} searches. */
export interface MomentScanInput {
  /** fg frames of one group of consecutive picks (same size). */
  readonly fg: readonly GrayImage[];
  /** bg frames of the window, in order. */
  readonly bg: readonly GrayImage[];
  /** Per fg frame: the index in `bg` of its matched bg frame (moment Δ = 0). */
  readonly at: readonly number[];
  /** Top-left of the fg at Δ = 0, in the frames' pixels. */
  readonly x: number;
  /** Top-left of the fg at Δ = 0. */
  readonly y: number;
  /** Positions searched around the followed one (default 2). */
  readonly radius?: number;
}

/** The best moment shift and position, with its mean NCC over the group. */
export interface MomentScanResult {
  /** bg frames to add to every pick's match. */
  readonly delta: number;
  /** Top-left x at that moment. */
  readonly x: number;
  /** Top-left y at that moment. */
  readonly y: number;
  /** Mean NCC of the group's pairs there. */
  readonly score: number;
}

/** Scans every moment shift the window allows; see the module doc. */
export function scanMoments(
  input: MomentScanInput,
): MomentScanResult | undefined {
  const { fg, bg, at } = input;
  if (fg.length === 0 || fg.length !== at.length || bg.length === 0) {
    return undefined;
  }
  const radius = Math.max(1, Math.floor(input.radius ?? 2));
  const lo = -Math.min(...at), hi = bg.length - 1 - Math.max(...at);
  if (lo > hi) return undefined;
  const templates = fg.map(prepareTemplate);
  const side = 2 * radius + 1;
  const sum = new Float32Array(side * side);
  const map = new Float32Array(side * side);
  /** Best mean score within ±radius of (cx, cy) at moment shift `delta`. */
  const bestNear = (delta: number, cx: number, cy: number) => {
    sum.fill(0);
    for (let k = 0; k < fg.length; k++) {
      nccMap(
        bg[at[k] + delta],
        templates[k],
        cx - radius,
        cy - radius,
        cx + radius,
        cy + radius,
        { out: map },
      );
      for (let q = 0; q < sum.length; q++) sum[q] += map[q];
    }
    let b = -1, bs = -Infinity;
    for (let q = 0; q < sum.length; q++) {
      // NaN marks positions where the fg leaves the frame.
      if (sum[q] > bs) {
        bs = sum[q];
        b = q;
      }
    }
    if (b < 0) return undefined;
    return {
      x: cx - radius + (b % side),
      y: cy - radius + Math.floor(b / side),
      score: bs / fg.length,
    };
  };
  let best: MomentScanResult | undefined;
  for (const dir of [1, -1]) {
    let cx = Math.round(input.x), cy = Math.round(input.y);
    for (let d = dir > 0 ? 0 : -1; d >= lo && d <= hi; d += dir) {
      const b = bestNear(d, cx, cy);
      if (!b) break;
      if (b.score > (best?.score ?? -Infinity)) best = { delta: d, ...b };
      cx = b.x;
      cy = b.y;
    }
  }
  return best;
}
